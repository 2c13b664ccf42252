import Foundation
public import Logging
public import SecIRCCore
public import SecIRCCrypto
public import SecIRCTransport
import Synchronization

/// A relay this relay can link to: from the directory, or added by the operator.
public struct PeerInfo: Sendable, Equatable {
    public var id: ID
    public var address: SocketAddress
    public var linkKey: AgreementPublicKey

    public init(id: ID, address: SocketAddress, linkKey: AgreementPublicKey) {
        self.id = id
        self.address = address
        self.linkKey = linkKey
    }
}

/// Requests from other threads (HTTP, control loop) to the data plane, applied between batches.
public enum DataPlaneCommand: Sendable {
    /// Replace the directory's peers (the operator's own additions stay).
    case setDirectoryPeers([PeerInfo])
    case addPeer(PeerInfo)
    case removePeer(ID)
    /// Rotate onion keys now.
    case rotateKeys
    /// Stop taking new packets; forward what is queued.
    case drain
}

/// The relay's packet pipeline on one dedicated thread: receive a batch → link decrypt →
/// Sphinx peel → schedule (per-hop delay) → link encrypt → send a batch. It owns every piece of
/// per-packet state (link sessions, Sphinx keys and replay filters, delay queue, mailboxes), so
/// nothing on the hot path takes a lock or hops between threads; other threads talk to it through
/// `DataPlaneCommand`s and read what it publishes (counters, onion keys).
public final class DataPlane: @unchecked Sendable {
    // @unchecked: all mutable state below is touched only by the thread running `run()`;
    // the command inbox and the published values are behind Mutexes.

    public struct Configuration: Sendable {
        public var relayID: ID
        public var linkKey: AgreementPrivateKey
        public var batchSize = 32
        public var delayQueueCapacity = 8192
        public var pendingPerPeer = 256
        /// All peers' handshake queues together (frames), so unreachable relays cannot pile up memory.
        public var pendingTotal = 8192
        /// Link sessions held at once (clients and relays); new handshakes beyond it are refused.
        public var maxSessions = 65_536
        public var mailbox: MailboxStore.Limits
        public var keyPeriod: Duration
        public var keyGrace: Duration
        public var replayCapacity = 1 << 19
        /// Handshakes per second above which initiations need a cookie (mac2).
        public var handshakesPerSecondUnderLoad = 500
        public var fetchBatch = 32
        /// Longest per-hop delay a packet may ask for; longer ones are dropped (an attacker could
        /// otherwise fill the bounded delay queue with packets that never leave).
        public var maxDelayMilliseconds: UInt32 = 60_000

        public init(relayID: ID, linkKey: AgreementPrivateKey, mailbox: MailboxStore.Limits, keyPeriod: Duration, keyGrace: Duration) {
            self.relayID = relayID
            self.linkKey = linkKey
            self.mailbox = mailbox
            self.keyPeriod = keyPeriod
            self.keyGrace = keyGrace
        }
    }

    private struct Session {
        var link: LinkSession
        var address: SocketAddress
        /// The relay at the other end (IK sessions with a known relay), nil for clients.
        var relay: ID?
        /// Mailbox-fetch nonces issued on this session (bounded).
        var nonces: [Bytes32: Bytes32] = [:]
    }

    private struct Peer {
        var info: PeerInfo
        var fromOperator: Bool
        var session: UInt32?
        var initiator: LinkInitiator
        var lastInitiation: UnixTime?
        var firstQueued: UnixTime?
        var queued: [[UInt8]] = []
    }

    public let configuration: Configuration
    private let transport: any DatagramTransport
    private let metrics: RelayMetrics
    private let logger: Logger
    private let clock: @Sendable () -> UnixTime
    private var rng = SystemRandom()

    private var responder: LinkResponder
    private var sphinx: SphinxProcessor
    private var keys: OnionKeyRing
    private var sessions: [UInt32: Session] = [:]
    private var peers: [ID: Peer] = [:]
    private var pendingHandshakes: [UInt32: ID] = [:]
    private var delays: DelayQueue
    private var mailboxes: MailboxStore
    private var counters = RelayCounters()
    private var draining = false
    private var queuedTotal = 0
    private var handshakeWindow: (second: Int64, count: Int) = (0, 0)
    private var lastHousekeeping = UnixTime(nanoseconds: 0)
    private var lastPublish = UnixTime(nanoseconds: 0)
    private let inbound: DatagramBatch
    private let outbound: DatagramBatch

