import Dispatch
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Logging
import SecIRCConfig
import SecIRCCore
import SecIRCNode
import SecIRCCrypto
import SecIRCNode
import SecIRCTransport
import Synchronization

/// The client's network thread: keeps a verified directory, fetches the mailboxes, sends the
/// outbox (with receipts and cover traffic) through 3-hop onion paths. It owns the UDP socket
/// and the links; everything it learns goes to the store (through the messenger) first, and
/// only then to the relay as an acknowledgement.
final class NetworkWorker: @unchecked Sendable {
    // @unchecked: after `init` only the network thread touches the mutable parts.
    private let settings: ClientSettings
    private let roster: Roster
    private let messenger: Messenger
    private let state: NetworkState
    private let events: ClientEvents
    private let logger: Logger
    private let clock: @Sendable () -> UnixTime
    private let links: RelayLinks
    private let wake = DispatchSemaphore(value: 0)
    private let stopped = Atomic<Bool>(false)
    private var reassembler = Reassembler()
    /// Per mailbox relay: the highest sequence stored since the last fetch, acknowledged by the next.
    private var pendingAck: [ID: UInt64] = [:]
    private var lastPoll: ContinuousClock.Instant?
    private var lastDirectoryAttempt: ContinuousClock.Instant?
    private var lastCover = ContinuousClock.now
    private var rng = SystemRandom()

    init(settings: ClientSettings, roster: Roster, messenger: Messenger, state: NetworkState, events: ClientEvents,
         transport: any DatagramTransport, logger: Logger, clock: @escaping @Sendable () -> UnixTime) {
        self.settings = settings
        self.roster = roster
        self.messenger = messenger
        self.state = state
        self.events = events
        self.logger = logger
        self.clock = clock
        links = RelayLinks(transport: transport, clock: clock)
    }

    /// Something was queued: send it now rather than at the next tick.
    func poke() { wake.signal() }

    func stop() {
        stopped.store(true, ordering: .releasing)
        wake.signal()
    }

    func run() {
        while !stopped.load(ordering: .acquiring) {
            step()
            _ = wake.wait(timeout: .now() + .milliseconds(nextWakeMilliseconds()))
        }
        links.close()
    }

    private var pollInterval: Duration { .milliseconds(settings.client.network.pollIntervalMilliseconds) }

    private func nextWakeMilliseconds() -> Int {
        var wait = settings.client.network.pollIntervalMilliseconds
        // Without a directory nothing can be sent: the outbox waits for the next attempt to fetch one.
        guard state.snapshot.directory != nil, !messenger.mailboxes.isEmpty else { return wait }
        if let due = try? messenger.nextOutboxDue() {
            wait = min(wait, Int(max(due.nanoseconds - clock().nanoseconds, 0) / 1_000_000))
        }
        if coverRate > 0 { wait = min(wait, 100) }
        return max(wait, 5)
    }

    func step() {
        refreshDirectoryIfDue()
        let snapshot = state.snapshot
        guard snapshot.directory != nil, !snapshot.descriptors.isEmpty else { return }
        replaceLostMailboxes(snapshot.descriptors)
        if messenger.mailboxes.count < settings.client.network.mailboxRelays {
            do { _ = try messenger.chooseMailboxes(from: snapshot.descriptors, count: settings.client.network.mailboxRelays, rng: &rng) } catch {
                logger.warning("cannot choose mailbox relays", metadata: ["error": "\(error)"])
                return
            }
        }
        _ = reassembler.expire(now: clock())
        if lastPoll.map({ ContinuousClock.now - $0 >= pollInterval }) ?? true {
            lastPoll = .now
            pollMailboxes(snapshot.descriptors)
        }
        sendDueOutbox(snapshot.descriptors)
        sendCover(snapshot)
        state.update {
            $0.linked = links.linkedRelays
            if links.strayDatagrams > 0 { $0.dropped["stray_datagram"] = links.strayDatagrams }
        }
    }

