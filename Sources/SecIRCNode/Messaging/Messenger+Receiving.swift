public import SecIRCCore
import SecIRCCrypto

extension Messenger {
    /// Where a fragment's transfer is reassembled (``Reassembler/Room``): a contact's own room
    /// when it is the first fragment of a multi-fragment transfer and names an accepted contact as
    /// its sender (strangers then cannot evict that contact's half-received messages); else the
    /// shared room. The claim is checked only when the whole message decrypts.
    public func reassemblyRoom(for fragment: Fragment) -> Reassembler.Room {
        guard fragment.index == 0, fragment.count > 1, let sender = SessionMessage.claimedSender(prefix: fragment.data),
              let contact = try? self.contact(id: sender.id), !contact.isRequest
        else { return .shared }
        return .contact(contact.id)
    }

    /// Decrypts and stores one reassembled session message, in one transaction. Duplicates are
    /// stored and announced once, and acknowledged again only for a while (``DuplicateReceipts``).
    /// Never throws: what cannot be used is dropped with a reason (and changes nothing).
    public func receive(_ bytes: [UInt8], now: UnixTime) -> Received {
        let message: SessionMessage
        do { message = try SessionMessage.decode(bytes) } catch {
            return Received(dropped: "malformed session message: \(error)", label: .malformedSessionMessage)
        }
        do {
            var duplicate: MessageID?
            var result = try store.write { tx in try receive(tx, message, now: now, duplicate: &duplicate) }
            if result.events.contains(where: { if case .contact = $0 { true } else { false } }) { queuesChanged() }
            // Decided once the transaction committed: a failed one is handed over again.
            if let duplicate, !duplicateReceipts.withLock({ $0.admits(duplicate, now: now) }) { result.receipt = nil }
            return result
        } catch let refused as Refusal {
            // Nothing was changed (the ratchet did not move): the sender's retry can get in later.
            return Received(dropped: refused.reason, label: refused.label)
        } catch {
            if case .insufficientStorage = error as? MessengerError { return Received(dropped: "\(error)", notStored: true, storeFull: true) }
            return Received(dropped: "\(error)", notStored: true)
        }
    }

