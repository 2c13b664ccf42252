import Foundation
import GRDB
public import SecIRCCore
public import SecIRCCrypto

/// The client's database (SQLite through GRDB, `<data-dir>/client.sqlite`). Secret keys, session
/// states and message bodies are sealed with the storage key; what stays in the clear is what a
/// front end lists (contact names and keys, message states and times).
///
/// Every method is one transaction; the queue serialises them, so the HTTP threads and the
/// network thread may call it concurrently.
public final class ClientStore: Sendable {
    public static let fileName = "client.sqlite"
    private let queue: DatabaseQueue
    let sealer: StorageSealer

    public init(path: String, key: SymmetricKey) throws {
        sealer = StorageSealer(key: key)
        do {
            var configuration = Configuration()
            configuration.foreignKeysEnabled = true
            // Write-ahead log, synced on every commit: a committed message survives a crash or a
            // power cut, at one fsync per transaction instead of the rollback journal's several.
            configuration.prepareDatabase { db in
                try db.execute(sql: "PRAGMA journal_mode = WAL")
                try db.execute(sql: "PRAGMA synchronous = FULL")
                // Deleted rows (a removed contact's name, keys, message times) are overwritten.
                try db.execute(sql: "PRAGMA secure_delete = ON")
            }
            queue = try DatabaseQueue(path: path, configuration: configuration)
            try Self.migrator.migrate(queue)
            // The database and its log hold the social graph in the clear: owner only.
            for suffix in ["", "-wal", "-shm"] where FileManager.default.fileExists(atPath: path + suffix) {
                chmod(path + suffix, 0o600)
            }
        } catch let error as ClientError {
            throw error
        } catch {
            throw ClientError.storage("cannot open \(path): \(error)")
        }
        try checkKey()
    }