    /// Since when each of our mailbox relays is missing from the directory.
    private var unlistedSince: [ID: ContinuousClock.Instant] = [:]
    /// How long a mailbox relay may be missing from the directory before it is replaced (a
    /// restarting relay is missing for a period or two).
    var mailboxReplaceAfter: Duration = .seconds(600)

    private func replaceLostMailboxes(_ relays: [RelayDescriptor]) {
        let listed = Set(relays.map(\.id))
        let now = ContinuousClock.now
        for mailbox in messenger.mailboxes {
            if listed.contains(mailbox.relayID) { unlistedSince[mailbox.relayID] = nil } else if unlistedSince[mailbox.relayID] == nil {
                unlistedSince[mailbox.relayID] = now
            }
        }
        let lost = Set(unlistedSince.filter { now - $0.value >= mailboxReplaceAfter }.keys)
        guard !lost.isEmpty else { return }
        do {
            _ = try messenger.replaceMailboxes(at: lost, listed: relays, count: settings.client.network.mailboxRelays, now: clock(),
                                               rng: &rng)
            for id in lost { unlistedSince[id] = nil; pendingAck[id] = nil }
            logger.info("mailbox relays replaced; contacts are told the new ones", metadata: ["replaced": "\(lost.count)"])
        } catch {
            logger.warning("cannot replace mailbox relays", metadata: ["error": "\(error)"])
        }
    }

    // MARK: Directory

    private func refreshDirectoryIfDue() {
        let snapshot = state.snapshot
        let now = clock()
        let interval: Duration
        if let directory = snapshot.directory, directory.validUntil > now.seconds {
            interval = .seconds(min(30, max(1, (directory.validUntil - now.seconds) / 2)))
        } else {
            interval = .seconds(1)
        }
        guard lastDirectoryAttempt.map({ ContinuousClock.now - $0 >= interval }) ?? true else { return }
        lastDirectoryAttempt = .now
        for base in settings.client.network.bootstrapURLs {
            guard let document = Self.fetchDirectory(base: base) else { continue }
            do {
                let directory = try Unverified<RelayDirectory>(document).verified(trusting: roster, now: clock().seconds)
                guard directory.network.packetSize == PacketGeometry.standard.datagramSize,
                      directory.network.maxHops == PacketGeometry.standard.maxHops
                else { throw DirectoryError.invalid("network geometry differs from this client's") }
                if let held = snapshot.directory, directory.serial < held.serial, held.validUntil > now.seconds { return }
                let descriptors = try directory.descriptors()
                state.update {
                    $0.directory = directory
                    $0.descriptors = descriptors
                    $0.fetchedAt = clock()
                }
                logger.debug("directory verified", metadata: ["serial": "\(directory.serial)", "relays": "\(descriptors.count)"])
                return
            } catch {
                state.drop("directory_refused")
                logger.warning("directory refused", metadata: ["source": "\(base)", "error": "\(error)"])
            }
        }
    }

    /// GET <base>/v1/directory, five seconds at most. Nil on any failure (the next source is tried).
    private static func fetchDirectory(base: String) -> SignedDocument? {
        let trimmed = base.hasSuffix("/") ? String(base.dropLast()) : base
        guard let url = URL(string: trimmed + "/v1/directory") else { return nil }
        let result = Mutex<Data?>(nil)
        let done = DispatchSemaphore(value: 0)
        let request = URLRequest(url: url, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: 5)
        let task = URLSession.shared.dataTask(with: request) { data, response, _ in
            if (response as? HTTPURLResponse)?.statusCode == 200, let data, data.count <= 8 << 20 {
                result.withLock { $0 = data }
            }
            done.signal()
        }
        task.resume()
        if done.wait(timeout: .now() + 6) == .timedOut { task.cancel() }
        guard let data = result.withLock({ $0 }) else { return nil }
        return try? SignedDocument.decode(json: Array(data))
    }

    // MARK: Receiving

