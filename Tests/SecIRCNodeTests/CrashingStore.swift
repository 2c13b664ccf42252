import SecIRCCore
import SecIRCCrypto
import SecIRCLock
import SecIRCNode
import Synchronization

/// A store that "crashes" at the k-th store operation once armed: that operation and every later
/// one throws, and the transaction it happened in never commits, even when the body swallows
/// the error (the process died). What was committed before stays.
final class CrashingStore: MessengerStore {
    struct Crash: Error {}

    let inner: MemoryMessengerStore
    private let countdown = Locked<Int?>(nil)
    private let crashed = Atomic<Bool>(false)

    init(_ inner: MemoryMessengerStore) { self.inner = inner }

    /// Crash at the `k`-th operation from now (1 is the next).
    func arm(crashAt k: Int) { countdown.withLock { $0 = k } }

    var hasCrashed: Bool { crashed.load(ordering: .relaxed) }

    /// Counts one operation; throws from the crash on.
    func tick() throws {
        if hasCrashed { throw Crash() }
        let crash = countdown.withLock { count -> Bool in
            guard let current = count else { return false }
            count = current - 1
            return current <= 1
        }
        if crash {
            crashed.store(true, ordering: .relaxed)
            throw Crash()
        }
    }

    /// How many outbox attempts each committed transaction that recorded any recorded, in order.
    var attemptsPerCommit: [Int] { commits.withLock { $0 } }
    private let commits = Locked<[Int]>([])

    /// The outbox message whose attempt cannot be recorded (a row the store fails on), if any:
    /// the operation throws, the rest of the store works.
    var refusedCursor: Int64? {
        get { refused.withLock { $0 } }
        set { refused.withLock { $0 = newValue } }
    }
    private let refused = Locked<Int64?>(nil)

    func write<T>(_ body: (any MessengerTransaction) throws -> T) throws -> T {
        try tick()
        return try inner.write { tx in
            let crashing = CrashingTransaction(tx, store: self)
            let result = try body(crashing)
            if hasCrashed { throw Crash() }
            if crashing.attemptsRecorded > 0 { commits.withLock { $0.append(crashing.attemptsRecorded) } }
            return result
        }
    }

    func read<T>(_ body: (any MessengerReadTransaction) throws -> T) throws -> T {
        try tick()
        return try inner.read { tx in try body(CrashingReadTransaction(tx, store: self)) }
    }
}

class CrashingReadTransaction: MessengerReadTransaction {
    private let reader: any MessengerReadTransaction
    let store: CrashingStore

    init(_ reader: any MessengerReadTransaction, store: CrashingStore) {
        self.reader = reader
        self.store = store
    }

