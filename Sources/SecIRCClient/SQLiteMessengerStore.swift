import Foundation
import GRDB
public import SecIRCCrypto
public import SecIRCNode

/// The client's `MessengerStore` on disk: SQLite through GRDB, `<data-dir>/client.sqlite`.
/// Secret keys, session states, pending set-ups, outbox payloads and message bodies are sealed
/// with the storage key (each bound to what it is); what stays in the clear is what a front end
/// lists (contact names and keys, message states and times).
///
/// Every transaction is one SQLite transaction in WAL mode, synced on commit (`synchronous =
/// FULL`); GRDB's queue serialises them, so the HTTP threads and the network thread may share
/// the store. The database files are made 0600, and a wrong storage key is refused at open.
public final class SQLiteMessengerStore: MessengerStore {
    public static let fileName = "client.sqlite"
    private let queue: DatabaseQueue
    let sealer: StorageSealer

    /// Opens (or creates and migrates) the database at `path`, sealing with `key`. Throws
    /// `ClientError.storage` when it cannot be opened or `key` is not the one it was made with.
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

    static var migrator: DatabaseMigrator {
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
        // Deposit queues (docs/PROTOCOL.md §4): one row per queue; state 0 open, 1 closing (at
        // close_at_ms), 2 closed.
        migrator.registerMigration("v2") { db in
            try db.execute(sql: """
                CREATE TABLE contact_queues (
                    queue BLOB PRIMARY KEY,
                    contact TEXT NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
                    relay TEXT NOT NULL,
                    created_ms INTEGER NOT NULL,
                    state INTEGER NOT NULL,
                    close_at_ms INTEGER
                );
                CREATE INDEX contact_queues_contact ON contact_queues(contact);
                """)
        }
        // Contact requests (docs/PROTOCOL.md §8, Consent): contacts from before are accepted;
        // rejected requests are blocked until the user adds them from an invite.
        migrator.registerMigration("v3") { db in
            try db.execute(sql: """
                ALTER TABLE contacts ADD COLUMN consent TEXT NOT NULL DEFAULT 'accepted';
                CREATE TABLE blocked_contacts (id TEXT PRIMARY KEY, blocked_ms INTEGER NOT NULL);
                """)
        }
        // Groups (docs/PROTOCOL.md §8, Groups): each group's member state and invitations
        // sealed; posts in display order; the group outbox (sealed packets, already encrypted).
        migrator.registerMigration("v4") { db in
            try db.execute(sql: """
                CREATE TABLE groups (
                    id TEXT PRIMARY KEY,
                    name TEXT NOT NULL,
                    joined_ms INTEGER NOT NULL,
                    is_member INTEGER NOT NULL,
                    state BLOB NOT NULL
                );
                CREATE TABLE group_invitations (
                    group_id TEXT PRIMARY KEY,
                    from_contact TEXT NOT NULL,
                    name TEXT NOT NULL,
                    member_count INTEGER NOT NULL,
                    received_ms INTEGER NOT NULL,
                    invitation BLOB NOT NULL
                );
                CREATE TABLE group_messages (
                    cursor INTEGER PRIMARY KEY AUTOINCREMENT,
                    group_id TEXT NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
                    id BLOB NOT NULL,
                    lamport INTEGER NOT NULL,
                    sender_key BLOB NOT NULL,
                    sequence INTEGER NOT NULL,
                    kind INTEGER NOT NULL,
                    timestamp_ms INTEGER NOT NULL,
                    body BLOB NOT NULL,
                    outgoing INTEGER NOT NULL
                );
                CREATE INDEX group_messages_order ON group_messages(group_id, lamport, sender_key, sequence);
                CREATE TABLE group_deposits (
                    cursor INTEGER PRIMARY KEY AUTOINCREMENT,
                    group_id TEXT NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
                    mailbox BLOB NOT NULL,
                    body BLOB NOT NULL,
                    confirmed BLOB NOT NULL,
                    attempts INTEGER NOT NULL,
                    next_attempt_ms INTEGER NOT NULL
                );
                """)
        }
        // A group's state in parts (docs/PROTOCOL.md §8, Groups; GroupSession+State.swift), so a
        // change rewrites only what it changed: each part sealed on its own. A state stored whole
        // by v4 becomes the part with the empty key, read as such until the next change.
        migrator.registerMigration("v5") { db in
            try db.execute(sql: """
                CREATE TABLE group_state (
                    group_id TEXT NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
                    part BLOB NOT NULL,
                    state BLOB NOT NULL,
                    PRIMARY KEY (group_id, part)
                ) WITHOUT ROWID;
                INSERT INTO group_state (group_id, part, state) SELECT id, x'', state FROM groups;
                ALTER TABLE groups DROP COLUMN state;
                ALTER TABLE groups ADD COLUMN state_tag INTEGER NOT NULL DEFAULT 0;
                """)
        }
        // A body read back is looked up in the group outbox by its first 32 bytes (a sealed
        // packet's random key), not by scanning it: an admin's outbox can hold thousands.
        migrator.registerMigration("v6") { db in
            try db.execute(sql: "CREATE INDEX group_deposits_by_key ON group_deposits (substr(body, 1, 32))")
        }
        return migrator
    }

