import Foundation
import GRDB
@testable import SecIRCClient
import SecIRCCore
import SecIRCCrypto
import SecIRCNode
import Testing

/// The stores' group operations (migrations v4 and v5 for SQLite): the same answers from both,
/// paging in display order, state parts written and removed, rollback, cascade on delete, and
/// secrets sealed on disk.
@Suite struct GroupStoreTests {
    static func stores() throws -> [(String, any MessengerStore, TemporaryDirectory)] {
        let dir = TemporaryDirectory()
        var rng = SystemRandom()
        return [("memory", MemoryMessengerStore(), dir),
                ("sqlite", try SQLiteMessengerStore(path: dir.path + "/db.sqlite", key: SymmetricKey(using: &rng)), dir)]
    }

    static let group = ID(rawValue: SHA256.hash(Array("group".utf8)))

    @Test func groupsPostsInvitationsAndDepositsRoundTrip() throws {
        var rng = SystemRandom()
        let keys = (0..<3).map { _ in SigningPrivateKey(using: &rng).publicKey }
        for (kind, store, _) in try Self.stores() {
            let parts: [[UInt8]: [UInt8]] = [[0]: Array("head".utf8), [1]: Array("roster".utf8), [3, 7]: Array("stream".utf8)]
            try store.write { tx in
                try tx.setGroup(GroupRecord(id: Self.group, name: "g", joinedMs: 5, isMember: true, stateTag: 0xFEDC_BA98_7654_3210))
                try tx.changeGroupState(Self.group, GroupSession.StateChange(written: parts, removed: [], isWhole: true))
                // A change writes some parts and removes others; a whole one replaces all.
                try tx.changeGroupState(Self.group, GroupSession.StateChange(written: [[0]: Array("head 2".utf8), [4]: [4]], removed: [[3, 7]]))
                // Posts arrive out of display order; lamport, then key, then sequence orders them.
                for (lamport, key, sequence) in [(3, 0, 1), (1, 1, 1), (2, 2, 1), (1, 0, 1), (3, 1, 2)] as [(UInt64, Int, UInt64)] {
                    _ = try tx.insertGroupMessage(group: Self.group, id: MessageID(using: &rng), lamport: lamport, senderKey: keys[key],
                                                  sequence: sequence, kind: .text, timestampMs: 7, body: Array("\(lamport)/\(key)".utf8),
                                                  outgoing: key == 0)
                }
                try tx.setGroupInvitation(GroupInvitationRecord(group: Self.group, from: keys[1].id, name: "g", memberCount: 3,
                                                                receivedMs: 9, invitation: [1, 2, 3]))
                let cursor = try tx.insertGroupDeposit(group: Self.group, mailbox: Bytes32.zero, body: [9, 9], nextAttemptMs: 11)
                var deposit = try #require(try tx.groupDeposits().first { $0.cursor == cursor })
                deposit.confirmed = [keys[2].id]
                deposit.attempts = 2
                try tx.updateGroupDeposit(deposit)
            }
            try store.read { tx throws in
                #expect(try tx.group(id: Self.group)?.stateTag == 0xFEDC_BA98_7654_3210, "\(kind)")
                #expect(try tx.groupState(Self.group) == [[0]: Array("head 2".utf8), [1]: Array("roster".utf8), [4]: [4]], "\(kind)")
                #expect(try tx.groupState(ID(rawValue: SHA256.hash(Array("other".utf8)))) == [:], "\(kind)")
                let sorted = [keys[0], keys[1]].sorted { $0.bytes.lexicographicallyPrecedes($1.bytes) }
                let all = try tx.groupMessages(in: Self.group, before: nil, limit: 10)
                #expect(all.messages.count == 5 && !all.more, "\(kind)")
                #expect(all.messages.map(\.lamport) == [1, 1, 2, 3, 3], "\(kind)")
                #expect(all.messages.prefix(2).map(\.senderKey) == sorted, "\(kind): ties by key")
                let last = try tx.groupMessages(in: Self.group, before: nil, limit: 2)
                #expect(last.more && last.messages.map(\.lamport) == [3, 3], "\(kind)")
                let earlier = try tx.groupMessages(in: Self.group, before: last.messages[0].cursor, limit: 2)
                #expect(earlier.more && earlier.messages.map(\.lamport) == [1, 2], "\(kind)")
                #expect(try tx.groupMessage(cursor: earlier.messages[1].cursor)?.text == "2/2", "\(kind)")
                #expect(try tx.groupInvitations().map(\.invitation) == [[1, 2, 3]], "\(kind)")
                let deposit = try #require(try tx.groupDeposits().first)
                #expect(deposit.confirmed == [keys[2].id] && deposit.attempts == 2 && deposit.nextAttemptMs == 11, "\(kind)")
            }
            // A failed transaction leaves nothing behind.
            struct Boom: Error {}
            #expect(throws: Boom.self) {
                try store.write { tx in
                    _ = try tx.insertGroupMessage(group: Self.group, id: MessageID(using: &rng), lamport: 9, senderKey: keys[0], sequence: 9,
                                                  kind: .text, timestampMs: 0, body: [], outgoing: true)
                    _ = try tx.deleteGroupInvitation(Self.group)
                    try tx.changeGroupState(Self.group, GroupSession.StateChange(written: [[0]: [0], [9]: [9]], removed: [[1]]))
                    throw Boom()
                }
            }
            let kept = try store.read { tx in (try tx.groupMessages(in: Self.group, before: nil, limit: 10).messages.count,
                                               try tx.groupInvitations().count) }
            #expect(kept == (5, 1), "\(kind)")
            #expect(try store.read { tx in try tx.groupState(Self.group) } == [[0]: Array("head 2".utf8), [1]: Array("roster".utf8), [4]: [4]],
                    "\(kind): the state's parts rolled back")
            // Posts and deposits of an unknown group are refused; deleting a group takes its posts and deposits.
            #expect(throws: (any Error).self) {
                try store.write { tx in
                    _ = try tx.insertGroupDeposit(group: keys[0].id, mailbox: .zero, body: [], nextAttemptMs: 0)
                }
            }
            #expect(throws: (any Error).self) {
                try store.write { tx in try tx.changeGroupState(keys[0].id, GroupSession.StateChange(written: [[0]: [0]])) }
            }
            try store.write { tx in try tx.changeGroupState(Self.group, GroupSession.StateChange(written: [[0]: [5]], isWhole: true)) }
            #expect(try store.read { tx in try tx.groupState(Self.group) } == [[0]: [5]], "\(kind)")
            let deleted = try store.write { tx in (try tx.deleteGroup(Self.group), try tx.deleteGroup(Self.group)) }
            #expect(deleted == (true, false), "\(kind)")
            let left = try store.read { tx in
                (try tx.groups().count, try tx.groupDeposits().count, try tx.groupMessages(in: Self.group, before: nil, limit: 10).messages.count,
                 try tx.groupState(Self.group).count)
            }
            #expect(left == (0, 0, 0, 0), "\(kind)")
        }
    }

    /// A v4 store's group, its state sealed whole, reads after migration v5 as the part with the
    /// empty key (which `GroupSession(parts:)` reads as a version-1 state).
    @Test func aVersionFourStateBecomesThePartWithTheEmptyKey() throws {
        let dir = TemporaryDirectory()
        var rng = SystemRandom()
        let key = SymmetricKey(using: &rng)
        let path = dir.path + "/db.sqlite"
        let blob = Array("a version-1 state".utf8)
        do {
            let queue = try DatabaseQueue(path: path)
            try SQLiteMessengerStore.migrator.migrate(queue, upTo: "v4")
            try queue.write { db in
                try db.execute(sql: "INSERT INTO groups (id, name, joined_ms, is_member, state) VALUES (?, 'g', 1, 1, ?)",
                               arguments: [Self.group.hex, StorageSealer(key: key).seal(blob, purpose: "group \(Self.group.hex)")])
            }
        }
        let store = try SQLiteMessengerStore(path: path, key: key)
        let (record, parts) = try store.read { tx in (try tx.group(id: Self.group), try tx.groupState(Self.group)) }
        #expect(record?.name == "g" && record?.isMember == true && record?.stateTag == 0)
        #expect(parts == [[]: blob])
    }

    /// The group outbox looked up without reading it whole (an admin's can hold thousands): by a
    /// body read back (SQLite: through the index on its first 32 bytes, migration v6), by due
    /// time, and as keys without bodies — the same answers from both stores.
    @Test func theGroupOutboxIsFoundByBodyByDueTimeAndAsKeys() throws {
        var rng = SeededRandom(seed: "outbox")
        // Two bodies share their first 32 bytes: the whole body tells them apart.
        let shared = (0..<32).map { _ in UInt8.random(in: 0...255, using: &rng) }
        let bodies = [shared + [1, 2, 3], shared + [1, 2, 4], (0..<814).map { _ in UInt8.random(in: 0...255, using: &rng) }, [7]]
        for (kind, store, dir) in try Self.stores() {
            let cursors = try store.write { tx in
                try tx.setGroup(GroupRecord(id: Self.group, name: "g", joinedMs: 0, isMember: true))
                return try bodies.enumerated().map { index, body in
                    try tx.insertGroupDeposit(group: Self.group, mailbox: Bytes32.zero, body: body, nextAttemptMs: Int64(100 * (4 - index)))
                } + [try tx.insertGroupDeposit(group: Self.group, mailbox: Bytes32.zero, body: bodies[2], nextAttemptMs: 50)]
            }
            try store.read { tx throws in
                #expect(try tx.groupDeposits(withBody: bodies[0]).map(\.cursor) == [cursors[0]], "\(kind)")
                #expect(try tx.groupDeposits(withBody: bodies[1]).map(\.cursor) == [cursors[1]], "\(kind)")
                #expect(try tx.groupDeposits(withBody: bodies[2]).map(\.cursor) == [cursors[2], cursors[4]], "\(kind): both copies")
                #expect(try tx.groupDeposits(withBody: bodies[3]).map(\.body) == [[7]], "\(kind): a short body")
                #expect(try tx.groupDeposits(withBody: shared).isEmpty && tx.groupDeposits(withBody: []).isEmpty, "\(kind)")
                #expect(try tx.groupDeposits(dueByMs: 200, limit: 10).map(\.cursor) == [cursors[2], cursors[3], cursors[4]], "\(kind)")
                #expect(try tx.groupDeposits(dueByMs: 200, limit: 2).map(\.cursor) == [cursors[2], cursors[3]], "\(kind)")
                #expect(try tx.groupDeposits(dueByMs: 49, limit: 10).isEmpty && tx.groupDeposits(dueByMs: 1_000, limit: 0).isEmpty, "\(kind)")
                let keys = try tx.groupDepositKeys()
                #expect(keys == (try tx.groupDeposits()).map { GroupDepositKey(key: $0.key, nextAttemptMs: $0.nextAttemptMs) }, "\(kind)")
                #expect(keys.map(\.nextAttemptMs) == [400, 300, 200, 100, 50] && keys[0].key == keys[1].key, "\(kind)")
                #expect(keys[3].key == GroupDepositRecord.key(of: [7] + [UInt8](repeating: 0, count: 31)), "\(kind): zeros past the end")
            }
            guard kind == "sqlite" else { continue }
            let queue = try DatabaseQueue(path: dir.path + "/db.sqlite")
            let plan = try queue.read { db in
                try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN SELECT cursor FROM group_deposits WHERE substr(body, 1, 32) = ? AND body = ?",
                                 arguments: [Data(shared), Data(bodies[0])]).map { $0["detail"] as String }
            }
            #expect(plan.contains { $0.contains("group_deposits_by_key") }, "the lookup uses the index: \(plan)")
        }
    }

    /// The session state and the invitation (epoch secrets) and post bodies are not on disk in the clear.
    @Test func secretsAreSealedOnDisk() throws {
        let dir = TemporaryDirectory()
        var rng = SystemRandom()
        let store = try SQLiteMessengerStore(path: dir.path + "/db.sqlite", key: SymmetricKey(using: &rng))
        let secret = Array("SECRET-EPOCH-KEY-MATERIAL".utf8)
        try store.write { tx in
            try tx.setGroup(GroupRecord(id: Self.group, name: "g", joinedMs: 0, isMember: true))
            try tx.changeGroupState(Self.group, GroupSession.StateChange(written: [[0]: secret, [2, 0, 0, 0, 1, 0, 0, 0, 2]: secret]))
            try tx.setGroupInvitation(GroupInvitationRecord(group: Self.group, from: Self.group, name: "g", memberCount: 1, receivedMs: 0,
                                                            invitation: secret))
            _ = try tx.insertGroupMessage(group: Self.group, id: MessageID(using: &rng), lamport: 1, senderKey: SigningPrivateKey(using: &rng).publicKey,
                                          sequence: 1, kind: .text, timestampMs: 0, body: secret, outgoing: false)
        }
        let queue = try DatabaseQueue(path: dir.path + "/db.sqlite")
        let blobs = try queue.read { db in
            try Data.fetchAll(db, sql: "SELECT state FROM group_state UNION ALL SELECT invitation FROM group_invitations UNION ALL SELECT body FROM group_messages")
        }
        #expect(blobs.count == 4)
        for blob in blobs { #expect(blob.range(of: Data(secret)) == nil) }
    }
}