    func identity() throws -> ClientIdentity? { try store.tick(); return try reader.identity() }
    func prekeyRing() throws -> PrekeyRing { try store.tick(); return try reader.prekeyRing() }
    func mailboxKeys() throws -> [MailboxKey] { try store.tick(); return try reader.mailboxKeys() }
    func inviteURI() throws -> String? { try store.tick(); return try reader.inviteURI() }
    func contact(id: ID) throws -> ContactRecord? { try store.tick(); return try reader.contact(id: id) }
    func contacts() throws -> [ContactRecord] { try store.tick(); return try reader.contacts() }
    func session(of id: ID) throws -> ContactSession? { try store.tick(); return try reader.session(of: id) }
    func cardCreated(of id: ID) throws -> Int64? { try store.tick(); return try reader.cardCreated(of: id) }
    func countSelfStartedContacts(addedAfterMs: Int64) throws -> Int {
        try store.tick()
        return try reader.countSelfStartedContacts(addedAfterMs: addedAfterMs)
    }
    func removedContact(id: ID) throws -> SessionOrigin? { try store.tick(); return try reader.removedContact(id: id) }
    func hasSeenSetup(_ hash: Bytes32) throws -> Bool { try store.tick(); return try reader.hasSeenSetup(hash) }
    func isBlocked(_ id: ID) throws -> Bool { try store.tick(); return try reader.isBlocked(id) }
    func incomingTotals(from contact: ID) throws -> (count: Int, bytes: Int) { try store.tick(); return try reader.incomingTotals(from: contact) }
    func contactQueues() throws -> [ContactQueue] { try store.tick(); return try reader.contactQueues() }
    func outboxEntry(cursor: Int64) throws -> OutboxEntry? { try store.tick(); return try reader.outboxEntry(cursor: cursor) }
    func hasReceived(_ id: MessageID, from contact: ID) throws -> Bool { try store.tick(); return try reader.hasReceived(id, from: contact) }
    func dueOutbox(nowMs: Int64, limit: Int) throws -> [MessageRecord] {
        try store.tick()
        return try reader.dueOutbox(nowMs: nowMs, limit: limit)
    }
    func nextOutboxDueMs() throws -> Int64? { try store.tick(); return try reader.nextOutboxDueMs() }
    func outboxCount() throws -> Int { try store.tick(); return try reader.outboxCount() }
    func textMessages(with contact: ID, before: Int64?, limit: Int) throws -> MessagePage {
        try store.tick()
        return try reader.textMessages(with: contact, before: before, limit: limit)
    }
    func conversationSummaries() throws -> [ID: ConversationSummary] { try store.tick(); return try reader.conversationSummaries() }
    func message(id: MessageID) throws -> MessageRecord? { try store.tick(); return try reader.message(id: id) }
    func groups() throws -> [GroupRecord] { try store.tick(); return try reader.groups() }
    func group(id: ID) throws -> GroupRecord? { try store.tick(); return try reader.group(id: id) }
    func groupState(_ group: ID) throws -> [[UInt8]: [UInt8]] { try store.tick(); return try reader.groupState(group) }
    func groupInvitations() throws -> [GroupInvitationRecord] { try store.tick(); return try reader.groupInvitations() }
    func groupMessages(in group: ID, before: Int64?, limit: Int) throws -> GroupMessagePage {
        try store.tick()
        return try reader.groupMessages(in: group, before: before, limit: limit)
    }
    func groupMessage(cursor: Int64) throws -> GroupMessageRecord? { try store.tick(); return try reader.groupMessage(cursor: cursor) }
    func groupDeposits() throws -> [GroupDepositRecord] { try store.tick(); return try reader.groupDeposits() }
    func groupDeposits(withBody body: [UInt8]) throws -> [GroupDepositRecord] {
        try store.tick()
        return try reader.groupDeposits(withBody: body)
    }
    func groupDeposits(dueByMs ms: Int64, limit: Int) throws -> [GroupDepositRecord] {
        try store.tick()
        return try reader.groupDeposits(dueByMs: ms, limit: limit)
    }
    func groupDepositKeys() throws -> [GroupDepositKey] { try store.tick(); return try reader.groupDepositKeys() }
}

final class CrashingTransaction: CrashingReadTransaction, MessengerTransaction {
    private let tx: any MessengerTransaction
    private(set) var attemptsRecorded = 0

    init(_ tx: any MessengerTransaction, store: CrashingStore) {
        self.tx = tx
        super.init(tx, store: store)
    }

