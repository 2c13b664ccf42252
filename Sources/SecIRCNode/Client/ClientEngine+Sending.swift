internal import Glibc
import SecIRCCore
import SecIRCCrypto

extension ClientEngine {
    enum SendError: Error, CustomStringConvertible {
        case noMailboxListed
        case noEntry(ID)

        var description: String {
            switch self {
            case .noMailboxListed: "none of the recipient's mailbox relays is in the directory"
            case let .noEntry(id): "relay \(id) has no usable address"
            }
        }
    }

    /// Sends what the outbox says is due. The messenger schedules each message's next attempt
    /// (exponential backoff) before it is prepared, so a failure here is retried later.
    mutating func sendDueOutbox(_ held: DirectoryTracker.Held, now: UnixTime, rng: inout some RandomSource,
                                effects: inout NodeEffects<Event>) {
        let due: [MessageRecord]
        do { due = try messenger.dueOutbox(now: now) } catch {
            effects.events.append(.problem("outbox unreadable: \(error)"))
            outboxDue = now.adding(.seconds(1))
            return
        }
        var failed = false
        for message in due {
            do {
                guard let outgoing = try messenger.prepareSend(message, now: now, rng: &rng) else { continue }
                // A retry makes a fresh link: the entry relay may have restarted and lost ours.
                try send(outgoing, held: held, freshLink: outgoing.attempt > 1, now: now, rng: &rng, effects: &effects)
            } catch {
                status.drop("send_failed")
                failed = true
            }
        }
        outboxDue = try? messenger.nextOutboxDue()
        // A message whose attempt could not even be recorded (a store error rolled it back) is
        // still due: look again in a second rather than at once, again and again.
        if failed, let due = outboxDue, due <= now { outboxDue = now.adding(.seconds(1)) }
    }

    /// Fragments, seals and sends one session message to the first of the recipient's mailboxes
    /// (in this attempt's order) whose relay is listed.
    mutating func send(_ outgoing: Outgoing, held: DirectoryTracker.Held, freshLink: Bool, now: UnixTime,
                       rng: inout some RandomSource, effects: inout NodeEffects<Event>) throws {
        guard let mailbox = outgoing.mailboxesInTurn.first(where: { held.byID[$0.relayID] != nil }) else {
            throw SendError.noMailboxListed
        }
        let fragments = try SealedPacket.fragments(of: outgoing.message, transferID: outgoing.transferID)
        for fragment in fragments {
            let body = try SealedPacket.seal(fragment, to: outgoing.recipient, rng: &rng)
            try sendOnion(body, to: mailbox, held: held, freshLink: freshLink && fragment.index == 0, now: now, rng: &rng,
                          effects: &effects)
        }
    }

    /// Wraps `body` in a Sphinx packet along a random path ending at the mailbox's relay, and
    /// hands it to the path's first relay: at once when cover traffic is off, otherwise in the
    /// place of the next cover packet, so that the client's sending times are the Poisson
    /// process whether it has something to say or not (Loopix).
    private mutating func sendOnion(_ body: [UInt8], to mailbox: MailboxAddress, held: DirectoryTracker.Held, freshLink: Bool,
                                    now: UnixTime, rng: inout some RandomSource, effects: inout NodeEffects<Event>) throws {
        let (packet, entry) = try onion(body, to: mailbox, held: held, now: now, rng: &rng)
        guard coverRate > 0 else { return try transmit(packet, via: entry, freshLink: freshLink, now: now, rng: &rng, effects: &effects) }
        guard paced.count - pacedHead < configuration.pacedCapacity else {
            // More real traffic than the cover rate carries for a long while: send rather than lose it.
            status.drop("pacing_overflow")
            return try transmit(packet, via: entry, freshLink: freshLink, now: now, rng: &rng, effects: &effects)
        }
        paced.append(Paced(packet: packet, entry: entry, freshLink: freshLink))
    }

