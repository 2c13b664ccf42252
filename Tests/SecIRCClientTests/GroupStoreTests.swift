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
