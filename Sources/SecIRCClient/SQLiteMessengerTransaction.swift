import Foundation
import GRDB
import SecIRCCore
import SecIRCCrypto
import SecIRCNode

/// One transaction of a `SQLiteMessengerStore`: the messenger's operations as SQL on one GRDB
/// connection, sealing and opening secrets with the storage key. Every operation throws only
/// `ClientError` (a database error becomes `.storage`).
final class SQLiteMessengerTransaction: MessengerTransaction {
    let db: Database
    let sealer: StorageSealer
    private var isOpen = true

    init(_ db: Database, sealer: StorageSealer) {
        self.db = db
        self.sealer = sealer
    }

    func close() { isOpen = false }

    /// Runs one operation: refuses a closed transaction and turns any failure into `ClientError`.
    func op<T>(_ body: () throws -> T) throws -> T {
        precondition(isOpen, "a transaction used after its body returned")
        do { return try body() } catch let error as ClientError { throw error } catch {
            throw SQLiteMessengerStore.databaseError(error)
        }
    }

    /// The prepared statement for `sql`, from the connection's cache: each statement is parsed
    /// once per connection rather than on every call.
    func statement(_ sql: String) throws -> Statement { try db.cachedStatement(sql: sql) }

    func execute(sql: String, arguments: StatementArguments = StatementArguments()) throws {
        try statement(sql).execute(arguments: arguments)
    }

    // MARK: Meta values

    private func metaSecret(_ key: String) throws -> SecureBytes? {
        guard let sealed = try Data.fetchOne(statement("SELECT value FROM meta WHERE key = ?"), arguments: [key]) else { return nil }
        return try sealer.openSecret(sealed, purpose: key)
    }

    private func setMetaSecret(_ key: String, _ value: SecureBytes) throws {
        try execute(sql: "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", arguments: [key, sealer.seal(value, purpose: key)])
    }

    func identity() throws -> ClientIdentity? { try op { try metaSecret("identity").map(ClientIdentity.init(storageBytes:)) } }
    func setIdentity(_ identity: ClientIdentity) throws { try op { try setMetaSecret("identity", identity.storageBytes()) } }
    /// The long-lived invite's pairs under `prekeys`, one-time invites' under `prekeys_once` (same format).
    func prekeyRing() throws -> PrekeyRing {
        try op {
            let lasting = try metaSecret("prekeys").map(PrekeyRing.init(storageBytes:))?.entries ?? []
            let once = try metaSecret("prekeys_once").map(PrekeyRing.init(storageBytes:))?.entries ?? []
            return PrekeyRing(entries: lasting + once.map { PrekeyRing.Entry(prekeys: $0.prekeys, retireAfter: $0.retireAfter, oneTime: true) })
        }
    }

    func setPrekeyRing(_ ring: PrekeyRing) throws {
        try op {
            try setMetaSecret("prekeys", PrekeyRing(entries: ring.entries.filter { !$0.oneTime }).storageBytes())
            try setMetaSecret("prekeys_once", PrekeyRing(entries: ring.entries.filter(\.oneTime)).storageBytes())
        }
    }
    func mailboxKeys() throws -> [MailboxKey] { try op { try metaSecret("mailboxes").map(MailboxKey.list(storageBytes:)) ?? [] } }
    func setMailboxKeys(_ keys: [MailboxKey]) throws { try op { try setMetaSecret("mailboxes", MailboxKey.storageBytes(keys)) } }

    func inviteURI() throws -> String? {
        try op {
            try Data.fetchOne(statement("SELECT value FROM meta WHERE key = 'invite'")).map { String(decoding: $0, as: UTF8.self) }
        }
    }

    func setInviteURI(_ uri: String) throws {
        try op { try execute(sql: "INSERT OR REPLACE INTO meta (key, value) VALUES ('invite', ?)", arguments: [Data(uri.utf8)]) }
    }

    // MARK: Contacts

    private static let contactColumns = "id, identity_key, agreement_key, name, added_ms, mailboxes, session, consent"

    private static func contact(_ row: Row) throws -> ContactRecord {
        ContactRecord(
            id: try ID(hex: row["id"]),
            identityKey: try SigningPublicKey(bytes: Array(row["identity_key"] as Data)),
            agreementKey: try AgreementPublicKey(bytes: Array(row["agreement_key"] as Data)),
            name: row["name"], addedMs: row["added_ms"], mailboxes: try MailboxAddress.decodeList(Array(row["mailboxes"] as Data)),
            session: ContactRecord.Session(rawValue: row["session"]) ?? .initiated,
            consent: ContactRecord.Consent(rawValue: row["consent"]) ?? .requested)
    }

