import Dispatch
import SecIRCCore
import SecIRCCrypto
import SecIRCNode
import Testing

/// The in-memory store on its own: atomicity, indices, snapshots, concurrency.
@Suite struct MemoryMessengerStoreTests {
    struct Failure: Error {}

    static func contact(_ n: UInt8, addedMs: Int64 = 0, name: String? = nil) -> (ContactRecord, ContactSession) {
        var rng = SeededRandom(seed: "contact \(n)")
        let signing = SigningPrivateKey(using: &rng)
        let record = ContactRecord(id: signing.publicKey.id, identityKey: signing.publicKey,
                                   agreementKey: AgreementPrivateKey(using: &rng).publicKey, name: name ?? "c\(n)", addedMs: addedMs,
                                   mailboxes: [MailboxAddress(relayID: .byte(n), mailboxID: .zero)], session: .established)
        let session = ContactSession(ratchet: DoubleRatchet(responderWith: SymmetricKey(using: &rng), ratchetKeyPair: AgreementPrivateKey(using: &rng)),
                                     associatedData: [n], pendingSetup: nil,
                                     origin: SessionOrigin(created: Int64(n), initiator: signing.publicKey.id), generation: 1)
        return (record, session)
    }

    @discardableResult
    static func insert(_ tx: any MessengerTransaction, _ contact: ID, kind: EnvelopeKind = .text, outgoing: Bool = true,
                       dueMs: Int64? = nil, id: MessageID? = nil, rng: inout SeededRandom) throws -> MessageRecord {
        try tx.insertMessage(id: id ?? MessageID(using: &rng), contact: contact, direction: outgoing ? .outgoing : .incoming, kind: kind,
                             timestampMs: 1, body: Array("body".utf8), state: outgoing ? .queued : .received,
                             nextAttemptMs: outgoing ? (dueMs ?? 0) : nil)
    }

