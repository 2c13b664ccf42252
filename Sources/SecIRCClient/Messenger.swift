import Foundation
import GRDB
public import SecIRCCore
public import SecIRCCrypto
import Synchronization

/// What happened that a front end may want to hear about (`GET /v1/events`).
public enum ClientEvent: Sendable, Equatable {
    /// A text message arrived (once per message, never for a duplicate).
    case message(MessageRecord)
    /// An outgoing message was acknowledged end to end.
    case receipt(id: MessageID, contact: ID)
    /// A contact appeared (an incoming session setup) or its session became established.
    case contact(ContactRecord)
}

/// One session message ready to leave: fragment it, seal each fragment to `recipient` and send
/// it to one of `mailboxes`.
public struct Outgoing: Sendable {
    /// The envelope's message ID (the same on every attempt).
    public var messageID: MessageID
    /// Fresh for every attempt, so the fragments of two attempts never mix (§7.4).
    public var transferID: MessageID
    public var message: [UInt8]
    public var recipient: AgreementPublicKey
    public var mailboxes: [MailboxAddress]
    /// 1 for the first send; picks the mailbox so that retries alternate between them.
    public var attempt: Int

    /// The recipient's mailboxes in the order this attempt tries them: attempt k starts at
    /// mailbox k mod n, so retries alternate.
    public var mailboxesInTurn: [MailboxAddress] {
        mailboxes.indices.map { mailboxes[(attempt - 1 + $0) % mailboxes.count] }
    }

    /// The mailbox this attempt is for.
    public var mailbox: MailboxAddress { mailboxesInTurn[0] }
}

/// The end-to-end messaging logic over the store, with no network: contacts from invites,
/// PQXDH-style session set-up, the Double Ratchet, the outbox with backoff, receipts and
/// de-duplication. Every state change is one database transaction, so a restart at any point
/// loses nothing that was acknowledged (to the API caller or to the relay).
public final class Messenger: Sendable {
    public static let maximumTextBytes = 16 * 1024
    public static let inviteLifetimeSeconds: Int64 = 7 * 24 * 3600
    /// New contacts accepted from incoming session set-ups per hour, at most.
    public static let maximumNewContactsPerHour = 20
    public let store: ClientStore
    public let identity: ClientIdentity
    public let displayName: String
    private let retryInitialMs: Int64
    private let retryMaxMs: Int64
    private let mailboxKeys: Mutex<[MailboxKey]>

    public init(store: ClientStore, displayName: String, retryInitialSeconds: Int, retryMaxSeconds: Int) throws {
        var rng = SystemRandom()
        self.store = store
        self.displayName = displayName
        identity = try ClientIdentity.loadOrCreate(store, rng: &rng)
        retryInitialMs = Int64(retryInitialSeconds) * 1000
        retryMaxMs = Int64(retryMaxSeconds) * 1000
        mailboxKeys = Mutex(try MailboxKey.load(store))
    }

    // MARK: Mailboxes and invites

    public var mailboxes: [MailboxKey] { mailboxKeys.withLock { $0 } }

    /// Chooses this client's mailbox relays from a verified directory: up to `count`, topped up
    /// when the directory grows (a young network may list one relay at first); chosen ones are kept.
    public func chooseMailboxes(from relays: [RelayDescriptor], count: Int) throws -> [MailboxKey] {
        let current = mailboxes
        guard current.count < count else { return current }
        var rng = SystemRandom()
        let used = Set(current.map(\.relayID))
        let candidates = relays.filter { $0.flags.contains("mailbox") && !used.contains($0.id) }
        let added = candidates.shuffled(using: &rng).prefix(count - current.count)
            .map { MailboxKey(relayID: $0.id, key: SigningPrivateKey(using: &rng)) }
        guard !added.isEmpty else {
            if current.isEmpty { throw ClientError.notReady("the directory lists no mailbox relays") }
            return current
        }
        let keys = current + added
        try MailboxKey.save(keys, in: store)
        mailboxKeys.withLock { $0 = keys }
        return keys
    }

