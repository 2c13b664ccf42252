import Foundation
import SecIRCCore
import SecIRCCrypto
import SecIRCTransport
import Testing

/// A minimal client of a relay, as the client daemon will be: an anonymous (Noise NK) link over
/// real UDP, Sphinx packets out, authenticated mailbox fetches in.
final class LinkClient {
    let transport: UDPTransport
    let relayAddress: SocketAddress
    let relayID: ID
    var session: LinkSession
    private var rng = SystemRandom()
    private let batch = DatagramBatch(capacity: 32, maxDatagramSize: 2048)

    enum ClientError: Error { case timeout(String), refused(String) }

    /// Connects to the relay whose descriptor is `descriptor`.
    init(to descriptor: RelayDescriptor) throws {
        transport = try UDPTransport(bind: SocketAddress(host: "127.0.0.1", port: 0))
        let parts = descriptor.udp.split(separator: ":")
        relayAddress = try SocketAddress(host: String(parts[0]), port: UInt16(parts[1])!)
        relayID = descriptor.id
        var initiator = LinkInitiator(anonymousTo: descriptor.linkKey)
        var rng = SystemRandom()
        let now = Self.now()
        try transport.send(initiator.initiation(now: now, rng: &rng), to: relayAddress)
        let deadline = ContinuousClock.now.advanced(by: .seconds(5))
        var established: LinkSession?
        while established == nil, ContinuousClock.now < deadline {
            let n = try transport.receive(into: batch, timeout: .milliseconds(200))
            for i in 0..<n {
                let bytes = batch.withDatagram(i) { Array($0) }
                if case let .established(session, send) = initiator.receive(bytes, now: Self.now()) {
                    if let send { try transport.send(send, to: relayAddress) }
                    established = session
                }
            }
        }
        guard let established else { throw ClientError.timeout("link handshake with \(descriptor.udp)") }
        session = established
    }

    static func now() -> UnixTime {
        UnixTime(nanoseconds: Int64(Date().timeIntervalSince1970 * 1e9))
    }

    func send(_ frame: LinkFrame) throws {
        guard let packet = session.seal(frame.encoded(), now: Self.now()).packet else { throw ClientError.refused("seal") }
        try transport.send(packet, to: relayAddress)
    }

    /// Frames received within `timeout`, until `stop` says enough.
    func receiveFrames(timeout: Duration, until stop: ([LinkFrame]) -> Bool) throws -> [LinkFrame] {
        var frames: [LinkFrame] = []
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while !stop(frames), ContinuousClock.now < deadline {
            let n = try transport.receive(into: batch, timeout: .milliseconds(100))
            for i in 0..<n {
                let bytes = batch.withDatagram(i) { Array($0) }
                if let plaintext = session.open(bytes, now: Self.now()).plaintext, let frame = try? LinkFrame.decode(plaintext) {
                    frames.append(frame)
                }
            }
        }
        return frames
    }

    /// Fetches mailbox `key`'s mail, acknowledging up to `ackThrough`. Returns (sequence, body) pairs.
    func fetch(mailbox key: SigningPrivateKey, ackThrough: UInt64 = 0) throws -> (messages: [(UInt64, [UInt8])], status: FetchStatus) {
        let mailbox = key.publicKey.id.rawValue
        try send(.fetchChallengeRequest(mailbox: mailbox))
        let challenge = try receiveFrames(timeout: .seconds(3)) { frames in
            frames.contains { if case .fetchChallenge = $0 { true } else { false } }
        }
        guard case let .fetchChallenge(_, nonce)? = challenge.first(where: { if case .fetchChallenge = $0 { true } else { false } }) else {
            throw ClientError.timeout("fetch challenge")
        }
        let signature = key.sign(LinkFrame.fetchSignedBytes(relay: relayID.rawValue, nonce: nonce, ackThrough: ackThrough))
        try send(.fetchRequest(mailboxKey: key.publicKey, nonce: nonce, ackThrough: ackThrough, signature: signature))
        let frames = try receiveFrames(timeout: .seconds(3)) { frames in
            frames.contains { if case .fetchDone = $0 { true } else { false } }
        }
        var messages: [(UInt64, [UInt8])] = []
        var status = FetchStatus(rawValue: 255)
        for frame in frames {
            switch frame {
            case let .mailboxMessage(_, sequence, _, body): messages.append((sequence, body))
            case let .fetchDone(_, s, _, sent):
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
