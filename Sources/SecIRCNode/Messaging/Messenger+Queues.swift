public import SecIRCCore
public import SecIRCCrypto

/// Deposit queues: each contact writes to a queue of its own at each of our mailbox relays
/// (docs/PROTOCOL.md §4, Deposit queues). The invite's address (the mailbox ID) serves only
/// first contact; the contact card we send one contact names that contact's queues, so a contact
/// that floods its queue fills that queue alone, and the owner can rotate or close it.
extension Messenger {
    /// How long a rotated-out queue stays registered, so mail sent before the contact learned the
    /// new one still arrives.
    public static let queueRotationGraceMs: Int64 = 3_600_000

    /// The queue IDs the relay `relay` should accept deposits to for our mailbox there, at `now`.
    public func depositQueues(at relay: ID, now: UnixTime) throws -> Set<Bytes32> {
        try store.read { tx in
            Set(try tx.contactQueues().filter { $0.relayID == relay && $0.isRegistered(nowMs: now.milliseconds) }.map(\.id))
        }
    }

    /// The queues of one contact (open, closing and closed).
    public func queues(of contact: ID) throws -> [ContactQueue] {
        try store.read { tx in try tx.contactQueues().filter { $0.contact == contact } }
    }

    /// Gives every contact a queue at each of our mailbox relays where it has none (contacts
    /// from before queues existed, or a relay added since), and sends each contact that got one
    /// its new card. Contacts whose queues the owner closed are left alone. Returns how many
    /// contacts changed.
    @discardableResult
    public func ensureContactQueues(now: UnixTime, rng: inout some RandomSource) throws -> Int {
        let own = mailboxes
        guard !own.isEmpty else { return 0 }
        // Read first: on most turns nothing lacks a queue, and a read costs less than a write.
        let lacking = try store.read { tx in
            let all = try tx.contactQueues()
            return try tx.contacts().contains { contact in
                guard !contact.isRequest else { return false }
                let queues = all.filter { $0.contact == contact.id }
                return !queues.contains { $0.state == .closed }
                    && own.contains { mailbox in !queues.contains { $0.relayID == mailbox.relayID && $0.state == .open } }
            }
        }
        guard lacking else { return 0 }
        defer { queuesChanged() }
        return try store.write { tx in
            var changed = 0
            let all = try tx.contactQueues()
            for contact in try tx.contacts() where !contact.isRequest { // requests get queues once accepted
                let queues = all.filter { $0.contact == contact.id }
                guard !queues.contains(where: { $0.state == .closed }) else { continue }
                let updated = Self.withQueues(queues, contact: contact.id, at: own, now: now, rng: &rng)
                guard updated != queues else { continue }
                try tx.setContactQueues(updated, of: contact.id)
                try queueCardUpdate(tx, to: contact.id, queues: updated, mailboxes: own, now: now, rng: &rng)
                changed += 1
            }
            return changed
        }
    }

    /// New queues for `contact` at every mailbox relay, sent to it in a new card; the old ones
    /// stay registered for ``queueRotationGraceMs`` (closed ones are dropped at once). Also how
    /// the owner opens queues it closed. Throws `notFound` for an unknown contact, `notReady`
    /// before mailboxes are chosen.
    public func rotateQueues(of contact: ID, now: UnixTime, rng: inout some RandomSource) throws -> [ContactQueue] {
        let own = mailboxes
        guard !own.isEmpty else { throw MessengerError.notReady("no verified directory yet: mailbox relays are not chosen") }
        defer { queuesChanged() }
        return try store.write { tx in
            guard let record = try tx.contact(id: contact) else { throw MessengerError.notFound("no contact \(contact.hex)") }
            guard !record.isRequest else { throw MessengerError.conflict("a contact request gets queues once it is accepted") }
            let closeAt = now.milliseconds + Self.queueRotationGraceMs
            var kept: [ContactQueue] = []
            for var queue in try tx.contactQueues() where queue.contact == contact && queue.isRegistered(nowMs: now.milliseconds) {
                if queue.state == .open { queue.state = .closing(atMs: closeAt) }
                kept.append(queue)
            }
            let fresh = Self.withQueues([], contact: contact, at: own, now: now, after: kept, rng: &rng)
            let updated = kept + fresh
            try tx.setContactQueues(updated, of: contact)
            try queueCardUpdate(tx, to: contact, queues: updated, mailboxes: own, now: now, rng: &rng)
            return updated
        }
    }

