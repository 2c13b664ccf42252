public import SecIRCCore
public import SecIRCCrypto
public import SecIRCTransport

/// The client's anonymous (Noise NK) links to relays over one UDP socket: Sphinx packets go out
/// over them and mailbox fetches run over them. Links are made on demand and made again before
/// they expire. Not thread-safe: one thread (the client's network thread) owns it.
public final class RelayLinks {
    public enum LinkError: Error, Equatable, CustomStringConvertible {
        case timeout(String)
        case refused(String)
        case badAddress(String)

        public var description: String {
            switch self {
            case let .timeout(m): "timed out: \(m)"
            case let .refused(m): "refused: \(m)"
            case let .badAddress(m): "bad relay address: \(m)"
            }
        }
    }

    /// One mailbox fetch: the bodies with their sequence numbers, and what the relay said.
    public struct Fetched {
        public var messages: [(sequence: UInt64, body: [UInt8])] = []
        public var status: FetchStatus?
        public var remaining: UInt32 = 0
        /// How many messages the relay sent in this batch (`fetchDone`).
        public var sent: UInt32 = 0
        /// Every message of the batch arrived: it may be acknowledged.
        public var isComplete: Bool { status == .ok && messages.count == Int(sent) }
    }

    private struct Link {
        var relayID: ID
        var session: LinkSession
    }

    public let transport: any DatagramTransport
    private let clock: @Sendable () -> UnixTime
    private let timeout: Duration
    private var links: [SocketAddress: Link] = [:]
    private let batch = DatagramBatch(capacity: 32, maxDatagramSize: 2048)
    private var rng = SystemRandom()
    /// Datagrams dropped because they belonged to no exchange being waited for (late answers,
    /// another relay's frames, handshake noise).
    public private(set) var strayDatagrams = 0
    /// Relays that did not answer a handshake, until when they are left out of new paths.
    private var down: [ID: ContinuousClock.Instant] = [:]
    /// How long a relay that did not answer is left alone.
    public var downTime: Duration = .seconds(30)

    /// Relays to leave out of paths for now (they did not answer a handshake).
    public var downRelays: Set<ID> {
        let now = ContinuousClock.now
        down = down.filter { $0.value > now }
        return Set(down.keys)
    }

    public init(transport: any DatagramTransport, clock: @escaping @Sendable () -> UnixTime, timeout: Duration = .seconds(2)) {
        self.transport = transport
        self.clock = clock
        self.timeout = timeout
    }

    /// Relays with a live link.
    public var linkedRelays: Set<ID> { Set(links.values.map(\.relayID)) }

    public func close() { transport.close() }

    static func address(of relay: RelayDescriptor) throws(LinkError) -> SocketAddress {
        do { return try SocketAddress(parsing: relay.udp) } catch { throw .badAddress("\(relay.udp): \(error)") }
    }

    /// Sends one frame to `relay`, making the link first when there is none (or it is about to expire).
    public func send(_ frame: LinkFrame, to relay: RelayDescriptor) throws {
        let address = try Self.address(of: relay)
        var link = try link(to: relay, at: address)
        guard let packet = link.session.seal(frame.encoded(), now: clock()).packet else {
            links[address] = nil
            throw LinkError.refused("link to \(relay.id) cannot seal (expired)")
        }
        links[address] = link
        try transport.send(packet, to: address)
    }

    private func link(to relay: RelayDescriptor, at address: SocketAddress) throws -> Link {
        let now = clock()
        if let link = links[address], link.relayID == relay.id, now < link.session.rekeyAt.adding(.seconds(-10)) { return link }
        links[address] = nil
        var initiator = LinkInitiator(anonymousTo: relay.linkKey)
        let deadline = ContinuousClock.now.advanced(by: timeout)
        var attempts = 0
        while ContinuousClock.now < deadline, attempts < 4 {
            attempts += 1
            try transport.send(initiator.initiation(now: clock(), rng: &rng), to: address)
            let resend = ContinuousClock.now.advanced(by: timeout / 3)
            while ContinuousClock.now < min(resend, deadline) {
                let n = try transport.receive(into: batch, timeout: .milliseconds(50))
                for i in 0..<n where batch.address(i) == address {
                    let bytes = batch.withDatagram(i) { Array($0) }
                    switch initiator.receive(bytes, now: clock()) {
                    case let .established(session, send):
                        if let send { try transport.send(send, to: address) }
                        let link = Link(relayID: relay.id, session: session)
                        links[address] = link
                        return link
                    case .cookieStored:
                        // Under load the relay wants proof of our address first: send again at once.
                        try transport.send(initiator.initiation(now: clock(), rng: &rng), to: address)
                    case .drop:
                        strayDatagrams += 1
                    }
                }
            }
        }
        down[relay.id] = ContinuousClock.now.advanced(by: downTime)
        throw LinkError.timeout("link handshake with relay \(relay.id) at \(relay.udp)")
    }

    /// Frames from `relay` within the timeout, until `done` says enough.
    private func receiveFrames(from address: SocketAddress, until done: (LinkFrame) -> Bool) throws -> [LinkFrame] {
        var frames: [LinkFrame] = []
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while ContinuousClock.now < deadline {
            let n = try transport.receive(into: batch, timeout: .milliseconds(50))
            for i in 0..<n {
                guard batch.address(i) == address, var link = links[address] else { strayDatagrams += 1; continue }
                let bytes = batch.withDatagram(i) { Array($0) }
                let opened = link.session.open(bytes, now: clock())
                links[address] = link
                guard let plaintext = opened.plaintext, let frame = try? LinkFrame.decode(plaintext) else { continue }
                frames.append(frame)
                if done(frame) { return frames }
            }
        }
        throw LinkError.timeout("waiting for relay at \(address)")
    }

    /// Fetches mailbox `key`'s mail at `relay`, first deleting what is acknowledged (`ackThrough`).
    public func fetch(mailbox key: SigningPrivateKey, at relay: RelayDescriptor, ackThrough: UInt64) throws -> Fetched {
        let address = try Self.address(of: relay)
        let mailbox = key.publicKey.id.rawValue
        try send(.fetchChallengeRequest(mailbox: mailbox), to: relay)
        let challenge = try receiveFrames(from: address) { frame in
            if case let .fetchChallenge(m, _) = frame { return m == mailbox }
            return false
        }
        guard case let .fetchChallenge(_, nonce)? = challenge.last else { throw LinkError.timeout("fetch challenge") }
        let signature = key.sign(LinkFrame.fetchSignedBytes(relay: relay.id.rawValue, nonce: nonce, ackThrough: ackThrough))
        try send(.fetchRequest(mailboxKey: key.publicKey, nonce: nonce, ackThrough: ackThrough, signature: signature), to: relay)
        var fetched = Fetched()
        _ = try receiveFrames(from: address) { frame in
            switch frame {
            case let .mailboxMessage(m, sequence, _, body) where m == mailbox:
                fetched.messages.append((sequence, body))
                return false
            case let .fetchDone(m, status, remaining, sent) where m == mailbox:
                fetched.status = status
                fetched.remaining = remaining
                fetched.sent = sent
                return true
            default:
                return false
            }
        }
        return fetched
    }
}

extension RelayLinks {
    /// Drops the link to `relay`, so the next frame makes a new one (after a timeout, or when
    /// the relay may have restarted).
    public func forget(_ relay: RelayDescriptor) {
        guard let address = try? Self.address(of: relay) else { return }
        links[address] = nil
    }
}
