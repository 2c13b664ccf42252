import Foundation
import Testing

/// `secirc-relay` as an operator runs it.
@Suite struct RelayCommandTests {
    @Test func firstStartCreatesIdentityAndPrintsID() throws {
        let dir = try Processes.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let first = try Processes.run("secirc-relay", ["--data-dir", dir + "/data", "--udp-listen", "127.0.0.1:0"])
        #expect(first.status == 0, "\(first.stderr)")
        let idLine = try #require(first.stdout.split(separator: "\n").first { $0.hasPrefix("relay id ") })
        let id = idLine.dropFirst("relay id ".count)
        #expect(id.count == 64 && id.allSatisfy(\.isHexDigit))
        #expect(first.stdout.contains("udp listen 127.0.0.1:0"))
        let attributes = try FileManager.default.attributesOfItem(atPath: dir + "/data/identity.key")
        #expect((attributes[.posixPermissions] as? Int) == 0o600)

        let second = try Processes.run("secirc-relay", ["--data-dir", dir + "/data"])
        #expect(second.status == 0)
        #expect(second.stdout.contains(String(idLine)))
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

    @Test func shippedExampleConfigsStartTheRelay() throws {
        let dir = try Processes.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let result = try Processes.run("secirc-relay", [
            "--config", root.appendingPathComponent("config/server.yaml").path,
            "--security", root.appendingPathComponent("config/security.yaml").path,
            "--data-dir", dir,
        ])
        #expect(result.status == 0, "\(result.stderr)")
    }
}
