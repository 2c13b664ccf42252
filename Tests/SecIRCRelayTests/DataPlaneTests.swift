import Foundation
import Logging
import SecIRCCore
import SecIRCCrypto
import SecIRCRelay
import SecIRCTransport
import Testing

/// The data plane alone, over the in-memory transport: a client link, Sphinx packets in, counters out.
@Suite struct DataPlaneTests {
    static func now() -> UnixTime { UnixTime(nanoseconds: Int64(Date().timeIntervalSince1970 * 1e9)) }

    /// A running data plane, a client transport on the same in-memory network, and an
    /// established anonymous link from the client.
    final class Harness: @unchecked Sendable {
        // @unchecked: the client side is used by the test only; the data plane runs on its thread.
        let network = InMemoryNetwork()
        let relay: DataPlane
        let metrics = RelayMetrics()
        let client: InMemoryTransport
        let relayAddress: SocketAddress
        var session: LinkSession
        let linkKey: AgreementPrivateKey
        let relayID: ID

        /// A second data plane on the same network (a peer relay).
        static func peer(on network: InMemoryNetwork, host: String) throws -> (DataPlane, RelayMetrics, PeerInfo) {
            var rng = SystemRandom()
            let key = AgreementPrivateKey(using: &rng)
            let id = SigningPrivateKey(using: &rng).publicKey.id
            let address = try SocketAddress(host: host, port: 6690)
            let metrics = RelayMetrics()
            let plane = DataPlane(
                configuration: DataPlane.Configuration(
                    relayID: id, linkKey: key,
                    mailbox: MailboxStore.Limits(ttl: .seconds(60), maxMessagesPerMailbox: 10, maxMailboxes: 10, maxTotalBytes: 1 << 20),
                    keyPeriod: .seconds(3_600), keyGrace: .seconds(60)),
                transport: try network.bind(address), metrics: metrics, logger: Logger(label: "peer"),
                clock: { DataPlaneTests.now() }, keysChanged: { _ in })
            let thread = Thread { [plane] in plane.run() }
            thread.start()
            return (plane, metrics, PeerInfo(id: id, address: address, linkKey: key.publicKey))
        }

        init(handshakesPerSecondUnderLoad: Int = 500) throws {
            var rng = SystemRandom()
            linkKey = AgreementPrivateKey(using: &rng)
            relayID = SigningPrivateKey(using: &rng).publicKey.id
            relayAddress = try SocketAddress(host: "10.1.0.1", port: 6690)
            let transport = try network.bind(relayAddress)
            client = try network.bind(SocketAddress(host: "10.1.0.2", port: 5000))
            let configuration = DataPlane.Configuration(
                relayID: relayID, linkKey: linkKey,
                mailbox: MailboxStore.Limits(ttl: .seconds(60), maxMessagesPerMailbox: 10, maxMailboxes: 10, maxTotalBytes: 1 << 20),
                keyPeriod: .seconds(3_600), keyGrace: .seconds(60))
            var tuned = configuration
            tuned.handshakesPerSecondUnderLoad = handshakesPerSecondUnderLoad
            relay = DataPlane(configuration: tuned, transport: transport, metrics: metrics,
                              logger: Logger(label: "test"), clock: { DataPlaneTests.now() }, keysChanged: { _ in })
            let thread = Thread { [relay] in relay.run() }
            thread.start()

            var initiator = LinkInitiator(anonymousTo: linkKey.publicKey)
            let batch = DatagramBatch(capacity: 4)
            var established: LinkSession?
            for _ in 0..<2 where established == nil { // a relay under load first answers with a cookie
                try client.send(initiator.initiation(now: DataPlaneTests.now(), rng: &rng), to: relayAddress)
                guard try client.receive(into: batch, timeout: .seconds(5)) == 1 else { break }
                if case let .established(session, send) = initiator.receive(batch.withDatagram(0) { Array($0) }, now: DataPlaneTests.now()) {
                    if let send { try client.send(send, to: relayAddress) }
                    established = session
                }
            }
            guard let established else { throw CancellationError() }
            self.session = established
        }

        func send(_ frame: LinkFrame) throws {
            try client.send(session.seal(frame.encoded(), now: DataPlaneTests.now()).packet!, to: relayAddress)
        }

        /// Waits (with a deadline) until the published counters satisfy `condition`.
        func counters(within seconds: Double = 5, _ condition: (RelayCounters) -> Bool) async throws -> RelayCounters {
            let deadline = ContinuousClock.now.advanced(by: .milliseconds(Int64(seconds * 1000)))
            while ContinuousClock.now < deadline {
                if condition(metrics.snapshot) { return metrics.snapshot }
                try await Task.sleep(for: .milliseconds(20))
            }
            return metrics.snapshot
        }