    private let inbox = Mutex<[DataPlaneCommand]>([])
    private let publishedKeys: Mutex<[RelayDescriptor.OnionKeyEntry]>
    private let keysChanged: @Sendable ([RelayDescriptor.OnionKeyEntry]) -> Void
    private let stopped = Atomic<Bool>(false)
    private let idle = Atomic<Bool>(true)

    /// - Parameter keysChanged: called (on the data-plane thread) after each rotation with the
    ///   new descriptor entries, so the relay can re-sign and publish its descriptor.
    public init(configuration: Configuration, transport: any DatagramTransport, metrics: RelayMetrics, logger: Logger,
                clock: @escaping @Sendable () -> UnixTime,
                keysChanged: @escaping @Sendable ([RelayDescriptor.OnionKeyEntry]) -> Void) {
        self.configuration = configuration
        self.transport = transport
        self.metrics = metrics
        self.logger = logger
        self.clock = clock
        self.keysChanged = keysChanged
        let now = clock()
        responder = LinkResponder(localStatic: configuration.linkKey, now: now, rng: &rng)
        keys = OnionKeyRing(period: configuration.keyPeriod, grace: configuration.keyGrace, now: now, rng: &rng)
        sphinx = SphinxProcessor(replayCapacity: configuration.replayCapacity)
        for key in keys.acceptedKeys { sphinx.install(key) }
        delays = DelayQueue(capacity: configuration.delayQueueCapacity)
        mailboxes = MailboxStore(limits: configuration.mailbox, firstSequence: UInt64(max(clock().nanoseconds / 1000, 1)))
        inbound = DatagramBatch(capacity: configuration.batchSize, maxDatagramSize: 2048)
        outbound = DatagramBatch(capacity: configuration.batchSize, maxDatagramSize: 2048)
        publishedKeys = Mutex(keys.descriptorEntries)
        counters.currentEpoch = keys.current.epoch
    }

    /// The onion keys to publish in the descriptor (current and next).
    public var onionKeyEntries: [RelayDescriptor.OnionKeyEntry] { publishedKeys.withLock { $0 } }

    /// Queues a command; the data plane applies it within one loop turn (≤ 50 ms).
    public func send(_ command: DataPlaneCommand) { inbox.withLock { $0.append(command) } }

    /// True when draining has finished: nothing waits in the delay queue or for a handshake.
    public var isIdle: Bool { idle.load(ordering: .acquiring) }

    /// Ends `run()` after the current turn.
    public func stop() {
        stopped.store(true, ordering: .releasing)
        transport.close()
    }

    /// The loop. Returns when stopped or the transport closes.
    public func run() {
        while !stopped.load(ordering: .acquiring) {
            let now = clock()
            var timeout = Duration.milliseconds(50)
            if let due = delays.nextDue {
                timeout = min(timeout, max(.zero, due.duration(since: now)))
            }
            let received: Int
            do {
                received = try transport.receive(into: inbound, timeout: timeout)
            } catch {
                if case .closed = error { break }
                logger.warning("receive failed", metadata: ["error": "\(error)"])
                continue
            }
            let turn = clock()
            counters.datagramsReceived += received
            for i in 0..<received {
                let bytes = inbound.withDatagram(i) { Array($0) }
                handleDatagram(bytes, from: inbound.address(i), now: turn)
            }
            while let entry = delays.popDue(now: turn) { forward(entry.packet, to: entry.relay, now: turn) }
            applyCommands(now: turn)
            housekeeping(now: turn)
            flush()
        }
        flush()
        publish(now: clock(), force: true)
    }

    // MARK: Receiving