    func contact(id: ID) throws -> ContactRecord? {
        try op { try Row.fetchOne(statement("SELECT \(Self.contactColumns) FROM contacts WHERE id = ?"), arguments: [id.hex]).map(Self.contact) }
    }

    func contacts() throws -> [ContactRecord] {
        try op { try Row.fetchAll(statement("SELECT \(Self.contactColumns) FROM contacts ORDER BY added_ms, id")).map(Self.contact) }
    }

    func session(of id: ID) throws -> ContactSession? {
        try op {
            guard let row = try Row.fetchOne(statement("""
                SELECT ratchet, associated_data, setup, session_created, session_initiator, generation FROM contacts WHERE id = ?
                """), arguments: [id.hex]) else { return nil }
            let setup = try (row["setup"] as Data?).map { try SessionMessage.Setup(storageBytes: sealer.open($0, purpose: "setup \(id.hex)")) }
            return ContactSession(
                ratchet: try DoubleRatchet(serialized: sealer.openSecret(row["ratchet"], purpose: "ratchet \(id.hex)")),
                associatedData: Array(row["associated_data"] as Data), pendingSetup: setup,
                origin: SessionOrigin(created: row["session_created"], initiator: try ID(hex: row["session_initiator"])),
                generation: row["generation"])
        }
    }

    func cardCreated(of id: ID) throws -> Int64? {
        try op { try Int64.fetchOne(statement("SELECT card_created FROM contacts WHERE id = ?"), arguments: [id.hex]) }
    }

    func countSelfStartedContacts(addedAfterMs: Int64) throws -> Int {
        try op {
            try Int.fetchOne(statement("SELECT COUNT(*) FROM contacts WHERE session_initiator = id AND added_ms > ? AND consent != 'invited'"),
                             arguments: [addedAfterMs]) ?? 0
        }
    }

    func removedContact(id: ID) throws -> SessionOrigin? {
        try op {
            guard let row = try Row.fetchOne(statement("SELECT session_created, session_initiator FROM removed_contacts WHERE id = ?"),
                                             arguments: [id.hex]) else { return nil }
            return SessionOrigin(created: row["session_created"], initiator: try ID(hex: row["session_initiator"]))
        }
    }

    func contactQueues() throws -> [ContactQueue] {
        try op {
            try Row.fetchAll(statement("""
                SELECT q.queue, q.contact, q.relay, q.created_ms, q.state, q.close_at_ms
                FROM contact_queues q JOIN contacts c ON c.id = q.contact
                ORDER BY c.added_ms, c.id, q.created_ms, q.queue
                """)).map { row in
                let state: ContactQueue.State
                switch row["state"] as Int {
                case 0: state = .open
                case 1: state = .closing(atMs: row["close_at_ms"] ?? 0)
                case 2: state = .closed
                case let other: throw ClientError.storage("contact queue in an unknown state \(other)")
                }
                return ContactQueue(contact: try ID(hex: row["contact"]), relayID: try ID(hex: row["relay"]),
                                    id: try Bytes32(row["queue"] as Data, what: "queue"),
                                    createdMs: row["created_ms"], state: state)
            }
        }
    }

    func setContactQueues(_ queues: [ContactQueue], of id: ID) throws {
        try op {
            guard try Bool.fetchOne(statement("SELECT 1 FROM contacts WHERE id = ?"), arguments: [id.hex]) ?? false else {
                throw MessengerError.notFound("no contact \(id.hex)")
            }
            try execute(sql: "DELETE FROM contact_queues WHERE contact = ?", arguments: [id.hex])
            for queue in queues {
                let (code, closeAt): (Int, Int64?) = switch queue.state {
                case .open: (0, nil)
                case let .closing(atMs): (1, atMs)
                case .closed: (2, nil)
                }
                try execute(sql: """
                    INSERT INTO contact_queues (queue, contact, relay, created_ms, state, close_at_ms) VALUES (?, ?, ?, ?, ?, ?)
                    """, arguments: [Data(queue.id.bytes), id.hex, queue.relayID.hex, queue.createdMs, code, closeAt])
            }
        }
    }

