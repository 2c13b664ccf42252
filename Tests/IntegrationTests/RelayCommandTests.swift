import Foundation
import SecIRCLauncher
import Testing

/// `secirc-relay` as an operator runs it.
@Suite struct RelayCommandTests {
    @Test func firstStartCreatesIdentityAndPrintsID() async throws {
        let dir = try Processes.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        func runUntilID() async throws -> String {
            let relay = try ChildProcess(
                name: "secirc-relay", executable: Processes.product("secirc-relay"),
                arguments: ["--data-dir", dir + "/data", "--udp-listen", "127.0.0.1:0", "--http-listen", "127.0.0.1:0"],
                environment: Processes.environment(), logPath: dir + "/out.log", errorLogPath: "/dev/null")
            defer { relay.stop(timeout: 15) }
            var id: String?
            try await eventually("relay id printed") {
                id = relay.banner("relay id ")
                return id != nil
            }
            #expect(relay.stop(timeout: 15) == .exited(0))
            return "relay id " + (id ?? "")
        }
        let first = try await runUntilID()
        let id = first.dropFirst("relay id ".count)
        #expect(id.count == 64 && id.allSatisfy(\.isHexDigit))
        let attributes = try FileManager.default.attributesOfItem(atPath: dir + "/data/identity.key")
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        for file in ["link.key", "admin.token"] {
            let mode = try FileManager.default.attributesOfItem(atPath: dir + "/data/" + file)[.posixPermissions] as? Int
            #expect(mode == 0o600, "\(file)")
        }
        #expect(try await runUntilID() == first, "the same identity on the next start")
    }

    @Test func badConfigFileGivesKeyPathAndNonZeroExit() throws {
        let dir = try Processes.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = dir + "/server.yaml"
        try "udp:\n  listen: \"abc\"\n".write(toFile: file, atomically: true, encoding: .utf8)
        let result = try Processes.run("secirc-relay", ["--config", file, "--data-dir", dir + "/data"])
        #expect(result.status == 78)
        #expect(result.stderr.contains("\(file): udp.listen: \"abc\" is not host:port"))
        #expect(!FileManager.default.fileExists(atPath: dir + "/data"), "nothing is created on a refused configuration")
    }

    @Test func badEnvironmentAndFlagsAreRefused() throws {
        let dir = try Processes.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let env = try Processes.run("secirc-relay", ["--data-dir", dir], environment: ["SECIRC_SERVER_UDP_BATCH": "0"])
        #expect(env.status == 78)
        #expect(env.stderr.contains("SECIRC_SERVER_UDP_BATCH (server.yaml (defaults): udp.batch): 0 is outside 1...1024"))

        let flag = try Processes.run("secirc-relay", ["--data-dir", dir, "--http-listen", "localhost"])
        #expect(flag.status == 78)
        #expect(flag.stderr.contains("--http-listen: \"localhost\" is not host:port"))
    }

    @Test func shippedExampleConfigsAreAccepted() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        // The relay refuses to start only for configuration reasons with status 78; an address
        // in use (6690 taken here) is status 1, after the configuration was accepted.
        let blocker = try UDPSocketHolder(port: 6690)
        defer { blocker.close() }
        let dir = try Processes.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let result = try Processes.run("secirc-relay", [
            "--config", root.appendingPathComponent("config/server.yaml").path,
            "--security", root.appendingPathComponent("config/security.yaml").path,
            "--data-dir", dir,
        ])
        #expect(result.status == 1, "\(result.stderr)")
        #expect(result.stderr.contains("cannot start"))
    }
}

/// Holds a UDP port so a relay's bind fails.
struct UDPSocketHolder {
    let fd: Int32
    init(port: UInt16) throws {
        fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = INADDR_ANY
        address.sin_port = port.bigEndian
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        // Another process may hold the port already: either way the relay cannot bind it.
        _ = bound
    }
    func close() { Glibc.close(fd) }
}