    private func onion(_ body: [UInt8], to mailbox: MailboxAddress, held: DirectoryTracker.Held, now: UnixTime,
                       rng: inout some RandomSource) throws -> ([UInt8], RelayDescriptor) {
        guard let last = held.byID[mailbox.relayID] else { throw PathSelector.PathError.unknownRelay(mailbox.relayID) }
        let path = PathSelector.path(to: last, relays: held.descriptors, length: configuration.pathLength,
                                     avoiding: downRelays, rng: &rng)
        let meanDelay = Double(tracker.held?.directory.network.meanDelayMs ?? 0) * configuration.delayFactor
        let maxDelay = tracker.held?.directory.network.maxDelayMilliseconds ?? 60_000
        let packet = try PathSelector.packet(path: path, mailbox: mailbox.mailboxID, body: body, meanDelayMs: meanDelay,
                                             maxDelayMs: maxDelay, now: now, rng: &rng)
        return (packet, path[0])
    }

    private mutating func transmit(_ packet: [UInt8], via entry: RelayDescriptor, freshLink: Bool, now: UnixTime,
                                   rng: inout some RandomSource, effects: inout NodeEffects<Event>) throws {
        guard let peer = linkPeer(entry) else { throw SendError.noEntry(entry.id) }
        if freshLink { links.reset(entry.id) }
        guard links.send(LinkFrame.sphinx(packet).encoded(), to: peer, now: now, rng: &rng, out: &effects.datagrams) != .dropped else {
            return status.drop("send_failed")
        }
        status.packetsSent += 1
    }

    // MARK: Cover traffic

    /// Packets per second of the client's sending stream (Poisson), from the directory's λ and the profile.
    var coverRate: Double {
        (tracker.held?.directory.network.coverRate ?? 0) * configuration.coverRateFactor
    }

    /// Sends the slots of the Poisson stream that are due: each one a waiting real packet if
    /// there is one, else a loop cover packet (random bytes to one of our own mailboxes). The
    /// gaps are exponential with mean 1/λ, so the engine wakes only when a packet leaves.
    mutating func sendCover(_ held: DirectoryTracker.Held, now: UnixTime, rng: inout some RandomSource,
                            effects: inout NodeEffects<Event>) {
        let rate = coverRate
        guard rate > 0 else {
            nextCover = nil
            return
        }
        var slot = nextCover ?? now.adding(Self.exponentialGap(rate: rate, rng: &rng))
        // After a long pause (a suspended machine), do not send a burst: restart the stream.
        if now.duration(since: slot) > .seconds(5) { slot = now }
        while slot <= now {
            slot = slot.adding(Self.exponentialGap(rate: rate, rng: &rng))
            do {
                if pacedHead < paced.count {
                    let next = paced[pacedHead]
                    pacedHead += 1
                    if pacedHead > 64, pacedHead * 2 > paced.count {
                        paced.removeFirst(pacedHead)
                        pacedHead = 0
                    }
                    try transmit(next.packet, via: next.entry, freshLink: next.freshLink, now: now, rng: &rng, effects: &effects)
                } else if let own = messenger.mailboxes.randomElement(using: &rng) {
                    let (packet, entry) = try onion(rng.bytes(PacketGeometry.standard.bodyLength), to: own.address,
                                                    held: held, now: now, rng: &rng)
                    try transmit(packet, via: entry, freshLink: false, now: now, rng: &rng, effects: &effects)
                    status.coverPacketsSent += 1
                }
            } catch {
                status.drop("cover_failed")
            }
        }
        nextCover = slot
    }

    /// An exponential gap with mean 1/`rate` seconds.
    static func exponentialGap(rate: Double, rng: inout some RandomSource) -> Duration {
        let u = Double.random(in: Double.leastNonzeroMagnitude..<1, using: &rng)
        return .nanoseconds(Int64(min(-log(u) / rate, 3_600) * 1e9))
    }
}