    private func handleDatagram(_ bytes: [UInt8], from address: SocketAddress, now: UnixTime) {
        guard let type = LinkPacket.messageType(of: bytes) else { return count(.malformed) }
        switch type {
        case .transport:
            guard let index = LinkPacket.receiverIndex(of: bytes), var session = sessions[index] else { return count(.unknownIndex) }
            let action = session.link.open(bytes, now: now)
            switch action {
            case let .drop(reason):
                count(reason)
            case let .deliver(frame), let .confirmed(frame):
                session.address = address
                if case .confirmed = action, let relay = session.relay, peers[relay] != nil {
                    peers[relay]?.session = index
                    flushQueued(relay, now: now)
                }
                sessions[index] = session
                handleFrame(frame, session: index, now: now)
            }
        case .initiationIK, .initiationNK:
            guard !draining else { return count(.draining) }
            let second = now.seconds
            if handshakeWindow.second != second { handshakeWindow = (second, 0) }
            handshakeWindow.count += 1
            let underLoad = handshakeWindow.count > configuration.handshakesPerSecondUnderLoad
            switch responder.receive(bytes, source: address.bytes, underLoad: underLoad, now: now, rng: &rng) {
            case let .established(link, send: response):
                guard sessions[link.localIndex] == nil else { return count(.unknownIndex) }
                guard sessions.count < configuration.maxSessions else { return count(.sessionLimit) }
                let relay = link.remoteStatic.flatMap { key in peers.values.first { $0.info.linkKey == key }?.info.id }
                sessions[link.localIndex] = Session(link: link, address: address, relay: relay)
                counters.handshakes += 1
                enqueue(response, to: address)
            case let .sendCookieReply(reply):
                count(.needsCookie)
                enqueue(reply, to: address)
            case let .drop(reason):
                count(reason)
            }
        case .response, .cookieReply:
            guard let index = LinkPacket.receiverIndex(of: bytes), let relay = pendingHandshakes[index], var peer = peers[relay] else {
                return count(.unknownIndex)
            }
            switch peer.initiator.receive(bytes, now: now) {
            case let .established(link, send: confirmation):
                pendingHandshakes[index] = nil
                guard sessions[link.localIndex] == nil else { return count(.unknownIndex) }
                sessions[link.localIndex] = Session(link: link, address: peer.info.address, relay: relay)
                // A superseded session is not removed: packets in flight under it still open until it expires.
                peer.session = link.localIndex
                peers[relay] = peer
                counters.handshakes += 1
                if let confirmation { enqueue(confirmation, to: peer.info.address) }
                flushQueued(relay, now: now)
            case .cookieStored:
                peers[relay] = peer
                initiate(relay, now: now, force: true)
            case let .drop(reason):
                peers[relay] = peer
                count(reason)
            }
        default:
            count(.malformed)
        }
    }

    private func handleFrame(_ plaintext: [UInt8], session index: UInt32, now: UnixTime) {
        let frame: LinkFrame
        do { frame = try LinkFrame.decode(plaintext) } catch { return count(.malformedFrame) }
        switch frame {
        case .padding:
            break
        case let .sphinx(packet):
            guard !draining else { return count(.draining) }
            peel(packet, now: now)
        case let .fetchChallengeRequest(mailbox):
            guard var session = sessions[index] else { return }
            if session.nonces.count >= 16 { session.nonces.removeAll() }
            let nonce = try! Bytes32(rng.bytes(32)) // 32 bytes by construction
            session.nonces[mailbox] = nonce
            sessions[index] = session
            reply(.fetchChallenge(mailbox: mailbox, nonce: nonce), on: index, now: now)
        case let .fetchRequest(key, nonce, ackThrough, signature):
            fetch(key: key, nonce: nonce, ackThrough: ackThrough, signature: signature, session: index, now: now)
        case .fetchChallenge, .mailboxMessage, .fetchDone, .unknown:
            count(.unknownFrame)
        }
    }

    private func peel(_ packet: [UInt8], now: UnixTime) {
        var packet = packet
        switch sphinx.peel(&packet) {
        case let .forward(relay, delay):
            guard delay <= configuration.maxDelayMilliseconds else { return count(.delayTooLong) }
            if delay == 0 {
                forward(packet, to: relay, now: now)
            } else if !delays.push(packet, to: relay, due: now.adding(.milliseconds(Int64(delay)))) {
                count(.queueFull)
            }
        case let .deliver(mailbox):
            if let reason = mailboxes.deliver(sphinx.body(ofDelivered: packet), to: mailbox, now: now) {
                counters.mailboxDrops[reason, default: 0] += 1
            } else {
                counters.delivered += 1
            }
        case .drop:
            counters.coverDropped += 1
        case let .reject(reason):
            counters.sphinxRejects[reason, default: 0] += 1
        }
    }