    /// A known value sealed on first use: a wrong passphrase or key file is reported at start,
    /// not as unreadable messages later.
    private func checkKey() throws {
        let check = Array("secIRC storage key check".utf8)
        try database {
            try queue.write { db in
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
    }

    public func write<T>(_ body: (any MessengerTransaction) throws -> T) throws -> T {
        try database {
            try queue.write { db in
                let tx = SQLiteMessengerTransaction(db, sealer: sealer)
                defer { tx.close() }
                return try body(tx)
            }
        }
    }

    /// A deferred transaction on the queue, like `write`, rather than GRDB's `read`: that one
    /// sets `PRAGMA query_only` on and off around the body, and SQLite expires every prepared
    /// statement of the connection when a flag pragma changes, so the statement cache would be
    /// thrown away by every read. The body gets a `MessengerReadTransaction`, which has no
    /// operation that writes.
    public func read<T>(_ body: (any MessengerReadTransaction) throws -> T) throws -> T {
        try database {
            try queue.unsafeRead { db in
                var result: T?
                try db.inTransaction(.deferred) {
                    let tx = SQLiteMessengerTransaction(db, sealer: sealer)
                    defer { tx.close() }
                    result = try body(tx)
                    return .commit
                }
                return result!
            }
        }
    }

    /// GRDB's own failures (opening, committing) become `ClientError` (``databaseError(_:)``);
    /// what the body threw (the transaction's operations throw only `ClientError`) passes as it is.
    private func database<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let error as DatabaseError { throw Self.databaseError(error) }
    }

    /// A database failure as a `ClientError`: `insufficientStorage` when SQLite found the disk
    /// full (`SQLITE_FULL`: the write was rolled back, and can succeed once there is room) or a
    /// write, sync or resize of its files failed (how a full disk shows while the journal or
    /// the shared memory grows; treated as full, so mail is held on the relay rather than given
    /// up on), `storage` otherwise.
    static func databaseError(_ error: any Error) -> ClientError {
        if let error = error as? DatabaseError, isOutOfSpace(error) {
            return .insufficientStorage("database: the disk is full (\(error.extendedResultCode))")
        }
        return .storage("database: \(error)")
    }

    static func isOutOfSpace(_ error: DatabaseError) -> Bool {
        error.resultCode == .SQLITE_FULL
            || [ResultCode.SQLITE_IOERR_WRITE, .SQLITE_IOERR_FSYNC, .SQLITE_IOERR_TRUNCATE, .SQLITE_IOERR_SHMSIZE]
                .contains(error.extendedResultCode)
    }
}