        deinit { relay.stop() }
    }

    @Test func packetsAskingForTooLongADelayAreDroppedAndCounted() async throws {
        let h = try Harness()
        var rng = SystemRandom()
        let current = try #require(h.relay.onionKeyEntries.first)
        let next = try Bytes32(rng.bytes(32))
        let packet = try SphinxPacketBuilder().build(
            path: [SphinxHop(onionKey: current.key, epoch: current.epoch,
                             command: .forward(to: next, delayMilliseconds: 3_600_000, nextEpoch: 0))],
            body: [1], using: &rng)
        try h.send(.sphinx(packet))
        let counters = try await h.counters { $0.relayDrops[.delayTooLong, default: 0] == 1 }
        #expect(counters.relayDrops[.delayTooLong] == 1)
        #expect(counters.delayQueue == 0)
    }

    @Test func deliveredMailIsFetchedWithTheMailboxKey() async throws {
        let h = try Harness()
        var rng = SystemRandom()
        let current = try #require(h.relay.onionKeyEntries.first)
        let mailboxKey = SigningPrivateKey(using: &rng)
        let packet = try SphinxPacketBuilder().build(
            path: [SphinxHop(onionKey: current.key, epoch: current.epoch, command: .deliver(to: mailboxKey.publicKey.id.rawValue))],
            body: Array("in memory".utf8), using: &rng)
        try h.send(.sphinx(packet))
        let counters = try await h.counters { $0.delivered == 1 }
        #expect(counters.delivered == 1)
        #expect(counters.mailboxMessages == 1)
    }

    /// An operator-added peer (admin API's POST /v1/admin/peers) gets a relay link (Noise IK)
    /// on demand, and packets forwarded to it arrive.
    @Test func operatorAddedPeerIsLinkedAndReached() async throws {
        let h = try Harness()
        let (peer, peerMetrics, info) = try Harness.peer(on: h.network, host: "10.1.0.3")
        defer { peer.stop() }
        h.relay.send(.addPeer(info))
        var rng = SystemRandom()
        let first = try #require(h.relay.onionKeyEntries.first)
        let second = try #require(peer.onionKeyEntries.first)
        let mailbox = SigningPrivateKey(using: &rng).publicKey.id.rawValue
        let packet = try SphinxPacketBuilder().build(path: [
            SphinxHop(onionKey: first.key, epoch: first.epoch, command: .forward(to: info.id.rawValue, delayMilliseconds: 5, nextEpoch: 0)),
            SphinxHop(onionKey: second.key, epoch: second.epoch, command: .deliver(to: mailbox)),
        ], body: [7], using: &rng)
        try h.send(.sphinx(packet))
        var delivered = 0
        let deadline = ContinuousClock.now.advanced(by: .seconds(5))
        while delivered == 0, ContinuousClock.now < deadline {
            delivered = peerMetrics.snapshot.delivered
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(delivered == 1)
        let counters = try await h.counters { $0.forwarded == 1 && $0.connectedPeers == 1 }
        #expect(counters.forwarded == 1)
        #expect(counters.connectedPeers == 1)
    }

    /// Past the handshake rate it treats as load, the relay answers initiations with a cookie
    /// reply (no X25519 work) until the initiator proves its address with mac2.
    @Test func underLoadInitiationsGetCookies() async throws {
        let h = try Harness(handshakesPerSecondUnderLoad: 0) // every initiation counts as load
        var rng = SystemRandom()
        var initiator = LinkInitiator(anonymousTo: h.linkKey.publicKey)
        try h.client.send(initiator.initiation(now: DataPlaneTests.now(), rng: &rng), to: h.relayAddress)
        let batch = DatagramBatch(capacity: 4)
        #expect(try h.client.receive(into: batch, timeout: .seconds(5)) == 1)
        let reply = batch.withDatagram(0) { Array($0) }
        #expect(LinkPacket.messageType(of: reply) == .cookieReply)
        guard case .cookieStored = initiator.receive(reply, now: DataPlaneTests.now()) else {
            Issue.record("cookie not accepted")
            return
        }
        // With the cookie (mac2), the next initiation is answered with a response.
        try h.client.send(initiator.initiation(now: DataPlaneTests.now(), rng: &rng), to: h.relayAddress)
        #expect(try h.client.receive(into: batch, timeout: .seconds(5)) == 1)
        let response = batch.withDatagram(0) { Array($0) }
        #expect(LinkPacket.messageType(of: response) == .response)
        let counters = try await h.counters { $0.linkDrops[.needsCookie, default: 0] >= 1 }
        #expect(counters.linkDrops[.needsCookie, default: 0] >= 1)
    }
}
