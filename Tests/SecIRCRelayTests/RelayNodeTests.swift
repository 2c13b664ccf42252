import Foundation
import Logging
import SecIRCConfig
import SecIRCCore
import SecIRCCrypto
import SecIRCRelay
import Testing

@Suite struct RelayNodeTests {
    /// The descriptor a relay publishes uses the advertised addresses, not the listen ones; an
    /// advertised host name is resolved once at start (descriptors carry numeric addresses only).
    @Test func descriptorAdvertisesConfiguredAddresses() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("secirc-node-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let settings = try RelaySettings.load(
            serverPath: nil, securityPath: nil, dataDirectory: dir, udpListen: "127.0.0.1:0", httpListen: "127.0.0.1:0",
            environment: ["SECIRC_SERVER_UDP_ADVERTISE": "localhost:7000",
                          "SECIRC_SERVER_HTTP_PUBLIC_URL": "https://relay.example:7001"])
        let node = try RelayNode(settings: settings, logLevel: LogLevelControl(.warning), logger: Logger(label: "test"))
        try node.start()
        // The loop signs the first descriptor in its first turn.
        let deadline = ContinuousClock.now.advanced(by: .seconds(10))
        while node.state.descriptor == nil, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
        let document = try #require(node.state.descriptor)
        let descriptor = try Unverified<RelayDescriptor>(document).verified()
        #expect(["127.0.0.1:7000", "[::1]:7000"].contains(descriptor.udp))
        #expect(descriptor.http == "https://relay.example:7001")
        #expect(descriptor.id == node.identity.id)
        #expect(descriptor.onionKeys.count == 2)
        #expect(descriptor.flags.contains("first_ring"))
        node.shutdown()
        await node.waitUntilStopped()
    }

    @Test func logLevelChangesReachHandlers() {
        let control = LogLevelControl(.info)
        let handler = control.handler(label: "x")
        #expect(handler.logLevel == .info)
        control.level = .debug
        #expect(handler.logLevel == .debug)
        var copy = handler
        copy.logLevel = .error
        #expect(control.level == .error)
    }
}