    func isBlocked(_ id: ID) throws -> Bool {
        try op { try Bool.fetchOne(statement("SELECT 1 FROM blocked_contacts WHERE id = ?"), arguments: [id.hex]) ?? false }
    }

    func incomingTotals(from contact: ID) throws -> (count: Int, bytes: Int) {
        try op {
            let row = try Row.fetchOne(statement("""
                SELECT COUNT(*) AS n, COALESCE(SUM(LENGTH(body)), 0) AS bytes FROM messages WHERE contact = ? AND direction = 'in'
                """), arguments: [contact.hex])
            return (row?["n"] ?? 0, row?["bytes"] ?? 0)
        }
    }

    func hasSeenSetup(_ hash: Bytes32) throws -> Bool {
        try op { try Bool.fetchOne(statement("SELECT 1 FROM seen_setups WHERE hash = ?"), arguments: [Data(hash.bytes)]) ?? false }
    }

    private func sessionArguments(_ id: ID, _ session: ContactSession) -> [(any DatabaseValueConvertible)?] {
        [sealer.seal(session.ratchet.serialized(), purpose: "ratchet \(id.hex)"), Data(session.associatedData),
         session.origin.created, session.origin.initiator.hex, session.generation,
         session.pendingSetup.map { sealer.seal($0.storageBytes, purpose: "setup \(id.hex)") }]
    }