    private static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);
                CREATE TABLE contacts (
                    id TEXT PRIMARY KEY,
                    identity_key BLOB NOT NULL,
                    agreement_key BLOB NOT NULL,
                    name TEXT NOT NULL,
                    added_ms INTEGER NOT NULL,
                    mailboxes BLOB NOT NULL,
                    session TEXT NOT NULL,
                    ratchet BLOB NOT NULL,
                    associated_data BLOB NOT NULL,
                    session_created INTEGER NOT NULL,
                    session_initiator TEXT NOT NULL,
                    generation INTEGER NOT NULL DEFAULT 1,
                    card_created INTEGER NOT NULL DEFAULT 0,
                    setup BLOB
                );
                CREATE TABLE messages (
                    cursor INTEGER PRIMARY KEY AUTOINCREMENT,
                    id BLOB NOT NULL,
                    contact TEXT NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
                    direction TEXT NOT NULL,
                    kind INTEGER NOT NULL,
                    timestamp_ms INTEGER NOT NULL,
                    body BLOB NOT NULL,
                    state TEXT NOT NULL,
                    attempts INTEGER NOT NULL DEFAULT 0,
                    next_attempt_ms INTEGER,
                    payload BLOB,
                    payload_generation INTEGER,
                    UNIQUE (contact, direction, id)
                );
                CREATE INDEX messages_outbox ON messages(next_attempt_ms) WHERE next_attempt_ms IS NOT NULL;
                CREATE INDEX messages_id ON messages(id);
                CREATE TABLE seen_setups (hash BLOB PRIMARY KEY, seen_ms INTEGER NOT NULL);
                CREATE TABLE removed_contacts (id TEXT PRIMARY KEY, session_created INTEGER NOT NULL, session_initiator TEXT NOT NULL);
                """)
        }
        return migrator
    }

    /// A known value sealed on first use: a wrong passphrase or key file is reported at start,
    /// not as unreadable messages later.
    private func checkKey() throws {
        let check = Array("secIRC storage key check".utf8)
        try write { db in
            if let sealed = try Data.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'key_check'") {
                guard (try? sealer.open(sealed, purpose: "key check")) == check else {
                    throw ClientError.storage("the storage key does not open this database (wrong passphrase or key file)")
                }
            } else {
                try db.execute(sql: "INSERT INTO meta (key, value) VALUES ('key_check', ?)",
                               arguments: [sealer.seal(check, purpose: "key check")])
            }
        }
    }

    func write<T>(_ body: (Database) throws -> T) throws -> T {
        do { return try queue.write(body) } catch let error as ClientError { throw error } catch let error as RatchetError {
            throw error
        } catch {
            throw ClientError.storage("database: \(error)")
        }
    }

    func read<T>(_ body: (Database) throws -> T) throws -> T {
        do { return try queue.read(body) } catch let error as ClientError { throw error } catch {
            throw ClientError.storage("database: \(error)")
        }
    }

    // MARK: Sealed meta values

    func metaSecret(_ db: Database, _ key: String) throws -> SecureBytes? {
        guard let sealed = try Data.fetchOne(db, sql: "SELECT value FROM meta WHERE key = ?", arguments: [key]) else { return nil }
        return try sealer.openSecret(sealed, purpose: key)
    }

    func setMetaSecret(_ db: Database, _ key: String, _ value: SecureBytes) throws {
        try db.execute(sql: "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", arguments: [key, sealer.seal(value, purpose: key)])
    }

    func meta(_ db: Database, _ key: String) throws -> [UInt8]? {
        try Data.fetchOne(db, sql: "SELECT value FROM meta WHERE key = ?", arguments: [key]).map { Array($0) }
    }

    func setMeta(_ db: Database, _ key: String, _ value: [UInt8]) throws {
        try db.execute(sql: "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", arguments: [key, Data(value)])
    }

    // MARK: Contacts

    static let contactColumns = "id, identity_key, agreement_key, name, added_ms, mailboxes, session"

    func contact(_ db: Database, id: ID) throws -> ContactRecord? {
        try Row.fetchOne(db, sql: "SELECT \(Self.contactColumns) FROM contacts WHERE id = ?", arguments: [id.hex]).map(Self.contact)
    }

    public func contacts() throws -> [ContactRecord] {
        try read { db in try Row.fetchAll(db, sql: "SELECT \(Self.contactColumns) FROM contacts ORDER BY added_ms, id").map(Self.contact) }
    }

    public func contact(id: ID) throws -> ContactRecord? { try read { db in try contact(db, id: id) } }

    public func rename(contact id: ID, to name: String) throws -> ContactRecord {
        try write { db in
            try db.execute(sql: "UPDATE contacts SET name = ? WHERE id = ?", arguments: [name, id.hex])
            guard db.changesCount == 1, let record = try contact(db, id: id) else { throw ClientError.notFound("no contact \(id.hex)") }
            return record
        }
    }

    /// Removes a contact with its session and messages. What its session was is kept, so that an
    /// old session set-up still in flight cannot bring the contact back (only a newer one can).
    public func removeContact(id: ID) throws {
        try write { db in
            try db.execute(sql: """
                INSERT OR REPLACE INTO removed_contacts (id, session_created, session_initiator)
                SELECT id, session_created, session_initiator FROM contacts WHERE id = ?
                """, arguments: [id.hex])
            try db.execute(sql: "DELETE FROM contacts WHERE id = ?", arguments: [id.hex])
            guard db.changesCount == 1 else { throw ClientError.notFound("no contact \(id.hex)") }
        }
    }

    private static func contact(_ row: Row) throws -> ContactRecord {
        let hex: String = row["id"]
        let mailboxes = try MailboxAddress.decodeList(Array(row["mailboxes"] as Data))
        return ContactRecord(
            id: try ID(hex: hex),
            identityKey: try SigningPublicKey(bytes: Array(row["identity_key"] as Data)),
            agreementKey: try AgreementPublicKey(bytes: Array(row["agreement_key"] as Data)),
            name: row["name"], addedMs: row["added_ms"], mailboxes: mailboxes,
            session: ContactRecord.Session(rawValue: row["session"]) ?? .initiated)
    }

    static func encode(mailboxes: [MailboxAddress]) -> Data { Data(MailboxAddress.encode(mailboxes)) }

    // MARK: Messages

    static let messageColumns = "cursor, id, contact, direction, kind, timestamp_ms, body, state, attempts, next_attempt_ms"

    func message(_ row: Row) throws -> MessageRecord {
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

    func insertMessage(_ db: Database, id: MessageID, contact: ID, direction: MessageRecord.Direction, kind: EnvelopeKind,
                       timestampMs: Int64, body: [UInt8], state: MessageRecord.State, nextAttemptMs: Int64?) throws -> MessageRecord {
        try db.execute(sql: """
            INSERT INTO messages (id, contact, direction, kind, timestamp_ms, body, state, attempts, next_attempt_ms)
            VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?)
            """, arguments: [Data(id.bytes), contact.hex, direction.rawValue, Int64(kind.rawValue), timestampMs,
                             sealer.seal(body, purpose: "message body \(id.hex)"), state.rawValue, nextAttemptMs])
        return MessageRecord(cursor: db.lastInsertedRowID, id: id, contact: contact, direction: direction, kind: kind,
                             timestampMs: timestampMs, body: body, state: state, attempts: 0, nextAttemptMs: nextAttemptMs)
    }

    /// A page of a conversation's text messages: the newest `limit` with cursor < `before`,
    /// oldest first, and whether older ones exist.
    public func messages(contact: ID, before: Int64?, limit: Int) throws -> (messages: [MessageRecord], more: Bool) {
        try read { db in
            let rows = try Row.fetchAll(db, sql: """
                SELECT \(Self.messageColumns) FROM messages
                WHERE contact = ? AND kind = ? AND cursor < ? ORDER BY cursor DESC LIMIT ?
                """, arguments: [contact.hex, Int64(EnvelopeKind.text.rawValue), before ?? Int64.max, limit + 1])
            let more = rows.count > limit
            return (try rows.prefix(limit).reversed().map(message), more)
        }
    }

    /// The last text message and the number of text messages of each conversation.
    public func conversationSummaries() throws -> [ID: (last: MessageRecord, count: Int)] {
        try read { db in
            var result: [ID: (MessageRecord, Int)] = [:]
            let rows = try Row.fetchAll(db, sql: """
                SELECT \(Self.messageColumns), n FROM messages
                JOIN (SELECT MAX(cursor) AS last, COUNT(*) AS n FROM messages WHERE kind = ? GROUP BY contact) ON cursor = last
                """, arguments: [Int64(EnvelopeKind.text.rawValue)])
            for row in rows {
                let record = try message(row)
                result[record.contact] = (record, row["n"])
            }
            return result
        }
    }

    public func message(id: MessageID) throws -> MessageRecord? {
        try read { db in
            try Row.fetchOne(db, sql: "SELECT \(Self.messageColumns) FROM messages WHERE id = ? ORDER BY cursor LIMIT 1",
                             arguments: [Data(id.bytes)]).map(message)
        }
    }

    /// Outgoing messages not yet delivered: how many, and those due by `nowMs` (oldest first).
    public func outboxCount() throws -> Int {
        try read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM messages WHERE next_attempt_ms IS NOT NULL") ?? 0 }
    }

    func dueOutbox(nowMs: Int64, limit: Int) throws -> [MessageRecord] {
        try read { db in
            try Row.fetchAll(db, sql: """
                SELECT \(Self.messageColumns) FROM messages WHERE next_attempt_ms IS NOT NULL AND next_attempt_ms <= ?
                ORDER BY next_attempt_ms, cursor LIMIT ?
                """, arguments: [nowMs, limit]).map(message)
        }
    }

    func nextOutboxDueMs() throws -> Int64? {
        try read { db in try Int64.fetchOne(db, sql: "SELECT MIN(next_attempt_ms) FROM messages WHERE next_attempt_ms IS NOT NULL") }
    }
}
