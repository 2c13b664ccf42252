import Foundation
import Logging
import SecIRCAPI
import SecIRCClient
import SecIRCRelay
import SecIRCRuntime
import Testing

/// A client saves each directory it installs and, restarted while its only bootstrap relay is
/// down, has the directory and its relays at once (`GET /v1/network`: channel `cache`).
@Suite struct DirectoryCacheClientTests {
    @Test func aRestartedClientWithEverySourceDownStillHasTheDirectory() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("secirc-client-cache-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let relaySettings = try RelaySettings.load(serverPath: nil, securityPath: nil, dataDirectory: root + "/a", udpListen: "127.0.0.1:0",
                                                   httpListen: "127.0.0.1:0", environment: ["SECIRC_SERVER_DIRECTORY_PERIOD_SECONDS": "60"])
        let relay = try RelayNode(settings: relaySettings, logLevel: LogLevelControl(.warning), logger: Logger(label: "a"))
        try relay.start()
        try await eventually("relay a signs a directory") { relay.state.directory != nil }
        let ring = "[{public_key: \(relay.identity.signingKey.publicKey.rawValue.hex), udp: '\(relay.udpAddress)', "
            + "http: 'http://127.0.0.1:\(relay.httpPort)'}]"
        let settings = try ClientSettings.load(
            configPath: nil, securityPath: nil, dataDirectory: root + "/alice", apiListen: "127.0.0.1:0",
            environment: ["SECIRC_CLIENT_NETWORK_BOOTSTRAP_URLS": "['http://127.0.0.1:\(relay.httpPort)']",
                          "SECIRC_CLIENT_NETWORK_COVER_TRAFFIC": "off", "SECIRC_SECURITY_FIRST_RING_MEMBERS": ring])
        var client = try ClientNode(settings: settings, logger: Logger(label: "alice"))
        try client.start()
        let cache = DirectoryCacheFile(dataDirectory: root + "/alice")
        try await eventually("the client's directory saved") {
            client.network.snapshot.directory != nil && (try? cache.load())?.bodyHash == relay.state.directory?.document.bodyHash
        }
        let serial = try #require(client.network.snapshot.directory?.serial)
        client.shutdown()
        relay.shutdown()
        await relay.waitUntilStopped()

        client = try ClientNode(settings: settings, logger: Logger(label: "alice"))
        try client.start()
        defer { client.shutdown() }
        try await eventually("the cached directory in use", within: 10) { client.network.snapshot.directory != nil }
        #expect(client.network.snapshot.channel == .cache)
        #expect(client.network.snapshot.directory?.serial == serial)
        #expect(client.network.snapshot.descriptors.count == 1)
        let token = try String(contentsOfFile: client.tokenPath, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let api = try APIClient(baseURL: "http://127.0.0.1:\(client.apiPort)", token: token, timeout: 10)
        let status = try api.decode(NetworkStatus.self, "/v1/network")
        #expect(status.directory?.channel == "cache")
        #expect(status.directory?.relays == 1)
    }
}