    func insertContact(_ contact: ContactRecord, session: ContactSession) throws {
        try op {
            guard try Bool.fetchOne(statement("SELECT 1 FROM contacts WHERE id = ?"), arguments: [contact.id.hex]) != true else {
                throw ClientError.conflict("\(contact.id.hex) is already a contact")
            }
            try execute(sql: """
                INSERT INTO contacts (id, identity_key, agreement_key, name, added_ms, mailboxes, session, consent,
                                      ratchet, associated_data, session_created, session_initiator, generation, setup)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: StatementArguments([contact.id.hex] + recordArguments(contact) + sessionArguments(contact.id, session)))
        }
    }

    func updateContact(_ contact: ContactRecord, session: ContactSession) throws {
        try op {
            try execute(sql: """
                UPDATE contacts SET identity_key = ?, agreement_key = ?, name = ?, added_ms = ?, mailboxes = ?, session = ?,
                    consent = ?, ratchet = ?, associated_data = ?, session_created = ?, session_initiator = ?, generation = ?, setup = ?
                WHERE id = ?
                """, arguments: StatementArguments(recordArguments(contact) + sessionArguments(contact.id, session) + [contact.id.hex]))
            try expectOneChange("no contact \(contact.id.hex)")
        }
    }

    /// The contact's columns after `id`.
    private func recordArguments(_ contact: ContactRecord) -> [(any DatabaseValueConvertible)?] {
        [Data(contact.identityKey.bytes), Data(contact.agreementKey.bytes), contact.name, contact.addedMs,
         Data(MailboxAddress.encode(contact.mailboxes)), contact.session.rawValue, contact.consent.rawValue]
    }

    private func expectOneChange(_ message: @autoclosure () -> String) throws {
        guard db.changesCount == 1 else { throw ClientError.notFound(message()) }
    }

    func setRatchet(_ ratchet: DoubleRatchet, of id: ID) throws {
        try op {
            try execute(sql: "UPDATE contacts SET ratchet = ? WHERE id = ?",
                           arguments: [sealer.seal(ratchet.serialized(), purpose: "ratchet \(id.hex)"), id.hex])
            try expectOneChange("no contact \(id.hex)")
        }
    }

    func setEstablished(_ id: ID) throws {
        try op {
            try execute(sql: "UPDATE contacts SET session = ?, setup = NULL WHERE id = ?",
                           arguments: [ContactRecord.Session.established.rawValue, id.hex])
            try expectOneChange("no contact \(id.hex)")
        }
    }

    func setMailboxes(_ mailboxes: [MailboxAddress], cardCreated: Int64, of id: ID) throws {
        try op {
            try execute(sql: "UPDATE contacts SET mailboxes = ?, card_created = ? WHERE id = ?",
                           arguments: [Data(MailboxAddress.encode(mailboxes)), cardCreated, id.hex])
            try expectOneChange("no contact \(id.hex)")
        }
    }

    func renameContact(_ id: ID, to name: String) throws -> Bool {
        try op {
            try execute(sql: "UPDATE contacts SET name = ? WHERE id = ?", arguments: [name, id.hex])
            return db.changesCount == 1
        }
    }

    func deleteContact(_ id: ID) throws -> Bool {
        try op {
            // Its messages go with it (ON DELETE CASCADE).
            try execute(sql: "DELETE FROM contacts WHERE id = ?", arguments: [id.hex])
            return db.changesCount == 1
        }
    }

    func setRemovedContact(_ id: ID, origin: SessionOrigin) throws {
        try op {
            try execute(sql: "INSERT OR REPLACE INTO removed_contacts (id, session_created, session_initiator) VALUES (?, ?, ?)",
                           arguments: [id.hex, origin.created, origin.initiator.hex])
        }
    }

    func clearRemovedContact(_ id: ID) throws {
        try op { try execute(sql: "DELETE FROM removed_contacts WHERE id = ?", arguments: [id.hex]) }
    }

    func setBlocked(_ id: ID, atMs: Int64) throws {
        try op { try execute(sql: "INSERT OR IGNORE INTO blocked_contacts (id, blocked_ms) VALUES (?, ?)", arguments: [id.hex, atMs]) }
    }

    func clearBlocked(_ id: ID) throws {
        try op { try execute(sql: "DELETE FROM blocked_contacts WHERE id = ?", arguments: [id.hex]) }
    }

    func recordSeenSetup(_ hash: Bytes32, atMs: Int64) throws {
        try op {
            try execute(sql: "INSERT OR IGNORE INTO seen_setups (hash, seen_ms) VALUES (?, ?)", arguments: [Data(hash.bytes), atMs])
        }
    }

    // MARK: Messages

    private static let messageColumns = "cursor, id, contact, direction, kind, timestamp_ms, body, state, attempts, next_attempt_ms"

    private func message(_ row: Row) throws -> MessageRecord {
        let id = try MessageID(bytes: Array(row["id"] as Data))
        return MessageRecord(
            cursor: row["cursor"], id: id, contact: try ID(hex: row["contact"]),
            direction: MessageRecord.Direction(rawValue: row["direction"]) ?? .incoming,
            kind: EnvelopeKind(rawValue: UInt8(truncatingIfNeeded: row["kind"] as Int64)),
            timestampMs: row["timestamp_ms"],
            body: try sealer.open(row["body"], purpose: "message body \(id.hex)"),
            state: MessageRecord.State(rawValue: row["state"]) ?? .queued,
            attempts: row["attempts"], nextAttemptMs: row["next_attempt_ms"])
    }

    func outboxEntry(cursor: Int64) throws -> OutboxEntry? {
        try op {
            guard let row = try Row.fetchOne(statement("""
                SELECT id, attempts, next_attempt_ms, payload, payload_generation FROM messages WHERE cursor = ?
                """), arguments: [cursor]) else { return nil }
            var payload: StoredPayload?
            if let sealed = row["payload"] as Data?, let generation = row["payload_generation"] as Int64? {
                let id = try MessageID(bytes: Array(row["id"] as Data))
                payload = StoredPayload(bytes: try sealer.open(sealed, purpose: "payload \(id.hex)"), generation: generation)
            }
            return OutboxEntry(attempts: row["attempts"], nextAttemptMs: row["next_attempt_ms"], payload: payload)
        }
    }

    func hasReceived(_ id: MessageID, from contact: ID) throws -> Bool {
        try op {
            try Bool.fetchOne(statement("SELECT 1 FROM messages WHERE contact = ? AND direction = 'in' AND id = ?"),
                              arguments: [contact.hex, Data(id.bytes)]) ?? false
        }
    }

    func dueOutbox(nowMs: Int64, limit: Int) throws -> [MessageRecord] {
        try op {
            try Row.fetchAll(statement("""
                SELECT \(Self.messageColumns) FROM messages WHERE next_attempt_ms IS NOT NULL AND next_attempt_ms <= ?
                ORDER BY next_attempt_ms, cursor LIMIT ?
                """), arguments: [nowMs, max(limit, 0)]).map(message)
        }
    }

    func nextOutboxDueMs() throws -> Int64? {
        try op { try Int64.fetchOne(statement("SELECT MIN(next_attempt_ms) FROM messages WHERE next_attempt_ms IS NOT NULL")) }
    }

    func outboxCount() throws -> Int {
        try op { try Int.fetchOne(statement("SELECT COUNT(*) FROM messages WHERE next_attempt_ms IS NOT NULL")) ?? 0 }
    }

    func textMessages(with contact: ID, before: Int64?, limit: Int) throws -> MessagePage {
        try op {
            let limit = max(limit, 0)
            let rows = try Row.fetchAll(statement("""
                SELECT \(Self.messageColumns) FROM messages
                WHERE contact = ? AND kind = ? AND cursor < ? ORDER BY cursor DESC LIMIT ?
                """), arguments: [contact.hex, Int64(EnvelopeKind.text.rawValue), before ?? Int64.max, limit + 1])
            return MessagePage(messages: try rows.prefix(limit).reversed().map(message), more: rows.count > limit)
        }
    }

    func conversationSummaries() throws -> [ID: ConversationSummary] {
        try op {
            var result: [ID: ConversationSummary] = [:]
            let rows = try Row.fetchAll(statement("""
                SELECT \(Self.messageColumns), n FROM messages
                JOIN (SELECT MAX(cursor) AS last, COUNT(*) AS n FROM messages WHERE kind = ? GROUP BY contact) ON cursor = last
                """), arguments: [Int64(EnvelopeKind.text.rawValue)])
            for row in rows {
                let record = try message(row)
                result[record.contact] = ConversationSummary(last: record, count: row["n"])
            }
            return result
        }
    }

    func message(id: MessageID) throws -> MessageRecord? {
        try op {
            try Row.fetchOne(statement("SELECT \(Self.messageColumns) FROM messages WHERE id = ? ORDER BY cursor LIMIT 1"),
                             arguments: [Data(id.bytes)]).map(message)
        }
    }

    func insertMessage(id: MessageID, contact: ID, direction: MessageRecord.Direction, kind: EnvelopeKind, timestampMs: Int64,
                       body: [UInt8], state: MessageRecord.State, nextAttemptMs: Int64?) throws -> MessageRecord {
        try op {
            try execute(sql: """
                INSERT INTO messages (id, contact, direction, kind, timestamp_ms, body, state, attempts, next_attempt_ms)
                VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?)
                """, arguments: [Data(id.bytes), contact.hex, direction.rawValue, Int64(kind.rawValue), timestampMs,
                                 sealer.seal(body, purpose: "message body \(id.hex)"), state.rawValue, nextAttemptMs])
            return MessageRecord(cursor: db.lastInsertedRowID, id: id, contact: contact, direction: direction, kind: kind,
                                 timestampMs: timestampMs, body: body, state: state, attempts: 0, nextAttemptMs: nextAttemptMs)
        }
    }

    func recordAttempt(cursor: Int64, attempts: Int, nextAttemptMs: Int64) throws {
        try op {
            try execute(sql: "UPDATE messages SET attempts = ?, next_attempt_ms = ? WHERE cursor = ?",
                           arguments: [attempts, nextAttemptMs, cursor])
            try expectOneChange("no message at cursor \(cursor)")
        }
    }

    func setPayload(_ payload: StoredPayload, cursor: Int64) throws {
        try op {
            guard let id = try Data.fetchOne(statement("SELECT id FROM messages WHERE cursor = ?"), arguments: [cursor])
                .map({ try MessageID(bytes: Array($0)) })
            else { throw ClientError.notFound("no message at cursor \(cursor)") }
            try execute(sql: "UPDATE messages SET payload = ?, payload_generation = ? WHERE cursor = ?",
                           arguments: [sealer.seal(payload.bytes, purpose: "payload \(id.hex)"), payload.generation, cursor])
        }
    }

    func setState(_ state: MessageRecord.State, cursor: Int64) throws {
        try op {
            try execute(sql: "UPDATE messages SET state = ? WHERE cursor = ?", arguments: [state.rawValue, cursor])
            try expectOneChange("no message at cursor \(cursor)")
        }
    }

    func markDelivered(_ id: MessageID, to contact: ID) throws -> Bool {
        try op {
            try execute(sql: """
                UPDATE messages SET state = 'delivered', next_attempt_ms = NULL, payload = NULL, payload_generation = NULL
                WHERE contact = ? AND direction = 'out' AND id = ? AND state != 'delivered'
                """, arguments: [contact.hex, Data(id.bytes)])
            return db.changesCount > 0
        }
    }
}