    /// Closes every queue of `contact` at once: the relays stop accepting its deposits there
    /// (what they hold stays), and no new queue is made for it until ``rotateQueues(of:now:rng:)``.
    /// The contact is not told; it can still write to the introduction address, which is slow.
    public func closeQueues(of contact: ID) throws -> [ContactQueue] {
        defer { queuesChanged() }
        return try store.write { tx in
            guard try tx.contact(id: contact) != nil else { throw MessengerError.notFound("no contact \(contact.hex)") }
            // One closed queue per relay is kept, as the mark that this contact's queues are closed.
            var newest: [ID: ContactQueue] = [:]
            for queue in try tx.contactQueues() where queue.contact == contact {
                if queue.createdMs >= newest[queue.relayID]?.createdMs ?? .min { newest[queue.relayID] = queue }
            }
            let closed = newest.values.sorted { ($0.createdMs, $0.relayID) < ($1.createdMs, $1.relayID) }.map {
                ContactQueue(contact: $0.contact, relayID: $0.relayID, id: $0.id, createdMs: $0.createdMs, state: .closed)
            }
            try tx.setContactQueues(closed, of: contact)
            return closed
        }
    }

    // MARK: Inside transactions

    /// `queues` with an open queue added at each of `mailboxes`' relays that has no open one,
    /// created after every queue in `after` and `queues` (so the card naming it is strictly
    /// newer, ``ContactCardUpdate``) and not before `notBeforeMs`.
    static func withQueues(_ queues: [ContactQueue], contact: ID, at mailboxes: [MailboxKey], now: UnixTime,
                           after: [ContactQueue] = [], notBeforeMs: Int64 = 0, rng: inout some RandomSource) -> [ContactQueue] {
        let newest = (queues + after).map(\.createdMs).max().map { $0 + 1_000 } ?? 0
        let createdMs = max(now.milliseconds, newest, notBeforeMs)
        var result = queues
        for mailbox in mailboxes where !queues.contains(where: { $0.relayID == mailbox.relayID && $0.state == .open }) {
            result.append(ContactQueue(contact: contact, relayID: mailbox.relayID, id: Bytes32 { rng.fill($0) }, createdMs: createdMs))
        }
        return result
    }

    /// The contact card we send one contact: our identity, and as mailboxes its open queues at
    /// `mailboxes`' relays (our mailbox IDs where it has none, which only a contact whose queues
    /// were closed can see). Created at its newest queue's time (seconds), so each new card
    /// replaces the last one sent.
    func card(for queues: [ContactQueue], mailboxes: [MailboxKey], now: UnixTime) throws(MessengerError) -> ContactCard {
        let addresses = mailboxes.map { mailbox in
            let queue = queues.last { $0.relayID == mailbox.relayID && $0.state == .open }
            return MailboxAddress(relayID: mailbox.relayID, mailboxID: queue?.id ?? mailbox.address.mailboxID)
        }
        let created = queues.map { $0.createdMs / 1_000 }.max() ?? now.seconds
        return try card(now: UnixTime(seconds: max(created, 0)), addresses: addresses)
    }

    /// Queues a card update (kind 8, not shown) to `contact` naming its queues.
    func queueCardUpdate(_ tx: any MessengerTransaction, to contact: ID, queues: [ContactQueue], mailboxes: [MailboxKey],
                         now: UnixTime, rng: inout some RandomSource) throws {
        let card = try card(for: queues, mailboxes: mailboxes, now: now).encoded
        _ = try tx.insertMessage(id: MessageID(using: &rng), contact: contact, direction: .outgoing, kind: .cardUpdate,
                                 timestampMs: now.milliseconds, body: card, state: .queued, nextAttemptMs: now.milliseconds)
    }
}