    /// `duplicate`: set to the ID of a message received before (acknowledged again only once).
    private func receive(_ tx: any MessengerTransaction, _ message: SessionMessage, now: UnixTime,
                         duplicate: inout MessageID?) throws -> Received {
        var result = Received()
        let senderID = message.sender.id
        var contact = try tx.contact(id: senderID)
        var plaintext: [UInt8]?
        var ratchet: DoubleRatchet?
        if contact != nil, let session = try tx.session(of: senderID) {
            var current = session.ratchet
            if let text = try? current.decrypt(message.ratchetMessage, associatedData: session.associatedData) {
                plaintext = text
                ratchet = current
            }
        }
        if plaintext == nil, let setup = message.setup {
            switch try acceptSetup(tx, setup, from: message, existing: contact, now: now) {
            case let .accepted(newRatchet, text, record):
                ratchet = newRatchet
                plaintext = text
                contact = record
                result.events.append(record.isRequest ? .request(record) : .contact(record))
            case let .refused(reason, label):
                result.refuse(label, reason)
            }
        }
        guard var contact, let ratchet, let plaintext else {
            if let contact, try tx.hasReceived(message.messageID, from: contact.id) {
                result.receipt = (contact.id, [message.messageID])
                result.dropped = nil
                result.label = nil
                duplicate = message.messageID
            } else if result.dropped == nil {
                result.refuse(.undecryptable, "undecryptable message")
            }
            return result
        }
        let decoded = Result { try Envelope.decode(plaintext) }
        if contact.isRequest, case let .success(envelope) = decoded, envelope.kind != .receipt,
           try !tx.hasReceived(envelope.id, from: contact.id) {
            // What a request may hold is bounded; past it, nothing is kept and nothing acknowledged.
            let held = try tx.incomingTotals(from: contact.id)
            if held.count >= policy.maximumMessagesPerRequest || held.bytes + envelope.body.count > policy.maximumBytesPerRequest {
                throw Refusal(reason: "a contact request holds as many messages as it may until it is accepted", label: .requestFull)
            }
        }
        if contact.session == .initiated {
            contact.session = .established
            try tx.setEstablished(contact.id)
            if !result.events.contains(where: { if case .contact = $0 { true } else { false } }) { result.events.append(.contact(contact)) }
        }
        try tx.setRatchet(ratchet, of: contact.id)

        let envelope: Envelope
        switch decoded {
        case let .success(decoded): envelope = decoded
        case let .failure(error):
            result.refuse(.malformedEnvelope, "malformed envelope: \(error)")
            return result
        }
        switch envelope.kind {
        case .receipt:
            for id in (try? envelope.receiptIDs()) ?? [] where try tx.markDelivered(id, to: contact.id) {
                result.events.append(.receipt(id: id, contact: contact.id))
            }
        default:
            result.receipt = (contact.id, [envelope.id])
            guard try !tx.hasReceived(envelope.id, from: contact.id) else {
                duplicate = envelope.id
                break
            }
            if envelope.kind == .cardUpdate {
                // The contact's new mailboxes, signed by its identity, for the agreement key in use.
                guard let card = try? ContactCard.decode(envelope.body), card.identityKey == contact.identityKey,
                      card.agreementKey == contact.agreementKey
                else {
                    result.refuse(.cardUpdateMismatch, "contact card update that does not match the contact")
                    break
                }
                if ContactCardUpdate.applies(created: card.created, lastApplied: try tx.cardCreated(of: contact.id) ?? 0) {
                    try tx.setMailboxes(card.mailboxes, cardCreated: Int64(clamping: card.created), of: contact.id)
                }
            }
            if envelope.kind == .groupControl {
                // An invitation waits for the user; one from a contact request is not taken.
                if contact.isRequest {
                    result.refuse(.groupInvitationRefused, "group control message from a contact request")
                } else {
                    switch try receiveGroupControl(envelope.body, from: contact, tx, now: now) {
                    case let .taken(event): if let event { result.events.append(event) }
                    case let .refused(label): result.refuse(label, "group control message refused (\(label.rawValue))")
                    }
                }
            }
            let record = try tx.insertMessage(id: envelope.id, contact: contact.id, direction: .incoming, kind: envelope.kind,
                                              timestampMs: Int64(clamping: envelope.timestampMs), body: envelope.body,
                                              state: .received, nextAttemptMs: nil)
            // A request's messages are shown (and announced) once the user accepts it.
            if envelope.kind == .text, !contact.isRequest { result.events.append(.message(record)) }
        }
        return result
    }

    private enum SetupOutcome {
        case accepted(DoubleRatchet, [UInt8], ContactRecord)
        /// Why, and the counter's label.
        case refused(String, label: ReceiveDropReason)
    }

    /// Thrown inside a receiving transaction to refuse a message by a rule: the transaction
    /// rolls back, so nothing it did (a new contact, a ratchet step) is kept.
    struct Refusal: Error {
        var reason: String
        var label: ReceiveDropReason
    }