    private func pollMailboxes(_ relays: [RelayDescriptor]) {
        for mailbox in messenger.mailboxes {
            guard let relay = relays.first(where: { $0.id == mailbox.relayID }) else {
                state.drop("mailbox_relay_unlisted")
                continue
            }
            // A relay that just failed a handshake is tried again when its time out is over,
            // not at every poll (each try blocks this thread for the handshake timeout).
            if links.downRelays.contains(relay.id) { continue }
            for _ in 0..<8 {
                let fetched: RelayLinks.Fetched
                do { fetched = try links.fetch(mailbox: mailbox.key, at: relay, ackThrough: pendingAck[relay.id] ?? 0) } catch {
                    links.forget(relay)
                    state.drop("fetch_failed")
                    logger.debug("mailbox fetch failed", metadata: ["relay": "\(relay.id)", "error": "\(error)"])
                    break
                }
                guard fetched.status == .ok else {
                    state.drop("fetch_refused")
                    break
                }
                for (_, body) in fetched.messages { receive(body, relays: relays) }
                // Everything fetched is now stored: the next fetch deletes it at the relay — but
                // only a whole batch: acknowledging past a lost datagram would delete unseen mail.
                // (Sequence numbers are never reused, so repeating an old acknowledgement is harmless.)
                guard fetched.isComplete else {
                    state.drop("fetch_incomplete")
                    break
                }
                if let last = fetched.messages.map(\.sequence).max() { pendingAck[relay.id] = last }
                if fetched.remaining == 0 { break }
            }
        }
    }

    private func receive(_ body: [UInt8], relays: [RelayDescriptor]) {
        state.update { $0.packetsReceived += 1 }
        let fragment: Fragment
        do { fragment = try SealedPacket.open(body, with: messenger.identity.keys.agreement) } catch {
            // Loop cover packets come back as random bytes; anything else unreadable is counted too.
            state.update { $0.coverPacketsReceived += 1 }
            return
        }
        let message: [UInt8]
        do {
            guard let complete = try reassembler.add(fragment, now: clock()) else { return }
            message = complete
        } catch {
            state.drop("bad_fragment")
            return
        }
        let received = messenger.receive(message, now: clock())
        if let reason = received.dropped {
            state.drop("undecryptable")
            logger.debug("message dropped", metadata: ["reason": "\(reason)"])
        }
        for event in received.events { events.publish(event) }
        if let (contact, ids) = received.receipt {
            do {
                if let outgoing = try messenger.prepareReceipt(to: contact, ids: ids, now: clock(), rng: &rng) {
                    try send(outgoing, relays: relays, freshLink: false)
                }
            } catch {
                logger.debug("receipt not sent", metadata: ["error": "\(error)"])
            }
        }
    }

    // MARK: Sending

    private func sendDueOutbox(_ relays: [RelayDescriptor]) {
        let due: [MessageRecord]
        do { due = try messenger.dueOutbox(now: clock()) } catch {
            logger.error("outbox unreadable", metadata: ["error": "\(error)"])
            return
        }
        for message in due {
            do {
                guard let outgoing = try messenger.prepareSend(message, now: clock(), rng: &rng) else { continue }
                // A retry makes a fresh link: the entry relay may have restarted and lost ours.
                try send(outgoing, relays: relays, freshLink: outgoing.attempt > 1)
            } catch {
                state.drop("send_failed")
                logger.debug("send failed; will retry", metadata: ["error": "\(error)"])
            }
        }
    }

    private func send(_ outgoing: Outgoing, relays: [RelayDescriptor], freshLink: Bool) throws {
        // Try the mailbox this attempt names, then the others.
        guard let mailbox = outgoing.mailboxesInTurn.first(where: { m in relays.contains { $0.id == m.relayID } }) else {
            throw RelayLinks.LinkError.refused("none of the recipient's mailbox relays is in the directory")
        }
        let fragments = try SealedPacket.fragments(of: outgoing.message, transferID: outgoing.transferID)
        for fragment in fragments {
            let body = try SealedPacket.seal(fragment, to: outgoing.recipient, rng: &rng)
            try sendOnion(body, to: mailbox, relays: relays, freshLink: freshLink && fragment.index == 0)
        }
    }