    /// Gives up the mailboxes at `relays` (gone from the directory for a long while), chooses
    /// others from `listed`, and tells every contact the new mailboxes with a signed contact card
    /// (through the outbox, like any message). Returns the new mailboxes.
    public func replaceMailboxes(at relays: Set<ID>, listed: [RelayDescriptor], count: Int, now: UnixTime) throws -> [MailboxKey] {
        let kept = mailboxes.filter { !relays.contains($0.relayID) }
        guard kept.count < mailboxes.count else { return mailboxes }
        let candidates = listed.filter { !relays.contains($0.id) }
        try MailboxKey.save(kept, in: store)
        mailboxKeys.withLock { $0 = kept }
        let chosen = try chooseMailboxes(from: candidates, count: count)
        let card = try card(now: now).encoded
        var rng = SystemRandom()
        try store.write { db in
            for contact in try String.fetchAll(db, sql: "SELECT id FROM contacts") {
                _ = try store.insertMessage(db, id: MessageID(using: &rng), contact: ID(hex: contact), direction: .outgoing,
                                            kind: .cardUpdate, timestampMs: now.milliseconds, body: card, state: .queued,
                                            nextAttemptMs: now.milliseconds)
            }
        }
        return chosen
    }

    /// This client's invite, made again (with a fresh pair of prekeys) when it is within a day
    /// of expiring or the mailboxes changed.
    public func invite(now: UnixTime) throws -> Invite {
        let addresses = mailboxes.map(\.address)
        guard !addresses.isEmpty else { throw ClientError.notReady("no verified directory yet: mailbox relays are not chosen") }
        var rng = SystemRandom()
        return try store.write { db in
            if let text = try store.meta(db, "invite"),
               let invite = try? Invite.parse(uri: String(decoding: text, as: UTF8.self), now: now.adding(.seconds(86_400))),
               invite.mailboxes == addresses {
                return invite
            }
            let expiry = now.seconds + Self.inviteLifetimeSeconds
            var ring = try PrekeyRing.load(db, store: store)
            let prekeys = ring.rotate(expiry: expiry, now: now, rng: &rng)
            try ring.save(db, store: store)
            let invite = try SessionSetup.makeInvite(identity: identity.keys, prekeys: prekeys, mailboxes: addresses,
                                                     expiry: UInt64(expiry), displayNameHint: displayName.isEmpty ? nil : displayName)
            try store.setMeta(db, "invite", Array(invite.uri.utf8))
            return invite
        }
    }

    private func card(now: UnixTime) throws -> ContactCard {
        do {
            return try ContactCard(signingWith: identity.keys.signing, agreementKey: identity.agreementKey,
                                   created: UInt64(max(now.seconds, 0)), mailboxes: mailboxes.map(\.address),
                                   displayName: displayName.isEmpty ? nil : displayName)
        } catch {
            throw ClientError.notReady("cannot make a contact card: \(error)")
        }
    }

    // MARK: Contacts

