import Foundation
import Logging
import SecIRCAPI
import SecIRCCore
import SecIRCCrypto
import SecIRCRelay
import Testing

/// Relays composed in this process with `udp.workers: 2` (peels on a pool of threads), over real
/// UDP: a packet is forwarded relay to relay and delivered; the same packet sent again from
/// another client socket (another source port) is refused as a replay; after a rotation through
/// the admin API, packets for the new key and for the previous one (in its grace window) peel.
@Suite struct RelayWorkersTests {
    @Test func twoWorkerRelaysForwardRefuseReplaysAndRotateKeys() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("secirc-workers-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        var relays: [RelayNode] = []
        func start(_ name: String, ring: String?) throws -> RelayNode {
            // No relay cover: the test counts the packets a forwards.
            var environment = ["SECIRC_SERVER_UDP_WORKERS": "2", "SECIRC_SERVER_DIRECTORY_PERIOD_SECONDS": "1",
                               "SECIRC_SECURITY_NETWORK_RELAY_COVER_RATE_PER_S": "0"]
            if let ring { environment["SECIRC_SECURITY_FIRST_RING_MEMBERS"] = ring }
            let settings = try RelaySettings.load(serverPath: nil, securityPath: nil, dataDirectory: root + "/" + name,
                                                  udpListen: "127.0.0.1:0", httpListen: "127.0.0.1:0", environment: environment)
            #expect(settings.server.udp.effectiveWorkers == 2)
            let node = try RelayNode(settings: settings, logLevel: LogLevelControl(.warning), logger: Logger(label: name))
            try node.start()
            relays.append(node)
            return node
        }
        do {
            let a = try start("a", ring: nil)
            try await eventually("relay a signs a directory") { a.state.directory != nil }
            let ring = "[{public_key: \(a.identity.signingKey.publicKey.rawValue.hex), udp: '\(a.udpAddress)', http: 'http://127.0.0.1:\(a.httpPort)'}]"
            let b = try start("b", ring: ring)
            try await eventually("both relays list both") { relays.allSatisfy { $0.state.directory?.descriptors.count == 2 } }
            func descriptor(_ node: RelayNode) throws -> RelayDescriptor {
                try Unverified<RelayDescriptor>(try #require(node.state.descriptor)).verified()
            }
            var rng = SystemRandom()
            let mailboxKey = SigningPrivateKey(using: &rng)
            let mailbox = mailboxKey.publicKey.id.rawValue
            let (da, db) = (try descriptor(a), try descriptor(b))
            let one = try LinkClient(to: da), another = try LinkClient(to: da)
            #expect(one.transport.localAddress.port != another.transport.localAddress.port)

            // Forwarded a → b, delivered at b; the same packet from another source port refused.
            let packet = try LinkClient.packet(path: [da, db], mailbox: mailbox, body: Array("via a".utf8))
            try one.send(.sphinx(packet))
            try await eventually("b holds the message") { b.metrics.snapshot.delivered == 1 }
            try another.send(.sphinx(packet))
            try await eventually("a refuses the replay") { a.metrics.snapshot.sphinxRejects[.replay] == 1 }
            #expect(a.metrics.snapshot.forwarded == 1)

            // Rotation, in one place: new-key and previous-key packets peel; a replay of a
            // new-key packet from the other socket is refused.
            let oldEpoch = da.onionKeys[0].epoch
            let token = try String(contentsOfFile: root + "/a/admin.token", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            let admin = try APIClient(baseURL: "http://127.0.0.1:\(a.httpPort)", token: token, timeout: 10)
            _ = try admin.call("POST", "/v1/admin/keys/rotate")
            try await eventually("a publishes its new key") { try descriptor(a).onionKeys[0].epoch == oldEpoch &+ 1 }
            let rotated = try descriptor(a)
            let fresh = try LinkClient.packet(path: [rotated], mailbox: mailbox, body: Array("new key".utf8))
            let previous = try LinkClient.packet(path: [da], mailbox: mailbox, body: Array("old key".utf8))
            for frame in [fresh, previous] { try one.send(.sphinx(frame)) }
            try another.send(.sphinx(fresh))
            try await eventually("a delivers both and refuses the second replay") {
                let c = a.metrics.snapshot
                return c.delivered == 2 && c.sphinxRejects[.replay] == 2
            }
            #expect(a.metrics.snapshot.peelsOut == 0)
            let mail = try one.fetch(mailbox: mailboxKey)
            #expect(Set(mail.messages.map { String(decoding: $0.1.prefix(7), as: UTF8.self) }) == ["new key", "old key"])
        } catch {
            for relay in relays { relay.shutdown(); await relay.waitUntilStopped() }
            throw error
        }
        for relay in relays {
            relay.shutdown()
            await relay.waitUntilStopped()
        }
    }
}
