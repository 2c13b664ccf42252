import SecIRCCore
import SecIRCCrypto

extension MemoryMessengerStore {
    /// Everything a ``MemoryMessengerStore`` holds, with its indices. A value: copies are cheap
    /// until one of them changes.
    public struct State: Sendable {
        var identity: ClientIdentity?
        var prekeyRing = PrekeyRing()
        var mailboxKeys: [MailboxKey] = []
        var inviteURI: String?
        var contacts: [ID: StoredContact] = [:]
        var removed: [ID: SessionOrigin] = [:]
        /// Rejected requests: when they were blocked.
        var blocked: [ID: Int64] = [:]
        var queues: [ID: [ContactQueue]] = [:]
        var seenSetups: [Bytes32: Int64] = [:]
        var messages: [Int64: StoredMessage] = [:]
        /// The last cursor given; cursors are never reused.
        var lastCursor: Int64 = 0
        // Indices of `messages`, kept by `index` and `unindex`.
        var cursorByKey: [MessageKey: Int64] = [:]
        var cursorsByID: [MessageID: [Int64]] = [:]
        var cursorsByContact: [ID: [Int64]] = [:]
        var textCursorsByContact: [ID: [Int64]] = [:]
        var outbox = OutboxQueue()
        var groups: [ID: GroupRecord] = [:]
        var groupStates: [ID: [[UInt8]: [UInt8]]] = [:]
        var groupInvitations: [ID: GroupInvitationRecord] = [:]
        /// Each group's posts in display order.
        var groupMessages: [ID: [GroupMessageRecord]] = [:]
        var groupMessageGroup: [Int64: ID] = [:]
        var groupDeposits: [Int64: GroupDepositRecord] = [:]

        /// An empty store's state.
        public init() {}

        /// Messages stored (for tests and the simulator's statistics).
        public var messageCount: Int { messages.count }

        mutating func index(_ message: StoredMessage) {
            let record = message.record
            cursorByKey[MessageKey(record)] = record.cursor
            cursorsByID[record.id, default: []].insertSorted(record.cursor)
            cursorsByContact[record.contact, default: []].insertSorted(record.cursor)
            if record.kind == .text { textCursorsByContact[record.contact, default: []].insertSorted(record.cursor) }
            if let due = record.nextAttemptMs { outbox.insert(OutboxQueue.Key(dueMs: due, cursor: record.cursor)) }
        }

        mutating func unindex(_ message: StoredMessage) {
            let record = message.record
            cursorByKey[MessageKey(record)] = nil
            cursorsByID.removeSorted(record.cursor, at: record.id)
            cursorsByContact.removeSorted(record.cursor, at: record.contact)
            if record.kind == .text { textCursorsByContact.removeSorted(record.cursor, at: record.contact) }
            if let due = record.nextAttemptMs { outbox.remove(OutboxQueue.Key(dueMs: due, cursor: record.cursor)) }
        }

        /// Replaces the message at `message.record.cursor` (whose key fields do not change),
        /// keeping the outbox in step, and returns the old one.
        mutating func replace(_ message: StoredMessage) -> StoredMessage {
            let cursor = message.record.cursor
            guard let old = messages.updateValue(message, forKey: cursor) else { preconditionFailure("no message \(cursor)") }
            if old.record.nextAttemptMs != message.record.nextAttemptMs {
                if let due = old.record.nextAttemptMs { outbox.remove(OutboxQueue.Key(dueMs: due, cursor: cursor)) }
                if let due = message.record.nextAttemptMs { outbox.insert(OutboxQueue.Key(dueMs: due, cursor: cursor)) }
            }
            return old
        }
    }

    struct StoredContact: Sendable {
        var record: ContactRecord
        var session: ContactSession
        var cardCreated: Int64
    }

    struct StoredMessage: Sendable {
        var record: MessageRecord
        var payload: StoredPayload?
    }

    /// What makes a message unique: one ID per contact and direction.
    struct MessageKey: Hashable, Sendable {
        var contact: ID
        var direction: MessageRecord.Direction
        var id: MessageID

        init(contact: ID, direction: MessageRecord.Direction, id: MessageID) {
            self.contact = contact
            self.direction = direction
            self.id = id
        }

        init(_ record: MessageRecord) { self.init(contact: record.contact, direction: record.direction, id: record.id) }
    }
}