    private func fetch(key: SigningPublicKey, nonce: Bytes32, ackThrough: UInt64, signature: Signature, session index: UInt32,
                       now: UnixTime) {
        guard var session = sessions[index] else { return }
        let mailbox = key.id.rawValue
        guard let issued = session.nonces.removeValue(forKey: mailbox), issued == nonce else {
            sessions[index] = session
            count(.fetchDenied)
            return reply(.fetchDone(mailbox: mailbox, status: .staleNonce, remaining: 0, sent: 0), on: index, now: now)
        }
        sessions[index] = session
        let signed = LinkFrame.fetchSignedBytes(relay: configuration.relayID.rawValue, nonce: nonce, ackThrough: ackThrough)
        guard (try? key.verify(signature, for: signed)) != nil else {
            count(.fetchDenied)
            return reply(.fetchDone(mailbox: mailbox, status: .denied, remaining: 0, sent: 0), on: index, now: now)
        }
        counters.fetches += 1
        let (messages, remaining) = mailboxes.fetch(mailbox, ackThrough: ackThrough, limit: configuration.fetchBatch)
        for (i, message) in messages.enumerated() {
            let left = UInt32(clamping: remaining + messages.count - i - 1)
            reply(.mailboxMessage(mailbox: mailbox, sequence: message.sequence, remaining: left, body: message.body), on: index, now: now)
        }
        reply(.fetchDone(mailbox: mailbox, status: .ok, remaining: UInt32(clamping: remaining), sent: UInt32(messages.count)),
              on: index, now: now)
    }

    // MARK: Sending

    /// Sends a Sphinx packet to the next relay over its link, starting a handshake if needed.
    private func forward(_ packet: [UInt8], to relay: Bytes32, now: UnixTime) {
        let id = ID(rawValue: relay)
        if id == configuration.relayID { return peel(packet, now: now) } // a path may pass this relay twice
        guard var peer = peers[id] else { return count(.noRoute) }
        let frame = LinkFrame.sphinx(packet).encoded()
        if let index = peer.session, sessions[index] != nil, seal(frame, on: index, now: now) {
            counters.forwarded += 1
            return
        }
        guard peer.queued.count < configuration.pendingPerPeer, queuedTotal < configuration.pendingTotal else {
            return count(.queueFull)
        }
        peer.queued.append(frame)
        queuedTotal += 1
        if peer.firstQueued == nil { peer.firstQueued = now }
        peers[id] = peer
        initiate(id, now: now, force: false)
    }

    private func flushQueued(_ relay: ID, now: UnixTime) {
        guard var peer = peers[relay], let index = peer.session else { return }
        let frames = peer.queued
        queuedTotal -= frames.count
        peer.queued = []
        peer.firstQueued = nil
        peers[relay] = peer
        for frame in frames {
            if seal(frame, on: index, now: now) { counters.forwarded += 1 } else { count(.queueFull) }
        }
    }

    /// Starts a handshake with `relay` unless one was started within the rekey timeout.
    private func initiate(_ relay: ID, now: UnixTime, force: Bool) {
        guard var peer = peers[relay] else { return }
        if !force, let last = peer.lastInitiation, now.duration(since: last) < LinkTimers.rekeyTimeout { return }
        do {
            if let old = peer.initiator.pendingIndex { pendingHandshakes[old] = nil }
            let initiation = try peer.initiator.initiation(now: now, rng: &rng)
            if let index = peer.initiator.pendingIndex { pendingHandshakes[index] = relay }
            peer.lastInitiation = now
            peers[relay] = peer
            enqueue(initiation, to: peer.info.address)
        } catch {
            logger.warning("cannot start a link handshake: bad link key in the directory", metadata: ["relay": "\(relay)"])
        }
    }

    private func reply(_ frame: LinkFrame, on index: UInt32, now: UnixTime) {
        _ = seal(frame.encoded(), on: index, now: now)
    }

    /// Seals `frame` on session `index` and queues it for sending; false when the session cannot send.
    private func seal(_ frame: [UInt8], on index: UInt32, now: UnixTime) -> Bool {
        guard var session = sessions[index] else { return false }
        let result = session.link.seal(frame, now: now)
        sessions[index] = session
        switch result {
        case let .send(packet):
            enqueue(packet, to: session.address)
            return true
        case let .sendAndRekey(packet):
            enqueue(packet, to: session.address)
            if let relay = session.relay { initiate(relay, now: now, force: false) }
            return true
        case let .refused(reason):
            count(reason)
            return false
        }
    }

    private func enqueue(_ bytes: [UInt8], to address: SocketAddress) {
        if outbound.count == outbound.capacity { flush() }
        outbound.append(bytes, to: address)
    }

    private func flush() {
        guard outbound.count > 0 else { return }
        let total = outbound.count
        do {
            let sent = try transport.send(outbound)
            counters.datagramsSent += sent
            counters.sendFailures += total - sent
        } catch {
            counters.sendFailures += total
        }
        outbound.removeAll()
    }

    // MARK: Housekeeping

