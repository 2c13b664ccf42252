import Foundation
import SecIRCCore
import SecIRCCrypto
import SecIRCNode
import SecIRCTransport
import Testing

/// A minimal client of a relay process for tests: the node layer's `LinkManager` (an anonymous
/// Noise NK link) over real UDP, Sphinx packets out, authenticated mailbox fetches in.
final class LinkClient {
    let transport: UDPTransport
    let relay: LinkPeer
    private var links: LinkManager
    private var rng = SystemRandom()
    private var out: [Datagram] = []
    private var inbox: [LinkFrame] = []
    private let batch = DatagramBatch(capacity: 32, maxDatagramSize: 2048)

    enum ClientError: Error { case timeout(String), refused(String) }

    /// Connects to the relay whose descriptor is `descriptor`.
    init(to descriptor: RelayDescriptor) throws {
        transport = try UDPTransport(bind: SocketAddress(host: "127.0.0.1", port: 0))
        relay = LinkPeer(id: descriptor.id, address: try SocketAddress(parsing: descriptor.udp), linkKey: descriptor.linkKey)
        links = LinkManager(configuration: .client, now: Self.now(), rng: &rng)
        try send(.padding)
        _ = try receiveFrames(timeout: .seconds(5)) { _ in self.links.linkedPeers.contains(self.relay.id) }
        guard links.linkedPeers.contains(relay.id) else { throw ClientError.timeout("link handshake with \(descriptor.udp)") }
    }

    static func now() -> UnixTime {
        UnixTime(nanoseconds: Int64(Date().timeIntervalSince1970 * 1e9))
    }

    func send(_ frame: LinkFrame) throws {
        guard links.send(frame.encoded(), to: relay, now: Self.now(), rng: &rng, out: &out) != .dropped else {
            throw ClientError.refused("link refused the frame")
        }
        try flush()
    }

    /// `frame` sealed on the link, not sent (for tests that tamper with real packets).
    func sealed(_ frame: LinkFrame) -> [UInt8]? {
        var datagrams: [Datagram] = []
        guard links.send(frame.encoded(), to: relay, now: Self.now(), rng: &rng, out: &datagrams) == .sent else { return nil }
        return datagrams.last?.bytes
    }

    private func flush() throws {
        for datagram in out { try transport.send(datagram.bytes, to: datagram.address) }
        out.removeAll()
    }

    /// Frames received within `timeout`, until `stop` says enough.
    func receiveFrames(timeout: Duration, until stop: ([LinkFrame]) -> Bool) throws -> [LinkFrame] {
        var frames: [LinkFrame] = []
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while !stop(frames), ContinuousClock.now < deadline {
            let n = try transport.receive(into: batch, timeout: .milliseconds(100))
            for i in 0..<n {
                let bytes = batch.withDatagram(i) { Array($0) }
                if let delivery = links.receive(bytes, from: batch.address(i), now: Self.now(), rng: &rng, out: &out),
                   let frame = try? LinkFrame.decode(delivery.frame), frame != .padding {
                    frames.append(frame)
                }
            }
            _ = links.tick(now: Self.now(), rng: &rng, out: &out)
            try flush()
        }
        return frames
    }

    /// Fetches mailbox `key`'s mail, acknowledging up to `ackThrough` (and registering or closing
    /// deposit queues with `queueOps`). Returns (sequence, body) pairs.
    func fetch(mailbox key: SigningPrivateKey, ackThrough: UInt64 = 0,
               queueOps: [QueueOp] = []) throws -> (messages: [(UInt64, [UInt8])], status: FetchStatus) {
        let mailbox = key.publicKey.id.rawValue
        try send(.fetchChallengeRequest(mailbox: mailbox))
        let challenge = try receiveFrames(timeout: .seconds(3)) { frames in
            frames.contains { if case .fetchChallenge = $0 { true } else { false } }
        }
        guard case let .fetchChallenge(_, nonce)? = challenge.first(where: { if case .fetchChallenge = $0 { true } else { false } }) else {
            throw ClientError.timeout("fetch challenge")
        }
        let signature = key.sign(LinkFrame.fetchSignedBytes(relay: relay.id.rawValue, nonce: nonce, ackThrough: ackThrough,
                                                            queueOps: queueOps))
        try send(.fetchRequest(mailboxKey: key.publicKey, nonce: nonce, ackThrough: ackThrough, signature: signature,
                               queueOps: queueOps))
        let frames = try receiveFrames(timeout: .seconds(3)) { frames in
            frames.contains { if case .fetchDone = $0 { true } else { false } }
        }
        var messages: [(UInt64, [UInt8])] = []
        var status = FetchStatus(rawValue: 255)
        for frame in frames {
            switch frame {
            case let .mailboxMessage(_, sequence, _, body): messages.append((sequence, body))
            case let .fetchDone(_, s, _, sent, _, _):
                status = s
                // The batch size the relay announces is what arrived (loopback loses nothing).
                #expect(Int(sent) == messages.count)
            default: break
            }
        }
        return (messages, status)
    }

    /// Builds a Sphinx packet for `path` (descriptors, in order) delivering `body` to `mailbox`
    /// at the last relay, using each relay's current onion key.
    static func packet(path: [RelayDescriptor], mailbox: Bytes32, body: [UInt8], delayMilliseconds: UInt32 = 0,
                       epochs: [UInt32]? = nil) throws -> [UInt8] {
        var hops: [SphinxHop] = []
        for (i, relay) in path.enumerated() {
            let entry = epochs.flatMap { relay.onionKey(epoch: $0[i]) } ?? relay.onionKeys[0]
            let command: RoutingCommand = i == path.count - 1
                ? .deliver(to: mailbox)
                : .forward(to: path[i + 1].id.rawValue, delayMilliseconds: delayMilliseconds, nextEpoch: 0)
            hops.append(SphinxHop(onionKey: entry.key, epoch: entry.epoch, command: command))
        }
        var rng = SystemRandom()
        return try SphinxPacketBuilder().build(path: hops, body: body, using: &rng)
    }
}
