import Foundation
import SecIRCLauncher
import Testing

/// `secirc devnet` as the README runs it: five relays (a first ring of three) serving HTTPS
/// with pinned self-signed keys, and two client daemons as real processes, alice and bob
/// introduced, one message each way; and the single-signer layout over plain HTTP.
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
        #expect(text.contains("read by bob") && text.contains("read by carol"), "the group post reached bob and carol")

        let manifest = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/net/devnet.json"))) as? [String: Any])
        let relays = try #require(manifest["relays"] as? [[String: Any]])
        #expect(relays.map { $0["name"] as? String } == ["a", "b", "c", "d", "e"])
        for relay in relays {
            for key in ["http", "udp", "data_dir", "admin_token_file"] { #expect(relay[key] is String, "relay \(key)") }
            // HTTPS, each URL pinning the relay's key.
            let pin = try #require(relay["tls_spki_pin"] as? String)
            #expect((relay["http"] as? String)?.hasPrefix("https://127.0.0.1:") == true && pin.count == 44)
            #expect(relay["bootstrap_url"] as? String == (relay["http"] as? String ?? "") + "/#spki=" + pin)
        }
        #expect(relays.map { $0["first_ring"] as? Bool } == [true, true, true, false, false])
        let ring = try #require(manifest["ring"] as? [String: Any])
        #expect(ring["members"] as? [String] == ["a", "b", "c"] && ring["threshold"] as? Int == 2)
        #expect(text.contains("first ring (2 of 3)") && text.contains("/v1/ring/status") && text.contains("--pinnedpubkey"))
        let clients = try #require(manifest["clients"] as? [String: [String: Any]])
        #expect(Set(clients.keys) == ["alice", "bob", "carol"])
        for (name, client) in clients {
            for key in ["api", "token_file", "data_dir"] { #expect(client[key] is String, "\(name) \(key)") }
            #expect(FileManager.default.fileExists(atPath: client["token_file"] as? String ?? ""), "\(name)'s token file")
        }
        for name in ["a", "b", "c", "d", "e", "alice", "bob", "carol"] {
            #expect(FileManager.default.fileExists(atPath: dir + "/net/\(name).log"), "\(name).log")
        }
    }

    /// `secirc devnet --ring 1 --plain-http`: a signs alone, over plain HTTP; alice and bob message.
    @Test func aSingleSignerOverPlainHTTPRunsTheSmokeTest() async throws {
        let dir = try Processes.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let devnet = try ChildProcess(name: "secirc devnet", executable: Processes.product("secirc"),
                                      arguments: ["devnet", "--ring", "1", "--plain-http", "--smoke", "--dir", dir + "/net",
                                                  "--bin-dir", Processes.productsDirectory.path],
                                      environment: Processes.environment(), logPath: dir + "/secirc.log")
        defer { devnet.stop(timeout: 30) }
        try await eventually("secirc devnet --ring 1 --plain-http --smoke to finish", within: 400, interval: .milliseconds(200)) {
            !devnet.isRunning
        }
        let text = devnet.log
        #expect(devnet.termination == .exited(0) && text.contains("devnet: smoke test passed"), "secirc devnet --ring 1 --plain-http --smoke:\n\(text)")
        let manifest = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/net/devnet.json"))) as? [String: Any])
        let relays = try #require(manifest["relays"] as? [[String: Any]])
        #expect(relays.map { $0["first_ring"] as? Bool } == [true, false, false, false, false])
        #expect(relays.allSatisfy { ($0["http"] as? String)?.hasPrefix("http://") == true && $0["tls_spki_pin"] as? String == "" })
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