    private func applyCommands(now: UnixTime) {
        let commands = inbox.withLock { inbox -> [DataPlaneCommand] in
            defer { inbox.removeAll() }
            return inbox
        }
        for command in commands {
            switch command {
            case let .setDirectoryPeers(list):
                let ids = Set(list.map(\.id))
                for (id, peer) in peers where !peer.fromOperator && !ids.contains(id) { dropPeer(id, now: now) }
                for info in list where info.id != configuration.relayID { upsertPeer(info, fromOperator: false) }
                responder.allowedInitiators = nil
            case let .addPeer(info):
                upsertPeer(info, fromOperator: true)
            case let .removePeer(id):
                dropPeer(id, now: now)
            case .rotateKeys:
                rotate(now: now)
            case .drain:
                draining = true
            }
        }
    }

    private func upsertPeer(_ info: PeerInfo, fromOperator: Bool) {
        if var peer = peers[info.id], peer.info == info {
            peer.fromOperator = peer.fromOperator || fromOperator
            peers[info.id] = peer
            return
        }
        peers[info.id] = Peer(info: info, fromOperator: fromOperator, session: nil,
                              initiator: LinkInitiator(localStatic: configuration.linkKey, responderStatic: info.linkKey))
    }

    private func dropPeer(_ id: ID, now: UnixTime) {
        guard let peer = peers.removeValue(forKey: id) else { return }
        logger.debug("peer removed", metadata: ["relay": "\(id)"])
        if let index = peer.session { sessions[index] = nil }
        if let index = peer.initiator.pendingIndex { pendingHandshakes[index] = nil }
        counters.relayDrops[.noRoute, default: 0] += peer.queued.count
        queuedTotal -= peer.queued.count
    }

    private func rotate(now: UnixTime) {
        let change = keys.rotate(now: now, rng: &rng)
        applyKeyChange(installed: [change.installed], retired: change.retired)
    }

    private func applyKeyChange(installed: [OnionKey], retired: [UInt32]) {
        guard !installed.isEmpty || !retired.isEmpty else { return }
        for epoch in retired { sphinx.remove(epoch: epoch) }
        for key in installed { sphinx.install(key) }
        if !installed.isEmpty {
            counters.keyRotations += installed.count
            counters.currentEpoch = keys.current.epoch
            let entries = keys.descriptorEntries
            publishedKeys.withLock { $0 = entries }
            keysChanged(entries)
        }
    }

    private func housekeeping(now: UnixTime) {
        let change = keys.tick(now: now, rng: &rng)
        applyKeyChange(installed: change.installed, retired: change.retired)
        guard now.duration(since: lastHousekeeping) >= .milliseconds(250) else { return publish(now: now, force: false) }
        lastHousekeeping = now

        for (index, session) in sessions {
            switch session.link.timerAction(now: now) {
            case .expired:
                logger.debug("link session expired", metadata: ["relay": "\(session.relay.map { "\($0)" } ?? "-")"])
                sessions[index] = nil
                if let relay = session.relay, peers[relay]?.session == index { peers[relay]?.session = nil }
            case .rekeyNeeded:
                if let relay = session.relay, peers[relay]?.session == index { initiate(relay, now: now, force: false) }
            case .nothing:
                break
            }
        }
        for (id, peer) in peers where !peer.queued.isEmpty {
            if let first = peer.firstQueued, now.duration(since: first) > .seconds(30) {
                counters.relayDrops[.handshakeTimeout, default: 0] += peer.queued.count
                queuedTotal -= peer.queued.count
                peers[id]?.queued = []
                peers[id]?.firstQueued = nil
            } else {
                initiate(id, now: now, force: false) // resends after the rekey timeout
            }
        }
        let expired = mailboxes.expire(now: now)
        if expired > 0 { counters.mailboxDrops[.expired, default: 0] += expired }
        publish(now: now, force: true)
    }

    private func publish(now: UnixTime, force: Bool) {
        guard force || now.duration(since: lastPublish) >= .milliseconds(100) else { return }
        lastPublish = now
        counters.mailboxMessages = mailboxes.messageCount
        counters.mailboxBytes = mailboxes.totalBytes
        counters.mailboxes = mailboxes.mailboxCount
        counters.linkSessions = sessions.count
        counters.connectedPeers = peers.values.filter { $0.session.map { sessions[$0] != nil } ?? false }.count
        counters.delayQueue = delays.count
        metrics.publish(counters)
        idle.store(delays.isEmpty && peers.values.allSatisfy { $0.queued.isEmpty }, ordering: .releasing)
    }

    private func count(_ reason: LinkDropReason) { counters.linkDrops[reason, default: 0] += 1 }
    private func count(_ reason: RelayDropReason) { counters.relayDrops[reason, default: 0] += 1 }
}