    /// Adds the contact an invite names and starts a session with it: the set-up travels with
    /// an introduction message through the outbox, so the other side learns of us.
    public func addContact(inviteURI: String, name: String?, now: UnixTime) throws -> ContactRecord {
        let invite: Invite
        do { invite = try Invite.parse(uri: inviteURI.trimmingCharacters(in: .whitespacesAndNewlines), now: now) } catch {
            throw ClientError.invalidInvite("\(error)")
        }
        let id = invite.identityKey.id
        guard id != identity.id else { throw ClientError.invalidRequest("this is your own invite") }
        // A name given by the caller must be valid; the invite's hint is only a suggestion.
        let name = try name.map(Self.validName) ?? invite.displayNameHint.flatMap { try? Self.validName($0) } ?? String(id.hex.prefix(8))
        var rng = SystemRandom()
        // A session set-up must be newer than any session this pair had before (see acceptSetup).
        let removed = try store.read { db in
            try Int64.fetchOne(db, sql: "SELECT session_created FROM removed_contacts WHERE id = ?", arguments: [id.hex])
        }
        let card = try card(now: removed.map { max(now, UnixTime(seconds: $0 + 1)) } ?? now)
        let setup: (ratchet: DoubleRatchet, initialMessage: InitialMessage)
        do { setup = try SessionSetup.initiate(identity: identity.keys, invite: invite, rng: &rng) } catch {
            throw ClientError.invalidInvite("session set-up failed: \(error)")
        }
        let ad = Self.associatedData(initiator: identity.agreementKey, initiatorKey: identity.signingKey,
                                     responder: invite.identityAgreementKey, responderKey: invite.identityKey)
        var setupBytes = ByteWriter(capacity: 2 + card.encoded.count + InitialMessage.encodedLength)
        setupBytes.write(UInt16(card.encoded.count))
        setupBytes.write(card.encoded)
        setupBytes.write(setup.initialMessage.encoded)
        let record = ContactRecord(id: id, identityKey: invite.identityKey, agreementKey: invite.identityAgreementKey, name: name,
                                   addedMs: now.milliseconds, mailboxes: invite.mailboxes, session: .initiated)
        try store.write { db in
            guard try store.contact(db, id: id) == nil else { throw ClientError.conflict("\(id.hex) is already a contact") }
            try db.execute(sql: "DELETE FROM removed_contacts WHERE id = ?", arguments: [id.hex])
            try db.execute(sql: """
                INSERT INTO contacts (id, identity_key, agreement_key, name, added_ms, mailboxes, session, ratchet, associated_data,
                                      session_created, session_initiator, setup)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [id.hex, Data(invite.identityKey.bytes), Data(invite.identityAgreementKey.bytes), name, now.milliseconds,
                                 ClientStore.encode(mailboxes: invite.mailboxes), ContactRecord.Session.initiated.rawValue,
                                 store.sealer.seal(setup.ratchet.serialized(), purpose: "ratchet \(id.hex)"), Data(ad),
                                 Int64(clamping: card.created), identity.id.hex,
                                 store.sealer.seal(setupBytes.bytes, purpose: "setup \(id.hex)")])
            _ = try store.insertMessage(db, id: MessageID(using: &rng), contact: id, direction: .outgoing, kind: .introduction,
                                        timestampMs: now.milliseconds, body: [], state: .queued, nextAttemptMs: now.milliseconds)
        }
        return record
    }

    static func validName(_ name: String) throws -> String {
        let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
        // No control or format characters (a right-to-left override could disguise a name).
        guard !trimmed.isEmpty, trimmed.count <= 64,
              !trimmed.unicodeScalars.contains(where: { [.control, .format].contains($0.properties.generalCategory) })
        else {
            throw ClientError.invalidRequest("a name is 1 to 64 characters without control or format characters")
        }
        return trimmed
    }

    static func associatedData(initiator: AgreementPublicKey, initiatorKey: SigningPublicKey,
                               responder: AgreementPublicKey, responderKey: SigningPublicKey) -> [UInt8] {
        SessionSetup.associatedData(initiator: initiator, responder: responder) + initiatorKey.bytes + responderKey.bytes
    }

    // MARK: Sending

    /// Puts a text message in the outbox (written before anything is sent).
    public func queueText(to contact: ID, text: String, now: UnixTime) throws -> MessageRecord {
        let body = Array(text.utf8)
        guard !body.isEmpty, body.count <= Self.maximumTextBytes else {
            throw ClientError.invalidRequest("text must be 1 to \(Self.maximumTextBytes) bytes of UTF-8")
        }
        var rng = SystemRandom()
        return try store.write { db in
            guard try store.contact(db, id: contact) != nil else { throw ClientError.notFound("no contact \(contact.hex)") }
            return try store.insertMessage(db, id: MessageID(using: &rng), contact: contact, direction: .outgoing, kind: .text,
                                           timestampMs: now.milliseconds, body: body, state: .queued, nextAttemptMs: now.milliseconds)
        }
    }

    /// Outbox messages due for a send by `now`.
    public func dueOutbox(now: UnixTime, limit: Int = 64) throws -> [MessageRecord] {
        try store.dueOutbox(nowMs: now.milliseconds, limit: limit)
    }

    /// When the next outbox send is due, if any.
    public func nextOutboxDue() throws -> UnixTime? {
        try store.nextOutboxDueMs().map { UnixTime(nanoseconds: $0 * 1_000_000) }
    }

    /// The next attempt of an outbox message, scheduling the one after (exponential backoff)
    /// first, so a message that cannot be prepared is not due again at once. The session
    /// message is encrypted once per session and kept (sealed) on the outbox row: a retry sends
    /// the same bytes in a new transfer, so retries never use up ratchet message numbers (a
    /// receiver accepts a gap of at most `DoubleRatchet.maxSkip`). It is encrypted again only
    /// when the contact's session was replaced since. Nil when it was delivered meanwhile or
    /// cannot be sent to this contact.
    public func prepareSend(_ message: MessageRecord, now: UnixTime) throws -> Outgoing? {
        var rng = SystemRandom()
        return try store.write { db -> Outgoing? in
            guard let row = try Row.fetchOne(db, sql: """
                    SELECT attempts, next_attempt_ms, payload, payload_generation FROM messages WHERE cursor = ?
                    """, arguments: [message.cursor]),
                  (row["next_attempt_ms"] as Int64?) != nil
            else { return nil }
            let attempts: Int = row["attempts"] + 1
            let backoff = min(retryInitialMs << min(attempts - 1, 20), retryMaxMs)
            try db.execute(sql: "UPDATE messages SET attempts = ?, next_attempt_ms = ? WHERE cursor = ?",
                           arguments: [attempts, now.milliseconds + backoff, message.cursor])
            guard let contact = try store.contact(db, id: message.contact), !contact.mailboxes.isEmpty,
                  let generation = try Int64.fetchOne(db, sql: "SELECT generation FROM contacts WHERE id = ?", arguments: [contact.id.hex])
            else { return nil }
            let bytes: [UInt8]
            if let sealed = row["payload"] as Data?, (row["payload_generation"] as Int64?) == generation {
                bytes = try store.sealer.open(sealed, purpose: "payload \(message.id.hex)")
            } else {
                let envelope = Envelope(id: message.id, kind: message.kind, timestampMs: UInt64(max(message.timestampMs, 0)), body: message.body)
                do { bytes = try encrypt(db, envelope: envelope, to: contact.id, rng: &rng) } catch {
                    return nil // the ratchet refused (state unchanged); the backoff above stands
                }
                try db.execute(sql: "UPDATE messages SET payload = ?, payload_generation = ? WHERE cursor = ?",
                               arguments: [store.sealer.seal(bytes, purpose: "payload \(message.id.hex)"), generation, message.cursor])
            }
            try db.execute(sql: "UPDATE messages SET state = ? WHERE cursor = ?", arguments: [MessageRecord.State.sent.rawValue, message.cursor])
            return Outgoing(messageID: message.id, transferID: MessageID(using: &rng), message: bytes, recipient: contact.agreementKey,
                            mailboxes: contact.mailboxes, attempt: attempts)
        }
    }

    /// A receipt for `ids`, encrypted to `contact` (receipts are not retried: a lost receipt
    /// makes the sender send again, and the duplicate is acknowledged again).
    public func prepareReceipt(to contact: ID, ids: [MessageID], now: UnixTime) throws -> Outgoing? {
        var rng = SystemRandom()
        let envelope = Envelope.receipt(for: Array(ids.prefix(Envelope.maximumReceiptCount)), id: MessageID(using: &rng),
                                        timestampMs: UInt64(max(now.milliseconds, 0)))
        return try store.write { db -> Outgoing? in
            guard let record = try store.contact(db, id: contact), !record.mailboxes.isEmpty else { return nil }
            let bytes = try encrypt(db, envelope: envelope, to: contact, rng: &rng)
            return Outgoing(messageID: envelope.id, transferID: MessageID(using: &rng), message: bytes, recipient: record.agreementKey,
                            mailboxes: record.mailboxes, attempt: 1)
        }
    }

    /// Encrypts `envelope` under the contact's current ratchet (saving the advanced state) into
    /// an encoded session message, with the session set-up while it is not yet established.
    private func encrypt(_ db: Database, envelope: Envelope, to contactID: ID, rng: inout SystemRandom) throws -> [UInt8] {
        guard let row = try Row.fetchOne(db, sql: "SELECT ratchet, associated_data, setup FROM contacts WHERE id = ?",
                                         arguments: [contactID.hex]) else { throw ClientError.notFound("no contact \(contactID.hex)") }
        var ratchet = try DoubleRatchet(serialized: store.sealer.openSecret(row["ratchet"], purpose: "ratchet \(contactID.hex)"))
        let ad = Array(row["associated_data"] as Data)
        var setup: SessionMessage.Setup?
        if let sealed = row["setup"] as Data? {
            setup = try Self.decodeSetup(store.sealer.open(sealed, purpose: "setup \(contactID.hex)"))
        }
        let ratchetMessage = try ratchet.encrypt(envelope.encoded, associatedData: ad, rng: &rng)
        try db.execute(sql: "UPDATE contacts SET ratchet = ? WHERE id = ?",
                       arguments: [store.sealer.seal(ratchet.serialized(), purpose: "ratchet \(contactID.hex)"), contactID.hex])
        return SessionMessage(messageID: envelope.id, sender: identity.signingKey, setup: setup, ratchetMessage: ratchetMessage).encoded
    }

    private static func decodeSetup(_ bytes: [UInt8]) throws -> SessionMessage.Setup {
        var r = ByteReader(bytes)
        let cardLength = Int(try r.readUInt16())
        let card = try ContactCard.decode(try r.readBytes(cardLength))
        let initial = try InitialMessage.decode(r.readRest())
        return SessionMessage.Setup(card: card, initialMessage: initial)
    }

    // MARK: Receiving

    /// What receiving one session message did.
    public struct Received: Sendable {
        public var events: [ClientEvent] = []
        /// Message IDs to acknowledge to a contact.
        public var receipt: (contact: ID, ids: [MessageID])?
        /// Why it was dropped, when it was.
        public var dropped: String?
    }

    /// Decrypts and stores one reassembled session message. Duplicates are acknowledged again
    /// but stored and announced once.
    public func receive(_ bytes: [UInt8], now: UnixTime) -> Received {
        let message: SessionMessage
        do { message = try SessionMessage.decode(bytes) } catch { return Received(dropped: "malformed session message: \(error)") }
        do {
            return try store.write { db in try receive(db, message, now: now) }
        } catch {
            return Received(dropped: "\(error)")
        }
    }

    private func receive(_ db: Database, _ message: SessionMessage, now: UnixTime) throws -> Received {
        var result = Received()
        let senderID = message.sender.id
        var contact = try store.contact(db, id: senderID)
        var plaintext: [UInt8]?
        var ratchet: DoubleRatchet?
        if contact != nil, let row = try Row.fetchOne(db, sql: "SELECT ratchet, associated_data FROM contacts WHERE id = ?", arguments: [senderID.hex]) {
            var current = try DoubleRatchet(serialized: store.sealer.openSecret(row["ratchet"], purpose: "ratchet \(senderID.hex)"))
            if let text = try? current.decrypt(message.ratchetMessage, associatedData: Array(row["associated_data"] as Data)) {
                plaintext = text
                ratchet = current
            }
        }
        if plaintext == nil, let setup = message.setup {
            switch try acceptSetup(db, setup, from: message, existing: contact, now: now) {
            case let .accepted(newRatchet, text, record):
                ratchet = newRatchet
                plaintext = text
                contact = record
                result.events.append(.contact(record))
            case let .refused(reason):
                result.dropped = reason
            }
        }
        guard var contact, let ratchet, let plaintext else {
            if let contact, try alreadyReceived(db, message.messageID, from: contact.id) {
                result.receipt = (contact.id, [message.messageID])
                result.dropped = nil
            } else if result.dropped == nil {
                result.dropped = "undecryptable message"
            }
            return result
        }
        if contact.session == .initiated {
            contact.session = .established
            try db.execute(sql: "UPDATE contacts SET session = ?, setup = NULL WHERE id = ?",
                           arguments: [ContactRecord.Session.established.rawValue, contact.id.hex])
            if !result.events.contains(where: { if case .contact = $0 { true } else { false } }) { result.events.append(.contact(contact)) }
        }
        try db.execute(sql: "UPDATE contacts SET ratchet = ? WHERE id = ?",
                       arguments: [store.sealer.seal(ratchet.serialized(), purpose: "ratchet \(contact.id.hex)"), contact.id.hex])

        let envelope: Envelope
        do { envelope = try Envelope.decode(plaintext) } catch {
            result.dropped = "malformed envelope: \(error)"
            return result
        }
        switch envelope.kind {
        case .receipt:
            for id in (try? envelope.receiptIDs()) ?? [] {
                try db.execute(sql: """
                    UPDATE messages SET state = 'delivered', next_attempt_ms = NULL, payload = NULL
                    WHERE contact = ? AND direction = 'out' AND id = ? AND state != 'delivered'
                    """, arguments: [contact.id.hex, Data(id.bytes)])
                if db.changesCount > 0 { result.events.append(.receipt(id: id, contact: contact.id)) }
            }
        default:
            result.receipt = (contact.id, [envelope.id])
            guard try !alreadyReceived(db, envelope.id, from: contact.id) else { break }
            if envelope.kind == .cardUpdate {
                // The contact's new mailboxes, signed by its identity, for the agreement key in use.
                guard let card = try? ContactCard.decode(envelope.body), card.identityKey == contact.identityKey,
                      card.agreementKey == contact.agreementKey
                else {
                    result.dropped = "contact card update that does not match the contact"
                    break
                }
                // Updates may arrive out of order: only a newer card than the last one applied counts.
                try db.execute(sql: "UPDATE contacts SET mailboxes = ?, card_created = ? WHERE id = ? AND card_created < ?",
                               arguments: [ClientStore.encode(mailboxes: card.mailboxes), Int64(clamping: card.created), contact.id.hex,
                                           Int64(clamping: card.created)])
            }
            let record = try store.insertMessage(db, id: envelope.id, contact: contact.id, direction: .incoming, kind: envelope.kind,
                                                 timestampMs: Int64(clamping: envelope.timestampMs), body: envelope.body,
                                                 state: .received, nextAttemptMs: nil)
            if envelope.kind == .text { result.events.append(.message(record)) }
        }
        return result
    }

    private func alreadyReceived(_ db: Database, _ id: MessageID, from contact: ID) throws -> Bool {
        try Bool.fetchOne(db, sql: "SELECT 1 FROM messages WHERE contact = ? AND direction = 'in' AND id = ?",
                          arguments: [contact.hex, Data(id.bytes)]) ?? false
    }

    private enum SetupOutcome {
        case accepted(DoubleRatchet, [UInt8], ContactRecord)
        case refused(String)
    }

    /// Answers a session set-up: the contact card must be signed by the sender and name the
    /// agreement key the set-up used (binding it to the Ed25519 identity); a set-up is accepted
    /// once (replays are refused); of two sessions with the same contact, both sides keep the
    /// same one (see below).
    private func acceptSetup(_ db: Database, _ setup: SessionMessage.Setup, from message: SessionMessage,
                             existing: ContactRecord?, now: UnixTime) throws -> SetupOutcome {
        let card = setup.card
        guard card.identityKey == message.sender, card.agreementKey == setup.initialMessage.identityAgreementKey else {
            return .refused("session set-up whose contact card does not match its sender")
        }
        let setupHash = Data(SHA256.hash(setup.initialMessage.encoded).bytes)
        if try Bool.fetchOne(db, sql: "SELECT 1 FROM seen_setups WHERE hash = ?", arguments: [setupHash]) ?? false {
            return .refused("replayed session set-up")
        }
        // Of two sessions between the same people (both added each other at once, or one
        // reinstalled), both sides keep the same one: the newer contact card, and for cards of
        // the same second the one whose initiator has the lower ID. Both sides compare the same
        // two (created, initiator) pairs, so they agree whatever their clocks say.
        let current = existing != nil ? "contacts" : "removed_contacts"
        if let row = try Row.fetchOne(db, sql: "SELECT session_created, session_initiator FROM \(current) WHERE id = ?",
                                      arguments: [message.sender.id.hex]) {
            let currentCreated: Int64 = row["session_created"]
            let currentInitiator = try ID(hex: row["session_initiator"])
            let incomingCreated = Int64(clamping: card.created)
            let newer = incomingCreated > currentCreated || (incomingCreated == currentCreated && message.sender.id < currentInitiator)
            guard newer else {
                // Remember it: it must not win later, when this contact may have been removed.
                try db.execute(sql: "INSERT OR IGNORE INTO seen_setups (hash, seen_ms) VALUES (?, ?)", arguments: [setupHash, now.milliseconds])
                return .refused("session set-up older than the session in use")
            }
        }
        var ratchet: DoubleRatchet
        if existing == nil {
            // Anyone holding a valid invite can start a session, so new contacts that arrive this
            // way are rate-limited: a flood of fresh identities cannot fill the contact list. A
            // refused set-up is not remembered: the sender's retries get in once the hour allows.
            let recent = try Int.fetchOne(db, sql: """
                SELECT COUNT(*) FROM contacts WHERE session_initiator = id AND added_ms > ?
                """, arguments: [now.milliseconds - 3_600_000]) ?? 0
            guard recent < Self.maximumNewContactsPerHour else { return .refused("too many new contacts in the last hour") }
        }
        let initial = setup.initialMessage
        guard let prekeys = try PrekeyRing.load(db, store: store)
            .entry(signedPrekeyID: initial.signedPrekeyID, pqPrekeyID: initial.pqPrekeyID, now: now)?.prekeys
        else { return .refused("session set-up for unknown or retired prekeys (from an expired invite?)") }
        do { ratchet = try SessionSetup.respond(identity: identity.keys, prekeys: prekeys, message: initial) } catch {
            return .refused("session set-up failed: \(error)")
        }
        let ad = Self.associatedData(initiator: card.agreementKey, initiatorKey: card.identityKey,
                                     responder: identity.agreementKey, responderKey: identity.signingKey)
        guard let plaintext = try? ratchet.decrypt(message.ratchetMessage, associatedData: ad) else {
            return .refused("session set-up with an undecryptable message")
        }
        let id = card.identityKey.id
        let name = existing?.name ?? (try? Self.validName(card.displayName ?? "")) ?? String(id.hex.prefix(8))
        let record = ContactRecord(id: id, identityKey: card.identityKey, agreementKey: card.agreementKey, name: name,
                                   addedMs: existing?.addedMs ?? now.milliseconds, mailboxes: card.mailboxes, session: .established)
        try db.execute(sql: """
            INSERT INTO contacts (id, identity_key, agreement_key, name, added_ms, mailboxes, session, ratchet, associated_data,
                                  session_created, session_initiator, setup)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)
            ON CONFLICT(id) DO UPDATE SET agreement_key = excluded.agreement_key, mailboxes = excluded.mailboxes,
                session = excluded.session, ratchet = excluded.ratchet, associated_data = excluded.associated_data,
                session_created = excluded.session_created, session_initiator = excluded.session_initiator, setup = NULL,
                generation = contacts.generation + 1
            """, arguments: [id.hex, Data(card.identityKey.bytes), Data(card.agreementKey.bytes), name, record.addedMs,
                             ClientStore.encode(mailboxes: card.mailboxes), ContactRecord.Session.established.rawValue,
                             store.sealer.seal(ratchet.serialized(), purpose: "ratchet \(id.hex)"), Data(ad),
                             Int64(clamping: card.created), id.hex])
        try db.execute(sql: "INSERT INTO seen_setups (hash, seen_ms) VALUES (?, ?)", arguments: [setupHash, now.milliseconds])
        try db.execute(sql: "DELETE FROM removed_contacts WHERE id = ?", arguments: [id.hex])
        return .accepted(ratchet, plaintext, record)
    }
}

extension UnixTime {
    var milliseconds: Int64 { nanoseconds / 1_000_000 }
}