    /// Answers a session set-up: the contact card must be signed by the sender and name the
    /// agreement key the set-up used (binding it to the Ed25519 identity); a set-up is accepted
    /// once (replays are refused); of two sessions with the same contact, both sides keep the
    /// same one (``SessionOrigin``); a removed contact comes back only with a newer session than
    /// the one it had; new contacts are limited per hour (``NewContactLimit``); an unknown
    /// identity becomes a contact request (unless ``ContactPolicy/autoAccept``), within
    /// ``ContactPolicy/maximumPendingRequests``, and never when the user rejected it before —
    /// except that a set-up answering a one-time invite the user made is accepted as invited.
    private func acceptSetup(_ tx: any MessengerTransaction, _ setup: SessionMessage.Setup, from message: SessionMessage,
                             existing: ContactRecord?, now: UnixTime) throws -> SetupOutcome {
        let card = setup.card
        guard card.identityKey == message.sender, card.agreementKey == setup.initialMessage.identityAgreementKey else {
            return .refused("session set-up whose contact card does not match its sender", label: .setupCardMismatch)
        }
        let initial = setup.initialMessage
        var ring = try tx.prekeyRing()
        guard let entry = ring.entry(signedPrekeyID: initial.signedPrekeyID, pqPrekeyID: initial.pqPrekeyID, now: now) else {
            return .refused("session set-up for unknown or retired prekeys (from an expired invite?)", label: .unknownPrekeys)
        }
        // A set-up answering a one-time invite comes from someone the user invited: no request,
        // and its own budget (the one-time invites the user made), not the strangers' hourly one.
        let invited = existing == nil && entry.oneTime
        // A rejected request stays rejected, whatever set-up it sends (checked before the replay
        // check, so a retry of the rejected set-up counts as `blocked` too).
        if existing == nil, !invited, try tx.isBlocked(card.identityKey.id) {
            return .refused("session set-up from a rejected contact request", label: .blocked)
        }
        let setupHash = SHA256.hash(setup.initialMessage.encoded)
        if try tx.hasSeenSetup(setupHash) { return .refused("replayed session set-up", label: .replayedSetup) }
        let id = card.identityKey.id
        let incoming = SessionOrigin(created: Int64(clamping: card.created), initiator: message.sender.id)
        let existingSession = existing != nil ? try tx.session(of: id) : nil
        if let current = existing != nil ? existingSession?.origin : try tx.removedContact(id: id), !incoming.supersedes(current) {
            // Remember it: it must not win later, when this contact may have been removed.
            try tx.recordSeenSetup(setupHash, atMs: now.milliseconds)
            return .refused("session set-up older than the session in use", label: .supersededSetup)
        }
        if existing == nil, !invited {
            // A refused set-up is not remembered: the sender's retries get in once the hour allows.
            let recent = try tx.countSelfStartedContacts(addedAfterMs: newContactLimit.windowStartMs(now: now))
            guard newContactLimit.admits(recent: recent) else {
                return .refused("too many new contacts in the last hour", label: .newContactLimit)
            }
            if !policy.autoAccept, try tx.contacts().count(where: \.isRequest) >= policy.maximumPendingRequests {
                return .refused("too many contact requests wait for the user", label: .requestLimit)
            }
        }
        var ratchet: DoubleRatchet
        do { ratchet = try SessionSetup.respond(identity: identity.keys, prekeys: entry.prekeys, message: initial) } catch {
            return .refused("session set-up failed: \(error)", label: .setupFailed)
        }
        let ad = Self.associatedData(initiator: card.agreementKey, initiatorKey: card.identityKey,
                                     responder: identity.agreementKey, responderKey: identity.signingKey)
        guard let plaintext = try? ratchet.decrypt(message.ratchetMessage, associatedData: ad) else {
            return .refused("session set-up with an undecryptable message", label: .setupUndecryptable)
        }
        // A name the sender offers never takes one a contact has: "alice (2)" instead.
        let name = try existing?.name ?? DisplayName.distinct((try? DisplayName.validated(card.displayName ?? "")) ?? String(id.hex.prefix(8)),
                                                               from: tx.contacts().map(\.name))
        let record = ContactRecord(id: id, identityKey: card.identityKey, agreementKey: card.agreementKey, name: name,
                                   addedMs: existing?.addedMs ?? now.milliseconds, mailboxes: card.mailboxes, session: .established,
                                   consent: existing?.consent ?? (invited ? .invited : policy.autoAccept ? .accepted : .requested))
        let session = ContactSession(ratchet: ratchet, associatedData: ad, pendingSetup: nil, origin: incoming,
                                     generation: existingSession.map { $0.generation + 1 } ?? 1)
        if existing != nil { try tx.updateContact(record, session: session) } else { try tx.insertContact(record, session: session) }
        try tx.recordSeenSetup(setupHash, atMs: now.milliseconds)
        try tx.clearRemovedContact(id)
        if entry.oneTime {
            // A one-time invite answers one set-up.
            ring.consume(signedPrekeyID: initial.signedPrekeyID, pqPrekeyID: initial.pqPrekeyID)
            try tx.setPrekeyRing(ring)
            try tx.clearBlocked(id)
        }
        // A new session: the queues the old one knew are retired (after a grace time), and
        // ``ensureContactQueues(now:rng:)`` — which the caller runs on a `.contact` event — gives
        // the contact new ones, told in a card (a new contact gets its first ones the same way).
        let closeAt = now.milliseconds + Self.queueRotationGraceMs
        let queues = try tx.contactQueues().filter { $0.contact == id }
        if queues.contains(where: { $0.state == .open }) {
            try tx.setContactQueues(queues.map { queue in
                var queue = queue
                if queue.state == .open { queue.state = .closing(atMs: closeAt) }
                return queue
            }, of: id)
        }
        return .accepted(ratchet, plaintext, record)
    }
}
