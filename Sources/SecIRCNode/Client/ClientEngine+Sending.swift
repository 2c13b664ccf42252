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
        var ready: [MessageRecord] = []
        for message in due {
            // Its last attempt still waits for slots of the cover stream: a copy behind it
            // would only take another slot. Its backoff starts again once that has left.
            guard pacedMessages[message.id, default: 0] > 0 else {
                ready.append(message)
                continue
            }
            do { try messenger.postpone(message, until: now.adding(expectedSendDelay(fragments: 0))) } catch {
                status.drop(.sendFailed)
                failed = true
            }
        }
        for prepared in prepare(ready, now: now, rng: &rng) {
            do {
                guard let outgoing = try prepared.get() else { continue }
                // A retry makes a fresh link: the entry relay may have restarted and lost ours.
                try send(outgoing, held: held, freshLink: outgoing.attempt > 1, now: now, rng: &rng, effects: &effects)
            } catch {
                status.drop(.sendFailed)
                failed = true
            }
        }
        outboxDue = try? messenger.nextOutboxDue()
        // A message whose attempt could not even be recorded (a store error rolled it back) is
        // still due: look again in a second rather than at once, again and again.
        if failed, let due = outboxDue, due <= now { outboxDue = now.adding(.seconds(1)) }
    }

    /// The next attempts of `messages`, all prepared in one store transaction (one sync of the
    /// database for the turn, not one for each message). Should that fail, each is prepared on
    /// its own, so a message the store cannot prepare holds up no other.
    private func prepare(_ messages: [MessageRecord], now: UnixTime, rng: inout some RandomSource) -> [Result<Outgoing?, any Error>] {
        // Each message waits in the cover stream behind those prepared before it in this turn.
        let batch = Result { try messenger.prepareSends(messages, now: now, sendDelay: { expectedSendDelay(fragments: 1 + $0) }, rng: &rng) }
        switch batch {
        case let .success(prepared):
            return prepared.map { .success($0) }
        case let .failure(error) where messages.count == 1:
            return [.failure(error)]
        case .failure:
            return messages.enumerated().map { position, message in
                Result { try messenger.prepareSend(message, now: now, sendDelay: expectedSendDelay(fragments: 1 + position), rng: &rng) }
            }
        }
    }

    /// Fragments, seals and sends one session message to the first of the recipient's mailboxes
    /// (in this attempt's order) whose relay is listed.
    mutating func send(_ outgoing: Outgoing, held: DirectoryTracker.Held, freshLink: Bool, now: UnixTime,
                       rng: inout some RandomSource, effects: inout NodeEffects<Event>) throws {
        guard let mailbox = outgoing.mailboxesInTurn.first(where: { held.byID[$0.relayID] != nil }) else {
            throw SendError.noMailboxListed
        }
        for (index, (packet, entry)) in try onions(of: outgoing, to: mailbox, held: held, now: now, rng: &rng).enumerated() {
            try sendOnion(packet, via: entry, freshLink: freshLink && index == 0, message: outgoing.messageID, now: now,
                          rng: &rng, effects: &effects)
        }
    }

    /// The session message of `outgoing` in fragments, each sealed to the recipient and wrapped
    /// in a Sphinx packet along its own random path ending at `mailbox`'s relay; with the path's
    /// first relay.
    private func onions(of outgoing: Outgoing, to mailbox: MailboxAddress, held: DirectoryTracker.Held, now: UnixTime,
                        rng: inout some RandomSource) throws -> [(packet: [UInt8], entry: RelayDescriptor)] {
        try SealedPacket.fragments(of: outgoing.message, transferID: outgoing.transferID).map { fragment in
            try onion(SealedPacket.seal(fragment, to: outgoing.recipient, rng: &rng), to: mailbox, held: held, now: now, rng: &rng)
        }
    }

    /// Hands a wrapped packet to the path's first relay: at once when cover traffic is off,
    /// otherwise in the place of the next cover packet, so that the client's sending times are
    /// the Poisson process whether it has something to say or not (Loopix).
    mutating func sendOnion(_ packet: [UInt8], via entry: RelayDescriptor, freshLink: Bool, message: MessageID?,
                                    now: UnixTime, rng: inout some RandomSource, effects: inout NodeEffects<Event>) throws {
        guard coverRate > 0 else { return try transmit(packet, via: entry, freshLink: freshLink, now: now, rng: &rng, effects: &effects) }
        guard paced.count - pacedHead < configuration.pacedCapacity else {
            // More real traffic than the cover rate carries for a long while: send rather than lose it.
            status.drop(.pacingOverflow)
            return try transmit(packet, via: entry, freshLink: freshLink, now: now, rng: &rng, effects: &effects)
        }
        paced.append(Paced(content: .packet(packet, entry: entry, freshLink: freshLink), message: message))
        if let message { pacedMessages[message, default: 0] += 1 }
    }

    /// The most message IDs a receipt waiting for its slot collects (they fit one fragment).
    static var maxPacedReceiptIDs: Int { 16 }

    /// Answers `ids` from `contact` with a receipt. Without cover traffic it leaves at the end
    /// of this turn of the loop (``sendReceipts(_:now:rng:effects:)``), with the other receipts
    /// to the same contact made in the turn (a pushed batch costs one receipt, not one each);
    /// with cover traffic it waits in the cover stream, joining a receipt to the same contact
    /// that still waits for its slot.
    mutating func acknowledge(_ ids: [MessageID], to contact: ID, held: DirectoryTracker.Held, now: UnixTime,
                              rng: inout some RandomSource, effects: inout NodeEffects<Event>) {
        guard coverRate > 0, paced.count - pacedHead < configuration.pacedCapacity else {
            if receipts[contact] == nil { receiptOrder.append(contact) }
            receipts[contact, default: []].append(contentsOf: ids.filter { !(receipts[contact]?.contains($0) ?? false) })
            return
        }
        var ids = ids
        for i in pacedHead..<paced.count {
            guard case let .receipt(waiting, waitingIDs) = paced[i].content, waiting == contact else { continue }
            let new = ids.filter { !waitingIDs.contains($0) }
            let joined = min(new.count, Self.maxPacedReceiptIDs - waitingIDs.count)
            if joined > 0 { paced[i].content = .receipt(contact: contact, ids: waitingIDs + new.prefix(joined)) }
            ids = Array(new.dropFirst(joined))
            if ids.isEmpty { return }
        }
        while !ids.isEmpty {
            paced.append(Paced(content: .receipt(contact: contact, ids: Array(ids.prefix(Self.maxPacedReceiptIDs)))))
            ids.removeFirst(min(ids.count, Self.maxPacedReceiptIDs))
        }
    }

    /// Sends the receipts made in this turn, one per contact (at most ``maxPacedReceiptIDs``
    /// IDs each, so each is one packet).
    mutating func sendReceipts(_ held: DirectoryTracker.Held, now: UnixTime, rng: inout some RandomSource,
                               effects: inout NodeEffects<Event>) {
        for contact in receiptOrder {
            var ids = receipts[contact] ?? []
            while !ids.isEmpty {
                do {
                    if let outgoing = try messenger.prepareReceipt(to: contact, ids: Array(ids.prefix(Self.maxPacedReceiptIDs)), now: now,
                                                                   rng: &rng) {
                        try send(outgoing, held: held, freshLink: false, now: now, rng: &rng, effects: &effects)
                    }
                } catch {
                    status.drop(.receiptFailed)
                }
                ids.removeFirst(min(ids.count, Self.maxPacedReceiptIDs))
            }
        }
        receipts = [:]
        receiptOrder = []
    }

    /// With cover traffic: how long an attempt of `fragments` packets is expected to take before
    /// its receipt can start back — a slot (1/λ on average) for each packet waiting ahead of it
    /// and each of its own, and one for the receipt at the contact. Zero without cover traffic.
    func expectedSendDelay(fragments: Int) -> Duration {
        let rate = coverRate
        guard rate > 0 else { return .zero }
        let slots = Double(paced.count - pacedHead + fragments + 1)
        return .nanoseconds(Int64(min(slots / rate, 3_600) * 1e9))
    }

    func onion(_ body: [UInt8], to mailbox: MailboxAddress, held: DirectoryTracker.Held, now: UnixTime,
                       rng: inout some RandomSource) throws -> ([UInt8], RelayDescriptor) {
        guard let last = held.byID[mailbox.relayID] else { throw PathSelector.PathError.unknownRelay(mailbox.relayID) }
        return try onion(body, ending: .deliver(to: mailbox.mailboxID), at: last, held: held, now: now, rng: &rng)
    }

    /// `body` wrapped for a random path ending at `last`, whose command there is `final`; with
    /// the path's first relay.
    private func onion(_ body: [UInt8], ending final: RoutingCommand, at last: RelayDescriptor, held: DirectoryTracker.Held,
                       now: UnixTime, rng: inout some RandomSource) throws -> ([UInt8], RelayDescriptor) {
        let path = PathSelector.path(to: last, relays: held.descriptors, length: configuration.pathLength,
                                     avoiding: downRelays, ratings: held.ratings, rng: &rng)
        let meanDelay = Double(tracker.held?.directory.network.meanDelayMs ?? 0) * configuration.delayFactor
        let maxDelay = tracker.held?.directory.network.maxDelayMilliseconds ?? 60_000
        let packet = try PathSelector.packet(path: path, ending: final, body: body, meanDelayMs: meanDelay,
                                             maxDelayMs: maxDelay, now: now, rng: &rng)
        return (packet, path[0])
    }

    private mutating func transmit(_ packet: [UInt8], via entry: RelayDescriptor, freshLink: Bool, now: UnixTime,
                                   rng: inout some RandomSource, effects: inout NodeEffects<Event>) throws {
        guard let peer = linkPeer(entry) else { throw SendError.noEntry(entry.id) }
        // A retry makes the link again — once per relay in `freshLinkInterval`: many messages
        // retried at once (a burst of invitations) must not tear down the link over and over.
        if freshLink, lastFreshLink[entry.id].map({ now.duration(since: $0) >= Self.freshLinkInterval || $0 > now }) ?? true {
            lastFreshLink[entry.id] = now
            links.reset(entry.id)
        }
        guard links.send(LinkFrame.sphinx(packet).encoded(), to: peer, now: now, rng: &rng, out: &effects.datagrams) != .dropped else {
            return status.drop(.sendFailed)
        }
        status.packetsSent += 1
    }

    // MARK: Cover traffic

    /// Packets per second of the client's payload stream (Poisson), from the directory's λ and the profile.
    var coverRate: Double {
        (tracker.held?.directory.network.coverRate ?? 0) * configuration.coverRateFactor
    }

    /// Packets per second of the client's loop stream (Poisson), from the directory's λ_L and the profile.
    var loopRate: Double {
        (tracker.held?.directory.network.loopRate ?? 0) * configuration.coverRateFactor
    }

    /// Sends the slots of the client's two Poisson streams that are due (Loopix): in the payload
    /// stream a waiting real packet if there is one, else a drop cover packet; in the loop
    /// stream a loop cover packet to one of its own mailboxes. The gaps are exponential, so the
    /// engine wakes only when a packet leaves.
    mutating func sendCover(_ held: DirectoryTracker.Held, now: UnixTime, rng: inout some RandomSource,
                            effects: inout NodeEffects<Event>) {
        let payload = Self.dueSlots(after: nextCover, rate: coverRate, now: now, rng: &rng)
        nextCover = payload.next
        for _ in 0..<payload.due {
            do {
                if pacedHead < paced.count {
                    try sendPaced(held, now: now, rng: &rng, effects: &effects)
                } else {
                    try sendCoverPacket(held, loop: false, now: now, rng: &rng, effects: &effects)
                }
            } catch {
                status.drop(.coverFailed)
            }
        }
        let loops = Self.dueSlots(after: nextLoop, rate: loopRate, now: now, rng: &rng)
        nextLoop = loops.next
        for _ in 0..<loops.due {
            do { try sendCoverPacket(held, loop: true, now: now, rng: &rng, effects: &effects) } catch {
                status.drop(.coverFailed)
            }
        }
    }

    /// How many slots of a Poisson stream of `rate` whose next slot was `next` are due at `now`,
    /// and the slot after them (nil: no stream). The first slot is drawn from `now`; after a
    /// long pause (a suspended machine) the stream starts again from `now` rather than sending
    /// the missed slots in a burst.
    static func dueSlots(after next: UnixTime?, rate: Double, now: UnixTime,
                         rng: inout some RandomSource) -> (due: Int, next: UnixTime?) {
        guard rate > 0 else { return (0, nil) }
        var slot = next ?? now.adding(exponentialGap(rate: rate, rng: &rng))
        if now.duration(since: slot) > .seconds(5) { slot = now }
        var due = 0
        while slot <= now {
            due += 1
            slot = slot.adding(exponentialGap(rate: rate, rng: &rng))
        }
        return (due, slot)
    }

    /// One cover packet of 814 random bytes along a random path: a *drop* to a random relay
    /// (the payload stream's empty slots; the last relay discards it), or a *loop* to the loop
    /// queue of one of our own mailboxes (it comes back and is counted).
    private mutating func sendCoverPacket(_ held: DirectoryTracker.Held, loop: Bool, now: UnixTime,
                                          rng: inout some RandomSource, effects: inout NodeEffects<Event>) throws {
        let body = rng.bytes(PacketGeometry.standard.bodyLength)
        let packet: ([UInt8], RelayDescriptor)
        if loop {
            guard let own = messenger.mailboxes.randomElement(using: &rng) else { return }
            packet = try onion(body, to: MailboxAddress(relayID: own.relayID, mailboxID: own.loopQueue), held: held, now: now, rng: &rng)
        } else {
            let relays = held.descriptors.filter { !downRelays.contains($0.id) }
            // Ends where real packets end as often: at relays drawn by the ring's weights.
            guard let last = PathSelector.weightedPrefix(of: relays.isEmpty ? held.descriptors : relays, count: 1,
                                                         weight: { held.ratings[$0.id]?.weight ?? 1 }, rng: &rng).first else { return }
            packet = try onion(body, ending: .drop, at: last, held: held, now: now, rng: &rng)
        }
        try transmit(packet.0, via: packet.1, freshLink: false, now: now, rng: &rng, effects: &effects)
        status.coverPacketsSent += 1
        if loop { status.loopPacketsSent += 1 }
    }

    /// Sends the oldest real packet waiting for a slot. A receipt is encrypted and wrapped now;
    /// should it need more than one packet, the rest wait first in line.
    private mutating func sendPaced(_ held: DirectoryTracker.Held, now: UnixTime, rng: inout some RandomSource,
                                    effects: inout NodeEffects<Event>) throws {
        let next = paced[pacedHead]
        pacedHead += 1
        if let message = next.message {
            pacedMessages[message, default: 1] -= 1
            if pacedMessages[message] == 0 { pacedMessages[message] = nil }
        }
        switch next.content {
        case let .packet(packet, entry, freshLink):
            try transmit(packet, via: entry, freshLink: freshLink, now: now, rng: &rng, effects: &effects)
        case let .receipt(contact, ids):
            guard let outgoing = try messenger.prepareReceipt(to: contact, ids: ids, now: now, rng: &rng),
                  let mailbox = outgoing.mailboxesInTurn.first(where: { held.byID[$0.relayID] != nil })
            else { return status.drop(.receiptFailed) }
            let packets = try onions(of: outgoing, to: mailbox, held: held, now: now, rng: &rng)
            try transmit(packets[0].packet, via: packets[0].entry, freshLink: false, now: now, rng: &rng, effects: &effects)
            paced.insert(contentsOf: packets.dropFirst().map { Paced(content: .packet($0.packet, entry: $0.entry, freshLink: false)) },
                         at: pacedHead)
        }
        if pacedHead > 64, pacedHead * 2 > paced.count {
            paced.removeFirst(pacedHead)
            pacedHead = 0
        }
    }

    /// An exponential gap with mean 1/`rate` seconds.
    static func exponentialGap(rate: Double, rng: inout some RandomSource) -> Duration {
        let u = Double.random(in: Double.leastNonzeroMagnitude..<1, using: &rng)
        return .nanoseconds(Int64(min(-log(u) / rate, 3_600) * 1e9))
    }
}
