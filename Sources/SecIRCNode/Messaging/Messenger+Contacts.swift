public import SecIRCCore
public import SecIRCCrypto

extension Messenger {
    /// Adds the contact an invite names and starts a session with it: the set-up travels with an
    /// introduction message through the outbox, so the other side learns of us. `name` must be a
    /// valid ``DisplayName`` when given; else the invite's hint is used when valid, else the
    /// start of the ID (made distinct from the other contacts' names). Adding someone whose
    /// contact request waits accepts the request (renamed to `name` when given); adding someone
    /// whose request was rejected lifts the block. Throws `invalidInvite`, `invalidRequest` (own
    /// invite, bad name), `conflict` (already a contact) or `notReady` (no mailboxes yet).
    public func addContact(inviteURI: String, name: String?, now: UnixTime, rng: inout some RandomSource) throws -> ContactRecord {
        let invite: Invite
        do { invite = try Invite.parse(uri: inviteURI.trimmingWhitespace(), now: now) } catch {
            throw MessengerError.invalidInvite("\(error)")
        }
        let id = invite.identityKey.id
        guard id != identity.id else { throw MessengerError.invalidRequest("this is your own invite") }
        // A name given by the caller must be valid; the invite's hint is only a suggestion.
        let given = try name.map(DisplayName.validated)
        let ownMailboxes = mailboxes // read before the transaction (lock order)
        defer { queuesChanged() }
        return try store.write { tx in
            if var existing = try tx.contact(id: id) {
                guard existing.isRequest, let session = try tx.session(of: id) else {
                    throw MessengerError.conflict("\(id.hex) is already a contact")
                }
                existing.consent = .accepted
                if let given { existing.name = given }
                try tx.updateContact(existing, session: session)
                return existing
            }
            let name = try given ?? DisplayName.distinct(invite.displayNameHint.flatMap { try? DisplayName.validated($0) }
                ?? String(id.hex.prefix(8)), from: tx.contacts().map(\.name))
            try tx.clearBlocked(id)
            // A session set-up must be newer than any session this pair had before (see `acceptSetup`).
            let removed = try tx.removedContact(id: id)
            // Its own queue at each of our mailbox relays, named in the card it gets with the set-up.
            let queues = Self.withQueues([], contact: id, at: ownMailboxes, now: now,
                                         notBeforeMs: removed.map { ($0.created + 1) * 1_000 } ?? 0, rng: &rng)
            let card = try card(for: queues, mailboxes: ownMailboxes, now: now)
            let setup: (ratchet: DoubleRatchet, initialMessage: InitialMessage)
            do { setup = try SessionSetup.initiate(identity: identity.keys, invite: invite, rng: &rng) } catch {
                throw MessengerError.invalidInvite("session set-up failed: \(error)")
            }
            let ad = Self.associatedData(initiator: identity.agreementKey, initiatorKey: identity.signingKey,
                                         responder: invite.identityAgreementKey, responderKey: invite.identityKey)
            let record = ContactRecord(id: id, identityKey: invite.identityKey, agreementKey: invite.identityAgreementKey, name: name,
                                       addedMs: now.milliseconds, mailboxes: invite.mailboxes, session: .initiated)
            let session = ContactSession(ratchet: setup.ratchet, associatedData: ad,
                                         pendingSetup: SessionMessage.Setup(card: card, initialMessage: setup.initialMessage),
                                         origin: SessionOrigin(created: Int64(clamping: card.created), initiator: identity.id),
                                         generation: 1)
            try tx.clearRemovedContact(id)
            try tx.insertContact(record, session: session)
            try tx.setContactQueues(queues, of: id)
            _ = try tx.insertMessage(id: MessageID(using: &rng), contact: id, direction: .outgoing, kind: .introduction,
                                     timestampMs: now.milliseconds, body: [], state: .queued, nextAttemptMs: now.milliseconds)
            return record
        }
    }

    /// Renames a contact. Throws `invalidRequest` for a name that is not a valid ``DisplayName``
    /// (checked first), `notFound` when there is no such contact.
    public func renameContact(id: ID, to name: String) throws -> ContactRecord {
        let name = try DisplayName.validated(name)
        return try store.write { tx in
            guard try tx.renameContact(id, to: name), let record = try tx.contact(id: id) else {
                throw MessengerError.notFound("no contact \(id.hex)")
            }
            return record
        }
    }

    /// Removes a contact with its session and messages. What its session was is kept, so that an
    /// old session set-up still in flight cannot bring the contact back (only a newer one can).
    public func removeContact(id: ID) throws {
        defer { queuesChanged() }
        try store.write { tx in
            guard let session = try tx.session(of: id) else { throw MessengerError.notFound("no contact \(id.hex)") }
            try tx.setRemovedContact(id, origin: session.origin)
            guard try tx.deleteContact(id) else { throw MessengerError.notFound("no contact \(id.hex)") }
        }
    }

    /// Accepts a contact request: the contact is shown with what it sent, gets its deposit queues
    /// (in a card, like any new contact) and may be written to. Returns the contact and the text
    /// messages it sent while it waited (to announce). Accepting a contact that is no request
    /// changes nothing. Throws `notFound` when there is no such contact.
    public func acceptContact(id: ID) throws -> (contact: ContactRecord, messages: [MessageRecord]) {
        defer { queuesChanged() }
        return try store.write { tx in
            guard var record = try tx.contact(id: id), let session = try tx.session(of: id) else {
                throw MessengerError.notFound("no contact \(id.hex)")
            }
            guard record.isRequest else { return (record, []) }
            record.consent = .accepted
            try tx.updateContact(record, session: session)
            let held = try tx.textMessages(with: id, before: nil, limit: policy.maximumMessagesPerRequest).messages
            return (record, held)
        }
    }

    /// Rejects a contact request: it is deleted with everything it sent, and set-ups from that
    /// identity are refused from then on (`blocked`) until the user adds it from an invite.
    /// Throws `notFound` when there is no such contact, `conflict` when it is no request (remove
    /// it instead).
    public func rejectContact(id: ID, now: UnixTime) throws {
        try store.write { tx in
            guard let record = try tx.contact(id: id), let session = try tx.session(of: id) else {
                throw MessengerError.notFound("no contact \(id.hex)")
            }
            guard record.isRequest else { throw MessengerError.conflict("\(record.name) is no contact request: remove it instead") }
            try tx.setRemovedContact(id, origin: session.origin)
            try tx.setBlocked(id, atMs: now.milliseconds)
            guard try tx.deleteContact(id) else { throw MessengerError.notFound("no contact \(id.hex)") }
        }
    }

    /// Every contact, by when it was added.
    public func contacts() throws -> [ContactRecord] { try store.read { try $0.contacts() } }

    public func contact(id: ID) throws -> ContactRecord? { try store.read { try $0.contact(id: id) } }
}
