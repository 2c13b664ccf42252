import Foundation
import SecIRCLauncher
import Testing

/// `secirc devnet` as the README runs it: three relays and two client daemons as real
/// processes, alice and bob introduced, one message each way.
@Suite(.serialized) struct DevnetTests {
    @Test func smokeRunDeliversBothWaysAndWritesTheManifest() async throws {
        let dir = try Processes.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let devnet = try ChildProcess(name: "secirc devnet", executable: Processes.product("secirc"),
                                      arguments: ["devnet", "--smoke", "--dir", dir + "/net", "--bin-dir", Processes.productsDirectory.path],
                                      environment: Processes.environment(), logPath: dir + "/secirc.log")
        defer { devnet.stop(timeout: 30) } // SIGTERM: it stops its own children first
        // devnet bounds every stage itself (60 s each, the smoke test 60 s); this bounds the whole.
        try await eventually("secirc devnet --smoke to finish", within: 400, interval: .milliseconds(200)) { !devnet.isRunning }
        let text = devnet.log
        #expect(devnet.termination == .exited(0), "secirc devnet --smoke:\n\(text)")
        #expect(text.contains("devnet: smoke test passed"))

        let manifest = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/net/devnet.json"))) as? [String: Any])
        let relays = try #require(manifest["relays"] as? [[String: Any]])
        #expect(relays.map { $0["name"] as? String } == ["a", "b", "c"])
        for relay in relays {
            for key in ["http", "udp", "data_dir", "admin_token_file"] { #expect(relay[key] is String, "relay \(key)") }
        }
        let clients = try #require(manifest["clients"] as? [String: [String: Any]])
        #expect(Set(clients.keys) == ["alice", "bob"])
        for (name, client) in clients {
            for key in ["api", "token_file", "data_dir"] { #expect(client[key] is String, "\(name) \(key)") }
            #expect(FileManager.default.fileExists(atPath: client["token_file"] as? String ?? ""), "\(name)'s token file")
        }
        for name in ["a", "b", "c", "alice", "bob"] {
            #expect(FileManager.default.fileExists(atPath: dir + "/net/\(name).log"), "\(name).log")
        }
    }

    /// `secirc devnet --ring 3`: a, b and c vote each period, 2 of 3 sign; alice and bob message.
    @Test func aRingOfThreeRunsTheSmokeTest() async throws {
        let dir = try Processes.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let devnet = try ChildProcess(name: "secirc devnet", executable: Processes.product("secirc"),
                                      arguments: ["devnet", "--ring", "3", "--smoke", "--dir", dir + "/net", "--bin-dir", Processes.productsDirectory.path],
                                      environment: Processes.environment(), logPath: dir + "/secirc.log")
        defer { devnet.stop(timeout: 30) }
        try await eventually("secirc devnet --ring 3 --smoke to finish", within: 400, interval: .milliseconds(200)) { !devnet.isRunning }
        let text = devnet.log
        #expect(devnet.termination == .exited(0) && text.contains("devnet: smoke test passed"), "secirc devnet --ring 3 --smoke:\n\(text)")
        #expect(text.contains("first ring (2 of 3)") && text.contains("/v1/ring/status"))
        let manifest = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/net/devnet.json"))) as? [String: Any])
        let relays = try #require(manifest["relays"] as? [[String: Any]])
        #expect(relays.map { $0["first_ring"] as? Bool } == [true, true, true])
    }

    @Test func missingDaemonBinaryIsReportedWithoutStartingAnything() throws {
        let dir = try Processes.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let result = try Processes.run("secirc", ["devnet", "--dir", dir + "/net", "--bin-dir", dir])
        #expect(result.status == 1)
        #expect(result.stderr.contains("\(dir)/secirc-relay not found"), "\(result.stderr)")
    }

    @Test func cliSaysTheDaemonIsNotRunning() throws {
        let port = try FreePort.tcp()
        let result = try Processes.run("secirc", ["--api", "http://127.0.0.1:\(port)", "contacts"])
        #expect(result.status == 1)
        #expect(result.stderr == "secirc: the client daemon is not running at http://127.0.0.1:\(port) (start it with secirc-client, or secirc devnet)\n")
    }
}