    func setIdentity(_ identity: ClientIdentity) throws { try store.tick(); try tx.setIdentity(identity) }
    func setPrekeyRing(_ ring: PrekeyRing) throws { try store.tick(); try tx.setPrekeyRing(ring) }
    func setMailboxKeys(_ keys: [MailboxKey]) throws { try store.tick(); try tx.setMailboxKeys(keys) }
    func setInviteURI(_ uri: String) throws { try store.tick(); try tx.setInviteURI(uri) }
    func insertContact(_ contact: ContactRecord, session: ContactSession) throws {
        try store.tick()
        try tx.insertContact(contact, session: session)
    }
    func updateContact(_ contact: ContactRecord, session: ContactSession) throws {
        try store.tick()
        try tx.updateContact(contact, session: session)
    }
    func setRatchet(_ ratchet: DoubleRatchet, of id: ID) throws { try store.tick(); try tx.setRatchet(ratchet, of: id) }
    func setEstablished(_ id: ID) throws { try store.tick(); try tx.setEstablished(id) }
    func setMailboxes(_ mailboxes: [MailboxAddress], cardCreated: Int64, of id: ID) throws {
        try store.tick()
        try tx.setMailboxes(mailboxes, cardCreated: cardCreated, of: id)
    }
    func renameContact(_ id: ID, to name: String) throws -> Bool { try store.tick(); return try tx.renameContact(id, to: name) }
    func deleteContact(_ id: ID) throws -> Bool { try store.tick(); return try tx.deleteContact(id) }
    func setRemovedContact(_ id: ID, origin: SessionOrigin) throws { try store.tick(); try tx.setRemovedContact(id, origin: origin) }
    func clearRemovedContact(_ id: ID) throws { try store.tick(); try tx.clearRemovedContact(id) }
    func recordSeenSetup(_ hash: Bytes32, atMs: Int64) throws { try store.tick(); try tx.recordSeenSetup(hash, atMs: atMs) }
    func setBlocked(_ id: ID, atMs: Int64) throws { try store.tick(); try tx.setBlocked(id, atMs: atMs) }
    func clearBlocked(_ id: ID) throws { try store.tick(); try tx.clearBlocked(id) }
    func setContactQueues(_ queues: [ContactQueue], of id: ID) throws { try store.tick(); try tx.setContactQueues(queues, of: id) }
    func insertMessage(id: MessageID, contact: ID, direction: MessageRecord.Direction, kind: EnvelopeKind, timestampMs: Int64,
                       body: [UInt8], state: MessageRecord.State, nextAttemptMs: Int64?) throws -> MessageRecord {
        try store.tick()
        return try tx.insertMessage(id: id, contact: contact, direction: direction, kind: kind, timestampMs: timestampMs, body: body,
                                    state: state, nextAttemptMs: nextAttemptMs)
    }
    func recordAttempt(cursor: Int64, attempts: Int, nextAttemptMs: Int64) throws {
        try store.tick()
        if store.refusedCursor == cursor { throw MessengerError.storage("cannot write the message at cursor \(cursor)") }
        try tx.recordAttempt(cursor: cursor, attempts: attempts, nextAttemptMs: nextAttemptMs)
        attemptsRecorded += 1
    }
    func setPayload(_ payload: StoredPayload, cursor: Int64) throws { try store.tick(); try tx.setPayload(payload, cursor: cursor) }
    func setState(_ state: MessageRecord.State, cursor: Int64) throws { try store.tick(); try tx.setState(state, cursor: cursor) }
    func markDelivered(_ id: MessageID, to contact: ID) throws -> Bool { try store.tick(); return try tx.markDelivered(id, to: contact) }
    func setGroup(_ record: GroupRecord) throws { try store.tick(); try tx.setGroup(record) }
    func changeGroupState(_ group: ID, _ change: GroupSession.StateChange) throws { try store.tick(); try tx.changeGroupState(group, change) }
    func deleteGroup(_ id: ID) throws -> Bool { try store.tick(); return try tx.deleteGroup(id) }
    func setGroupInvitation(_ record: GroupInvitationRecord) throws { try store.tick(); try tx.setGroupInvitation(record) }
    func deleteGroupInvitation(_ group: ID) throws -> Bool { try store.tick(); return try tx.deleteGroupInvitation(group) }
    func insertGroupMessage(group: ID, id: MessageID, lamport: UInt64, senderKey: SigningPublicKey, sequence: UInt64,
                            kind: EnvelopeKind, timestampMs: Int64, body: [UInt8], outgoing: Bool) throws -> GroupMessageRecord {
        try store.tick()
        return try tx.insertGroupMessage(group: group, id: id, lamport: lamport, senderKey: senderKey, sequence: sequence, kind: kind,
                                         timestampMs: timestampMs, body: body, outgoing: outgoing)
    }
    func insertGroupDeposit(group: ID, mailbox: Bytes32, body: [UInt8], nextAttemptMs: Int64) throws -> Int64 {
        try store.tick()
        return try tx.insertGroupDeposit(group: group, mailbox: mailbox, body: body, nextAttemptMs: nextAttemptMs)
    }
    func updateGroupDeposit(_ record: GroupDepositRecord) throws { try store.tick(); try tx.updateGroupDeposit(record) }
    func deleteGroupDeposit(cursor: Int64) throws { try store.tick(); try tx.deleteGroupDeposit(cursor: cursor) }
}

/// A store whose disk can be made full: while `isFull`, every write throws
/// `insufficientStorage` (and commits nothing); reads work.
final class FillableStore: MessengerStore {
    let inner = MemoryMessengerStore()
    private let full = Atomic<Bool>(false)

    var isFull: Bool {
        get { full.load(ordering: .relaxed) }
        set { full.store(newValue, ordering: .relaxed) }
    }

    func write<T>(_ body: (any MessengerTransaction) throws -> T) throws -> T {
        if isFull { throw MessengerError.insufficientStorage("the disk is full") }
        return try inner.write(body)
    }

    func read<T>(_ body: (any MessengerReadTransaction) throws -> T) throws -> T { try inner.read(body) }
}
