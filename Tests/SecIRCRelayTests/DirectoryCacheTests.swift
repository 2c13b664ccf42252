import Foundation
import Logging
import SecIRCConfig
import SecIRCCore
import SecIRCCrypto
import SecIRCNode
import SecIRCRelay
import SecIRCRuntime
import Testing

/// A relay saves each directory it installs (`directory-cache.json`, 0600) and, restarted while
/// every configured source is down, serves it at once with its relay list (channel `cache`).
@Suite(.serialized) struct DirectoryCacheTests {
    static func waitFor(_ what: String, seconds: Int = 20, _ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now.advanced(by: .seconds(seconds))
        while !condition() {
            guard ContinuousClock.now < deadline else {
                Issue.record("timed out waiting for \(what)")
                throw CancellationError()
            }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    static func start(_ directory: String, environment: [String: String]) throws -> RelayNode {
        let settings = try RelaySettings.load(serverPath: nil, securityPath: nil, dataDirectory: directory, udpListen: "127.0.0.1:0",
                                              httpListen: "127.0.0.1:0", environment: environment)
        let node = try RelayNode(settings: settings, logLevel: LogLevelControl(.warning), logger: Logger(label: "cache-test"))
        try node.start()
        return node
    }

    static func stop(_ node: RelayNode) async {
        node.shutdown()
        await node.waitUntilStopped()
    }

    @Test func aRestartWithEverySourceDownStillHasTheDirectoryAndItsRelays() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("secirc-cache-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let base = ["SECIRC_SERVER_DIRECTORY_PERIOD_SECONDS": "60", "SECIRC_SECURITY_NETWORK_MEAN_DELAY_MS": "5"]
        let ring = try Self.start(root + "/a", environment: base)
        try await Self.waitFor("the first ring's directory") { ring.state.directory != nil }
        var environment = base
        environment["SECIRC_SECURITY_FIRST_RING_MEMBERS"] = "[{public_key: \(ring.identity.signingKey.publicKey.rawValue.hex), "
            + "udp: '\(ring.udpAddress)', http: 'http://127.0.0.1:\(ring.httpPort)'}]"
        var relay = try Self.start(root + "/b", environment: environment)
        try await Self.waitFor("relay b listed") { (relay.state.directory?.descriptors.count ?? 0) == 2 }
        let cache = DirectoryCacheFile(dataDirectory: root + "/b")
        try await Self.waitFor("the cache written") { (try? cache.load())?.bodyHash == relay.state.directory?.document.bodyHash }
        let mode = try #require(try FileManager.default.attributesOfItem(atPath: cache.path)[.posixPermissions] as? Int)
        #expect(mode == 0o600)
        let served = try #require(relay.state.directory)
        // The first ring keeps its own file, not a cache.
        #expect(!FileManager.default.fileExists(atPath: root + "/a/" + DirectoryCacheFile.fileName))

        await Self.stop(relay)
        await Self.stop(ring) // every configured source is now down
        relay = try Self.start(root + "/b", environment: environment)
        try await Self.waitFor("the cached directory served") { relay.state.directory != nil }
        let restored = try #require(relay.state.directory)
        #expect(restored.channel == .cache)
        #expect(restored.document == served.document)
        #expect(Set(restored.descriptors.map(\.id)) == Set(served.descriptors.map(\.id)))
        let relays = HTTPFetcher.exchange(FetchRequest(id: 1, method: .get, url: "http://127.0.0.1:\(relay.httpPort)/v1/relays"))
        #expect(relays.status == 200)
        let list = try #require(try JSONSerialization.jsonObject(with: Data(relays.body)) as? [String: Any])
        #expect((list["relays"] as? [Any])?.count == 2)
        let own = HTTPFetcher.exchange(FetchRequest(id: 2, method: .get, url: "http://127.0.0.1:\(relay.httpPort)/v1/relay"))
        let json = try #require(try JSONSerialization.jsonObject(with: Data(own.body)) as? [String: Any])
        #expect((json["directory_source"] as? [String: Any])?["channel"] as? String == "cache")
        await Self.stop(relay)
    }
}
