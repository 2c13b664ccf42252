public import SecIRCCore
public import SecIRCCrypto

extension Messenger {
    /// Puts a text message in the outbox (stored before anything is sent), with an ID from `rng`.
    /// Throws `invalidRequest` for an empty or too long text, `notFound` for an unknown contact,
    /// `conflict` for a contact request not yet accepted.
    public func queueText(to contact: ID, text: String, now: UnixTime, rng: inout some RandomSource) throws -> MessageRecord {
        let body = Array(text.utf8)
        guard !body.isEmpty, body.count <= Self.maximumTextBytes else {
            throw MessengerError.invalidRequest("text must be 1 to \(Self.maximumTextBytes) bytes of UTF-8")
        }
        return try store.write { tx in
            guard let record = try tx.contact(id: contact) else { throw MessengerError.notFound("no contact \(contact.hex)") }
            guard !record.isRequest else { throw MessengerError.conflict("accept the contact request before writing to it") }
            return try tx.insertMessage(id: MessageID(using: &rng), contact: contact, direction: .outgoing, kind: .text,
                                        timestampMs: now.milliseconds, body: body, state: .queued, nextAttemptMs: now.milliseconds)
        }
    }

    /// The next attempt of an outbox message, scheduling the one after (``RetrySchedule``) first,
    /// so a message that cannot be prepared is not due again at once. The session message is
    /// encrypted once per session and kept on the outbox entry: a retry sends the same bytes in
    /// the same transfer (``SealedPacket/transferID(of:)``), so retries never use up ratchet
    /// message numbers (a receiver accepts a gap of at most `DoubleRatchet.maxSkip`) and the
    /// receiver completes a message from the fragments of several attempts. It is encrypted
    /// again only when the contact's session was replaced since. Nil when it was delivered meanwhile or cannot be
    /// sent to this contact.
    ///
    /// - Parameter sendDelay: how long the attempt is expected to take before a receipt can
    ///   even start back (with cover traffic: its wait for slots of the sending stream and the
    ///   receipt's at the contact); the backoff runs from then, so a message is not sent again
    ///   while its last attempt still waits to leave.
    public func prepareSend(_ message: MessageRecord, now: UnixTime, sendDelay: Duration = .zero,
                            rng: inout some RandomSource) throws -> Outgoing? {
        try store.write { tx in try prepareSend(tx, message, now: now, sendDelay: sendDelay, rng: &rng) }
    }

    /// ``prepareSend(_:now:sendDelay:rng:)`` for several outbox messages in one transaction: one
    /// commit (one sync of the database) for all of them. One result for each message, in order.
    /// When it throws nothing is prepared and every message is still due; a caller that cannot
    /// tell which one failed prepares them one at a time.
    ///
    /// - Parameter sendDelay: the `sendDelay` of the message at each position of `messages`.
    public func prepareSends(_ messages: [MessageRecord], now: UnixTime, sendDelay: (_ position: Int) -> Duration = { _ in .zero },
                             rng: inout some RandomSource) throws -> [Outgoing?] {
        guard !messages.isEmpty else { return [] }
        return try store.write { tx in
            var prepared: [Outgoing?] = []
            prepared.reserveCapacity(messages.count)
            for (position, message) in messages.enumerated() {
                prepared.append(try prepareSend(tx, message, now: now, sendDelay: sendDelay(position), rng: &rng))
            }
            return prepared
        }
    }

    private func prepareSend(_ tx: any MessengerTransaction, _ message: MessageRecord, now: UnixTime, sendDelay: Duration,
                             rng: inout some RandomSource) throws -> Outgoing? {
        guard let entry = try tx.outboxEntry(cursor: message.cursor), entry.nextAttemptMs != nil else { return nil }
        let attempts = entry.attempts + 1
        try tx.recordAttempt(cursor: message.cursor, attempts: attempts,
                             nextAttemptMs: retry.nextAttemptMs(afterAttempt: attempts, at: now.adding(sendDelay)))
        guard let contact = try tx.contact(id: message.contact), !contact.mailboxes.isEmpty,
              let session = try tx.session(of: contact.id)
        else { return nil }
        let bytes: [UInt8]
        if let payload = entry.payload, payload.generation == session.generation {
            bytes = payload.bytes
        } else {
            let envelope = Envelope(id: message.id, kind: message.kind, timestampMs: UInt64(max(message.timestampMs, 0)),
                                    body: message.body)
            do { bytes = try encrypt(tx, envelope: envelope, to: contact.id, session: session, rng: &rng) } catch {
                return nil // the ratchet refused (state unchanged); the backoff above stands
            }
            try tx.setPayload(StoredPayload(bytes: bytes, generation: session.generation), cursor: message.cursor)
        }
        try tx.setState(.sent, cursor: message.cursor)
        return Outgoing(messageID: message.id, transferID: SealedPacket.transferID(of: bytes), message: bytes,
                        recipient: contact.agreementKey, mailboxes: contact.mailboxes, attempt: attempts)
    }

    /// Moves an outbox message's next attempt to `until` without making one (its last attempt
    /// has not left yet). Nothing when it was delivered meanwhile.
    public func postpone(_ message: MessageRecord, until: UnixTime) throws {
        try store.write { tx in
            guard let entry = try tx.outboxEntry(cursor: message.cursor), entry.nextAttemptMs != nil else { return }
            try tx.recordAttempt(cursor: message.cursor, attempts: entry.attempts, nextAttemptMs: until.milliseconds)
        }
    }

    /// A receipt for `ids` (at most `Envelope.maximumReceiptCount`), encrypted to `contact`.
    /// Receipts are not retried: a lost receipt makes the sender send again, and the duplicate is
    /// acknowledged again. Nil when the contact is gone or has no mailboxes.
    public func prepareReceipt(to contact: ID, ids: [MessageID], now: UnixTime, rng: inout some RandomSource) throws -> Outgoing? {
        let envelope = Envelope.receipt(for: Array(ids.prefix(Envelope.maximumReceiptCount)), id: MessageID(using: &rng),
                                        timestampMs: UInt64(max(now.milliseconds, 0)))
        return try store.write { tx -> Outgoing? in
            guard let record = try tx.contact(id: contact), !record.mailboxes.isEmpty,
                  let session = try tx.session(of: contact)
            else { return nil }
            let bytes = try encrypt(tx, envelope: envelope, to: contact, session: session, rng: &rng)
            return Outgoing(messageID: envelope.id, transferID: MessageID(using: &rng), message: bytes, recipient: record.agreementKey,
                            mailboxes: record.mailboxes, attempt: 1)
        }
    }

    /// Encrypts `envelope` under the contact's current ratchet (saving the advanced state) into
    /// an encoded session message, with our session set-up while the session is not established.
    func encrypt(_ tx: any MessengerTransaction, envelope: Envelope, to contact: ID, session: ContactSession,
                 rng: inout some RandomSource) throws -> [UInt8] {
        var ratchet = session.ratchet
        let ratchetMessage = try ratchet.encrypt(envelope.encoded, associatedData: session.associatedData, rng: &rng)
        try tx.setRatchet(ratchet, of: contact)
        return SessionMessage(messageID: envelope.id, sender: identity.signingKey, setup: session.pendingSetup,
                              ratchetMessage: ratchetMessage).encoded
    }
}