    /// A real packet waiting for the next slot of the cover stream.
    private struct Paced {
        var packet: [UInt8]
        var entry: RelayDescriptor
        var freshLink: Bool
    }

    /// Real packets waiting to take the place of cover packets (when cover traffic is on).
    private var paced: [Paced] = []
    static let pacedCapacity = 4096

    /// Wraps `body` in a Sphinx packet along a random path ending at the mailbox's relay, and
    /// hands it to the path's first relay: at once when cover traffic is off, otherwise in the
    /// place of the next cover packet, so that the client's sending times are the Poisson
    /// process whether it has something to say or not (Loopix).
    private func sendOnion(_ body: [UInt8], to mailbox: MailboxAddress, relays: [RelayDescriptor], freshLink: Bool) throws {
        let (packet, entry) = try onion(body, to: mailbox, relays: relays)
        guard coverRate > 0 else { return try transmit(packet, via: entry, freshLink: freshLink) }
        guard paced.count < Self.pacedCapacity else {
            // More real traffic than the cover rate carries for a long while: send rather than lose it.
            state.drop("pacing_overflow")
            return try transmit(packet, via: entry, freshLink: freshLink)
        }
        paced.append(Paced(packet: packet, entry: entry, freshLink: freshLink))
    }

    private func onion(_ body: [UInt8], to mailbox: MailboxAddress, relays: [RelayDescriptor]) throws -> ([UInt8], RelayDescriptor) {
        let path = try PathSelector.path(to: mailbox.relayID, relays: relays, length: settings.client.network.pathLength,
                                         avoiding: links.downRelays, rng: &rng)
        let meanDelay = Double(state.snapshot.directory?.network.meanDelayMs ?? 0) * settings.client.network.coverProfile.delayFactor
        let packet = try PathSelector.packet(path: path, mailbox: mailbox.mailboxID, body: body, meanDelayMs: meanDelay,
                                             now: clock(), rng: &rng)
        return (packet, path[0])
    }

    private func transmit(_ packet: [UInt8], via entry: RelayDescriptor, freshLink: Bool) throws {
        if freshLink { links.forget(entry) }
        try links.send(.sphinx(packet), to: entry)
        state.update { $0.packetsSent += 1 }
    }

    // MARK: Cover traffic

    /// Packets per second of the client's sending stream (Poisson), from the directory's λ and the profile.
    private var coverRate: Double {
        (state.snapshot.directory?.network.coverRate ?? 0) * settings.client.network.coverProfile.rateFactor
    }

    /// Sends the packets of the Poisson stream due since the last call: each one a waiting real
    /// packet if there is one, else a loop cover packet (random bytes to one of our own mailboxes).
    private func sendCover(_ snapshot: NetworkState.Snapshot) {
        let rate = coverRate
        let now = ContinuousClock.now
        let elapsed = now - lastCover
        lastCover = now
        guard rate > 0, let own = messenger.mailboxes.randomElement(using: &rng) else { return }
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        var count = PathSelector.poisson(mean: rate * min(seconds, 5), rng: &rng)
        while count > 0 {
            count -= 1
            do {
                if !paced.isEmpty {
                    let next = paced.removeFirst()
                    try transmit(next.packet, via: next.entry, freshLink: next.freshLink)
                } else {
                    let (packet, entry) = try onion(rng.bytes(PacketGeometry.standard.bodyLength), to: own.address, relays: snapshot.descriptors)
                    try transmit(packet, via: entry, freshLink: false)
                    state.update { $0.coverPacketsSent += 1 }
                }
            } catch {
                state.drop("cover_failed")
                break // a relay is not answering: no burst of waits for it
            }
        }
    }
}

extension ClientConfig.CoverProfile {
    /// Multiplier of the directory's cover rate λ.
    var rateFactor: Double {
        switch self {
        case .off: 0
        case .balanced: 1
        case .strong: 2
        }
    }

    /// Multiplier of the directory's mean per-hop delay μ.
    var delayFactor: Double {
        switch self {
        case .off: 0
        case .balanced: 1
        case .strong: 2
        }
    }
}