    @Test func aThrowingWriteChangesNothing() throws {
        let store = MemoryMessengerStore()
        var rng = SeededRandom(seed: "rollback")
        let (alice, session) = Self.contact(1)
        let hash = SHA256.hash([1, 2, 3])
        var inserted: [MessageRecord] = []
        #expect(throws: Failure.self) {
            try store.write { tx throws in
                try tx.insertContact(alice, session: session)
                for due in [5, 1, 3] as [Int64] { inserted.append(try Self.insert(tx, alice.id, dueMs: due, rng: &rng)) }
                try tx.setMailboxKeys([MailboxKey(relayID: .byte(9), key: SigningPrivateKey(using: &rng))])
                try tx.setInviteURI("secirc:x")
                try tx.recordSeenSetup(hash, atMs: 1)
                try tx.setRemovedContact(.byte(7), origin: SessionOrigin(created: 1, initiator: .byte(7)))
                #expect(try tx.outboxCount() == 3, "a transaction sees its own changes")
                throw Failure()
            }
        }
        try store.read { tx throws in
            #expect(try tx.contacts().isEmpty && tx.contact(id: alice.id) == nil && tx.session(of: alice.id) == nil)
            #expect(try tx.outboxCount() == 0 && tx.nextOutboxDueMs() == nil && tx.dueOutbox(nowMs: .max, limit: 10).isEmpty)
            #expect(try tx.message(id: inserted[0].id) == nil && tx.outboxEntry(cursor: 1) == nil)
            #expect(try tx.mailboxKeys().isEmpty && tx.inviteURI() == nil)
            #expect(try !tx.hasSeenSetup(hash) && tx.removedContact(id: .byte(7)) == nil)
            #expect(try tx.conversationSummaries().isEmpty)
        }
        #expect(store.snapshot.messageCount == 0)
        // Cursors given out by the failed transaction are given again, as after a database rollback.
        let first = try store.write { tx throws in
            try tx.insertContact(alice, session: session)
            return try Self.insert(tx, alice.id, rng: &rng)
        }
        #expect(first.cursor == 1)
    }

    @Test func aThrowingWriteUndoesUpdatesAndDeletes() throws {
        let store = MemoryMessengerStore()
        var rng = SeededRandom(seed: "undo")
        let (alice, aliceSession) = Self.contact(1)
        let (bob, bobSession) = Self.contact(2, addedMs: 5)
        let origin = SessionOrigin(created: 3, initiator: .byte(3))
        try store.write { tx throws in
            try tx.insertContact(alice, session: aliceSession)
            try tx.insertContact(bob, session: bobSession)
            for due in [10, 20, 30] as [Int64] { try Self.insert(tx, alice.id, dueMs: due, rng: &rng) }
            try Self.insert(tx, alice.id, outgoing: false, rng: &rng)
            try Self.insert(tx, bob.id, dueMs: 15, rng: &rng)
            try tx.setPayload(StoredPayload(bytes: [1], generation: 1), cursor: 1)
            try tx.setRemovedContact(.byte(3), origin: origin)
        }
        let before = try Self.view(store, contacts: [alice.id, bob.id])
        #expect(throws: Failure.self) {
            try store.write { tx throws in
                try tx.recordAttempt(cursor: 1, attempts: 1, nextAttemptMs: 100)
                try tx.setPayload(StoredPayload(bytes: [2], generation: 2), cursor: 2)
                try tx.setState(.sent, cursor: 3)
                #expect(try tx.markDelivered(try #require(tx.dueOutbox(nowMs: .max, limit: 10).first).id, to: bob.id))
                #expect(try tx.renameContact(alice.id, to: "renamed"))
                var session = aliceSession
                session.generation = 9
                try tx.updateContact(bob, session: session)
                try tx.setMailboxes([], cardCreated: 44, of: alice.id)
                try tx.setEstablished(bob.id)
                try tx.setRatchet(bobSession.ratchet, of: alice.id)
                #expect(try tx.deleteContact(alice.id))
                try tx.clearRemovedContact(.byte(3))
                try tx.setRemovedContact(alice.id, origin: origin)
                try Self.insert(tx, bob.id, dueMs: 1, rng: &rng)
                throw Failure()
            }
        }
        #expect(try Self.view(store, contacts: [alice.id, bob.id]) == before)
    }

    @Test func theOutboxIsOrderedByDueTimeThenCursor() throws {
        let store = MemoryMessengerStore()
        var rng = SeededRandom(seed: "outbox")
        let (alice, session) = Self.contact(1)
        let records = try store.write { tx throws in
            try tx.insertContact(alice, session: session)
            try Self.insert(tx, alice.id, outgoing: false, rng: &rng) // not in the outbox
            return try [30, 10, 20, 10].map { try Self.insert(tx, alice.id, dueMs: $0, rng: &rng) }
        }
        try store.read { tx throws in
            #expect(try tx.dueOutbox(nowMs: 20, limit: 10).map(\.cursor) == [3, 5, 4])
            #expect(try tx.dueOutbox(nowMs: 20, limit: 2).map(\.cursor) == [3, 5])
            #expect(try tx.dueOutbox(nowMs: 9, limit: 10).isEmpty)
            #expect(try tx.nextOutboxDueMs() == 10 && tx.outboxCount() == 4)
        }
        try store.write { tx throws in
            try tx.recordAttempt(cursor: 3, attempts: 1, nextAttemptMs: 40)
            #expect(try tx.markDelivered(records[3].id, to: alice.id))
            #expect(try !tx.markDelivered(records[3].id, to: alice.id), "delivered once")
            #expect(try !tx.markDelivered(records[0].id, to: .byte(9)), "another contact's")
        }
        try store.read { tx throws in
            #expect(try tx.dueOutbox(nowMs: .max, limit: 10).map(\.cursor) == [4, 2, 3])
            #expect(try tx.nextOutboxDueMs() == 20 && tx.outboxCount() == 3)
            #expect(try tx.outboxEntry(cursor: 3) == OutboxEntry(attempts: 1, nextAttemptMs: 40, payload: nil))
            #expect(try tx.outboxEntry(cursor: 5)?.nextAttemptMs == nil)
            #expect(try tx.message(id: records[3].id)?.state == .delivered)
        }
    }

    @Test func pagesSummariesAndLookUps() throws {
        let store = MemoryMessengerStore()
        var rng = SeededRandom(seed: "pages")
        let (alice, aliceSession) = Self.contact(1)
        let (bob, bobSession) = Self.contact(2)
        let shared = MessageID(using: &rng)
        try store.write { tx throws in
            try tx.insertContact(alice, session: aliceSession)
            try tx.insertContact(bob, session: bobSession)
            for i in 0..<10 {
                try Self.insert(tx, alice.id, outgoing: i % 2 == 0, rng: &rng)
                try Self.insert(tx, alice.id, kind: .receipt, rng: &rng)
            }
            try Self.insert(tx, bob.id, outgoing: false, id: shared, rng: &rng)
            try Self.insert(tx, alice.id, outgoing: false, id: shared, rng: &rng)
            try Self.insert(tx, bob.id, kind: .cardUpdate, rng: &rng)
        }
        try store.read { tx throws in
            let newest = try tx.textMessages(with: alice.id, before: nil, limit: 3)
            #expect(newest.messages.map(\.cursor) == [17, 19, 22] && newest.more)
            let older = try tx.textMessages(with: alice.id, before: 17, limit: 3)
            #expect(older.messages.map(\.cursor) == [11, 13, 15] && older.more)
            #expect(try tx.textMessages(with: alice.id, before: 4, limit: 3).messages.map(\.cursor) == [1, 3])
            #expect(try !tx.textMessages(with: alice.id, before: 4, limit: 3).more)
            #expect(try tx.textMessages(with: alice.id, before: 1, limit: 3) == MessagePage(messages: [], more: false))
            #expect(try tx.textMessages(with: .byte(9), before: nil, limit: 3) == MessagePage(messages: [], more: false))
            let summaries = try tx.conversationSummaries()
            #expect(summaries[alice.id]?.count == 11 && summaries[alice.id]?.last.cursor == 22)
            #expect(summaries[bob.id]?.count == 1 && summaries[bob.id]?.last.cursor == 21)
            #expect(try tx.message(id: shared)?.cursor == 21, "the lowest cursor")
            #expect(try tx.hasReceived(shared, from: alice.id) && tx.hasReceived(shared, from: bob.id))
            let sent = try tx.textMessages(with: alice.id, before: 2, limit: 1).messages[0]
            #expect(try !tx.hasReceived(sent.id, from: alice.id), "outgoing messages are not received ones")
        }
    }

    @Test func deletingAContactTakesItsMessagesFromEveryIndex() throws {
        let store = MemoryMessengerStore()
        var rng = SeededRandom(seed: "delete")
        let (alice, aliceSession) = Self.contact(1)
        let (bob, bobSession) = Self.contact(2)
        let kept = try store.write { tx throws in
            try tx.insertContact(alice, session: aliceSession)
            try tx.insertContact(bob, session: bobSession)
            for due in [1, 2, 3] as [Int64] { try Self.insert(tx, alice.id, dueMs: due, rng: &rng) }
            return try Self.insert(tx, bob.id, dueMs: 5, rng: &rng)
        }
        try store.write { tx throws in
            #expect(try tx.deleteContact(alice.id))
            #expect(try !tx.deleteContact(alice.id))
        }
        try store.read { tx throws in
            #expect(try tx.contacts().map(\.id) == [bob.id])
            #expect(try tx.dueOutbox(nowMs: .max, limit: 10) == [kept] && tx.outboxCount() == 1 && tx.nextOutboxDueMs() == 5)
            #expect(try tx.conversationSummaries().keys.sorted() == [bob.id])
            #expect(try tx.textMessages(with: alice.id, before: nil, limit: 10).messages.isEmpty)
            #expect(try tx.outboxEntry(cursor: 1) == nil)
        }
        #expect(store.snapshot.messageCount == 1)
        // Messages for a contact that is not there are refused.
        #expect(throws: MessengerError.self) { try store.write { tx in try Self.insert(tx, alice.id, rng: &rng) } }
    }

    @Test func duplicatesAndMissingRowsAreRefused() throws {
        let store = MemoryMessengerStore()
        var rng = SeededRandom(seed: "refused")
        let (alice, session) = Self.contact(1)
        let id = MessageID(using: &rng)
        try store.write { tx throws in
            try tx.insertContact(alice, session: session)
            try Self.insert(tx, alice.id, id: id, rng: &rng)
            try Self.insert(tx, alice.id, outgoing: false, id: id, rng: &rng) // the other direction is another message
        }
        #expect(throws: MessengerError.self) { try store.write { tx in try Self.insert(tx, alice.id, id: id, rng: &rng) } }
        #expect(throws: MessengerError.conflict("\(alice.id.hex) is already a contact")) {
            try store.write { tx in try tx.insertContact(alice, session: session) }
        }
        let (bob, bobSession) = Self.contact(2)
        #expect(throws: MessengerError.self) { try store.write { tx in try tx.updateContact(bob, session: bobSession) } }
        #expect(throws: MessengerError.self) { try store.write { tx in try tx.setRatchet(bobSession.ratchet, of: bob.id) } }
        #expect(throws: MessengerError.self) { try store.write { tx in try tx.recordAttempt(cursor: 99, attempts: 1, nextAttemptMs: 1) } }
        #expect(try store.write { tx in try tx.renameContact(bob.id, to: "x") } == false)
        #expect(try store.read { try $0.cardCreated(of: alice.id) } == 0)
    }

    @Test func aSnapshotIsAValue() throws {
        let store = MemoryMessengerStore()
        var rng = SeededRandom(seed: "snapshot")
        let (alice, session) = Self.contact(1)
        try store.write { tx throws in
            try tx.insertContact(alice, session: session)
            try Self.insert(tx, alice.id, rng: &rng)
        }
        let copy = MemoryMessengerStore(store.snapshot)
        _ = try store.write { tx in try Self.insert(tx, alice.id, rng: &rng) }
        try copy.write { tx in _ = try tx.deleteContact(alice.id) }
        #expect(try store.outboxCount() == 2 && store.read { try $0.contacts().count } == 1)
        #expect(try copy.outboxCount() == 0 && copy.read { try $0.contacts().isEmpty })
    }

    @Test func concurrentWritersAreSerialised() throws {
        let store = MemoryMessengerStore()
        let (alice, session) = Self.contact(1)
        try store.write { tx in try tx.insertContact(alice, session: session) }
        DispatchQueue.concurrentPerform(iterations: 8) { worker in
            var rng = SeededRandom(seed: "worker \(worker)")
            for i in 0..<100 {
                _ = try? store.write { tx in try Self.insert(tx, alice.id, dueMs: Int64(i), rng: &rng) }
            }
        }
        let due = try store.read { try $0.dueOutbox(nowMs: .max, limit: 1_000) }
        #expect(due.count == 800 && Set(due.map(\.cursor)) == Set(1...800))
    }

    /// Everything readable about `contacts`, as text: equal views mean equal observable states.
    static func view(_ store: any MessengerStore, contacts: [ID]) throws -> [String] {
        try store.read { tx throws in
            var lines = [
                "identity \(try tx.identity()?.id.hex ?? "-")",
                "ring \(try tx.prekeyRing().entries.map { "\($0.prekeys.signedPrekeyID)/\($0.retireAfter)" })",
                "mailboxes \(try tx.mailboxKeys().map(\.address))",
                "invite \(try tx.inviteURI() ?? "-")",
                "contacts \(try tx.contacts())",
                "outbox \(try tx.outboxCount()) \(try tx.nextOutboxDueMs() ?? -1) \(try tx.dueOutbox(nowMs: .max, limit: 10_000))",
                "summaries \(try tx.conversationSummaries().sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" })",
            ]
            for id in contacts {
                if let session = try tx.session(of: id) {
                    lines.append("session \(id) \(session.origin) \(session.generation) \(session.associatedData) "
                                 + "\(session.pendingSetup.map { "\($0)" } ?? "-") \(Hex.encode(session.ratchet.serialized().unsafeCopy()))")
                }
                lines.append("card \(id) \(try tx.cardCreated(of: id) ?? -1) removed \(String(describing: try tx.removedContact(id: id)))")
                lines.append("texts \(id) \(try tx.textMessages(with: id, before: nil, limit: 10_000))")
            }
            for cursor in 1...64 as ClosedRange<Int64> {
                if let entry = try tx.outboxEntry(cursor: cursor) { lines.append("entry \(cursor) \(entry)") }
            }
            return lines
        }
    }
}

extension MessengerStore {
    func outboxCount() throws -> Int { try read { try $0.outboxCount() } }
}
