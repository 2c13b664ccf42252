import SecIRCCore
import SecIRCCrypto

/// A transaction of a ``MemoryMessengerStore``: holds the store's state while the body runs and,
/// for writes, a log of how to undo each change.
final class MemoryMessengerTransaction: MessengerTransaction {
    typealias State = MemoryMessengerStore.State
    typealias StoredContact = MemoryMessengerStore.StoredContact
    typealias StoredMessage = MemoryMessengerStore.StoredMessage

    var state = State()
    private let writable: Bool
    private var isOpen = true
    var undo: [(inout State) -> Void] = []

    init(writable: Bool) { self.writable = writable }

    /// Plays the undo log backwards: the state is as it was when the transaction began.
    func rollBack() {
        for step in undo.reversed() { step(&state) }
        undo.removeAll()
    }

    func close() {
        isOpen = false
        undo.removeAll()
    }

    func readable() {
        precondition(isOpen, "a transaction used after its body returned")
    }

    func changing() {
        precondition(isOpen && writable, writable ? "a transaction used after its body returned" : "a change in a read transaction")
    }

    // MARK: Own keys

    func identity() throws -> ClientIdentity? {
        readable()
        return state.identity
    }

    func prekeyRing() throws -> PrekeyRing {
        readable()
        return state.prekeyRing
    }

    func mailboxKeys() throws -> [MailboxKey] {
        readable()
        return state.mailboxKeys
    }

    func inviteURI() throws -> String? {
        readable()
        return state.inviteURI
    }

    func setIdentity(_ identity: ClientIdentity) throws {
        changing()
        let old = state.identity
        undo.append { $0.identity = old }
        state.identity = identity
    }

    func setPrekeyRing(_ ring: PrekeyRing) throws {
        changing()
        let old = state.prekeyRing
        undo.append { $0.prekeyRing = old }
        state.prekeyRing = ring
    }

    func setMailboxKeys(_ keys: [MailboxKey]) throws {
        changing()
        let old = state.mailboxKeys
        undo.append { $0.mailboxKeys = old }
        state.mailboxKeys = keys
    }

    func setInviteURI(_ uri: String) throws {
        changing()
        let old = state.inviteURI
        undo.append { $0.inviteURI = old }
        state.inviteURI = uri
    }

    // MARK: Contacts

    func contact(id: ID) throws -> ContactRecord? {
        readable()
        return state.contacts[id]?.record
    }

    func contacts() throws -> [ContactRecord] {
        readable()
        return state.contacts.values.map(\.record).sorted { ($0.addedMs, $0.id) < ($1.addedMs, $1.id) }
    }

    func session(of id: ID) throws -> ContactSession? {
        readable()
        return state.contacts[id]?.session
    }

    func contactQueues() throws -> [ContactQueue] {
        readable()
        return state.contacts.values.sorted { ($0.record.addedMs, $0.record.id) < ($1.record.addedMs, $1.record.id) }
            .flatMap { state.queues[$0.record.id] ?? [] }
    }

    func cardCreated(of id: ID) throws -> Int64? {
        readable()
        return state.contacts[id]?.cardCreated
    }

    func countSelfStartedContacts(addedAfterMs: Int64) throws -> Int {
        readable()
        return state.contacts.values.count(where: {
            $0.session.origin.initiator == $0.record.id && $0.record.addedMs > addedAfterMs && $0.record.consent != .invited
        })
    }

    func removedContact(id: ID) throws -> SessionOrigin? {
        readable()
        return state.removed[id]
    }

    func isBlocked(_ id: ID) throws -> Bool {
        readable()
        return state.blocked[id] != nil
    }

    func incomingTotals(from contact: ID) throws -> (count: Int, bytes: Int) {
        readable()
        var count = 0
        var bytes = 0
        for cursor in state.cursorsByContact[contact] ?? [] {
            guard let record = state.messages[cursor]?.record, record.direction == .incoming else { continue }
            count += 1
            bytes += record.body.count
        }
        return (count, bytes)
    }

    func hasSeenSetup(_ hash: Bytes32) throws -> Bool {
        readable()
        return state.seenSetups[hash] != nil
    }

    func insertContact(_ contact: ContactRecord, session: ContactSession) throws {
        changing()
        guard state.contacts[contact.id] == nil else { throw MessengerError.conflict("\(contact.id.hex) is already a contact") }
        setContact(contact.id, StoredContact(record: contact, session: session, cardCreated: 0))
    }

    func updateContact(_ contact: ContactRecord, session: ContactSession) throws {
        try modifyContact(contact.id) {
            $0.record = contact
            $0.session = session
        }
    }

    func setRatchet(_ ratchet: DoubleRatchet, of id: ID) throws {
        try modifyContact(id) { $0.session.ratchet = ratchet }
    }

    func setEstablished(_ id: ID) throws {
        try modifyContact(id) {
            $0.record.session = .established
            $0.session.pendingSetup = nil
        }
    }

    func setMailboxes(_ mailboxes: [MailboxAddress], cardCreated: Int64, of id: ID) throws {
        try modifyContact(id) {
            $0.record.mailboxes = mailboxes
            $0.cardCreated = cardCreated
        }
    }

    func renameContact(_ id: ID, to name: String) throws -> Bool {
        changing()
        guard state.contacts[id] != nil else { return false }
        try modifyContact(id) { $0.record.name = name }
        return true
    }

    func deleteContact(_ id: ID) throws -> Bool {
        changing()
        guard state.contacts[id] != nil else { return false }
        var removed: [StoredMessage] = []
        for cursor in state.cursorsByContact[id] ?? [] {
            guard let message = state.messages.removeValue(forKey: cursor) else { continue }
            state.unindex(message)
            removed.append(message)
        }
        let queues = state.queues.removeValue(forKey: id)
        undo.append { state in
            for message in removed {
                state.messages[message.record.cursor] = message
                state.index(message)
            }
            state.queues[id] = queues
        }
        setContact(id, nil)
        return true
    }

    func setContactQueues(_ queues: [ContactQueue], of id: ID) throws {
        changing()
        guard state.contacts[id] != nil else { throw MessengerError.notFound("no contact \(id.hex)") }
        let old = state.queues[id]
        undo.append { $0.queues[id] = old }
        state.queues[id] = queues.isEmpty ? nil : queues
    }

    func setRemovedContact(_ id: ID, origin: SessionOrigin) throws {
        changing()
        let old = state.removed.updateValue(origin, forKey: id)
        undo.append { $0.removed[id] = old }
    }

    func clearRemovedContact(_ id: ID) throws {
        changing()
        guard let old = state.removed.removeValue(forKey: id) else { return }
        undo.append { $0.removed[id] = old }
    }

    func setBlocked(_ id: ID, atMs: Int64) throws {
        changing()
        guard state.blocked[id] == nil else { return }
        state.blocked[id] = atMs
        undo.append { $0.blocked[id] = nil }
    }

    func clearBlocked(_ id: ID) throws {
        changing()
        guard let old = state.blocked.removeValue(forKey: id) else { return }
        undo.append { $0.blocked[id] = old }
    }

    func recordSeenSetup(_ hash: Bytes32, atMs: Int64) throws {
        changing()
        guard state.seenSetups[hash] == nil else { return }
        state.seenSetups[hash] = atMs
        undo.append { $0.seenSetups[hash] = nil }
    }

    private func setContact(_ id: ID, _ contact: StoredContact?) {
        let old = state.contacts[id]
        undo.append { $0.contacts[id] = old }
        state.contacts[id] = contact
    }

    private func modifyContact(_ id: ID, _ change: (inout StoredContact) -> Void) throws {
        changing()
        guard let old = state.contacts[id] else { throw MessengerError.notFound("no contact \(id.hex)") }
        undo.append { $0.contacts[id] = old }
        change(&state.contacts[id]!)
    }

    // MARK: Messages

    func outboxEntry(cursor: Int64) throws -> OutboxEntry? {
        readable()
        return state.messages[cursor].map {
            OutboxEntry(attempts: $0.record.attempts, nextAttemptMs: $0.record.nextAttemptMs, payload: $0.payload)
        }
    }

    func hasReceived(_ id: MessageID, from contact: ID) throws -> Bool {
        readable()
        return state.cursorByKey[MemoryMessengerStore.MessageKey(contact: contact, direction: .incoming, id: id)] != nil
    }

    func dueOutbox(nowMs: Int64, limit: Int) throws -> [MessageRecord] {
        readable()
        return state.outbox.due(nowMs: nowMs, limit: limit).compactMap { state.messages[$0]?.record }
    }

    func nextOutboxDueMs() throws -> Int64? {
        readable()
        return state.outbox.first?.dueMs
    }

    func outboxCount() throws -> Int {
        readable()
        return state.outbox.count
    }

    func textMessages(with contact: ID, before: Int64?, limit: Int) throws -> MessagePage {
        readable()
        let cursors = state.textCursorsByContact[contact] ?? []
        let end = before.map { cursors.lowerBound(of: $0) } ?? cursors.count
        let start = max(end - max(limit, 0), 0)
        return MessagePage(messages: cursors[start..<end].compactMap { state.messages[$0]?.record }, more: start > 0)
    }

    func conversationSummaries() throws -> [ID: ConversationSummary] {
        readable()
        var result: [ID: ConversationSummary] = [:]
        for (contact, cursors) in state.textCursorsByContact {
            guard let last = cursors.last, let record = state.messages[last]?.record else { continue }
            result[contact] = ConversationSummary(last: record, count: cursors.count)
        }
        return result
    }

    func message(id: MessageID) throws -> MessageRecord? {
        readable()
        return state.cursorsByID[id]?.first.flatMap { state.messages[$0]?.record }
    }

    func insertMessage(id: MessageID, contact: ID, direction: MessageRecord.Direction, kind: EnvelopeKind, timestampMs: Int64,
                       body: [UInt8], state messageState: MessageRecord.State, nextAttemptMs: Int64?) throws -> MessageRecord {
        changing()
        guard state.contacts[contact] != nil else { throw MessengerError.notFound("no contact \(contact.hex)") }
        guard state.cursorByKey[MemoryMessengerStore.MessageKey(contact: contact, direction: direction, id: id)] == nil else {
            throw MessengerError.storage("message \(id.hex) is stored already")
        }
        let lastCursor = state.lastCursor
        let record = MessageRecord(cursor: lastCursor + 1, id: id, contact: contact, direction: direction, kind: kind,
                                   timestampMs: timestampMs, body: body, state: messageState, attempts: 0, nextAttemptMs: nextAttemptMs)
        let message = StoredMessage(record: record, payload: nil)
        state.lastCursor = record.cursor
        state.messages[record.cursor] = message
        state.index(message)
        undo.append { state in
            state.messages[record.cursor] = nil
            state.unindex(message)
            state.lastCursor = lastCursor
        }
        return record
    }

    func recordAttempt(cursor: Int64, attempts: Int, nextAttemptMs: Int64) throws {
        try modifyMessage(cursor) {
            $0.record.attempts = attempts
            $0.record.nextAttemptMs = nextAttemptMs
        }
    }

    func setPayload(_ payload: StoredPayload, cursor: Int64) throws {
        try modifyMessage(cursor) { $0.payload = payload }
    }

    func setState(_ messageState: MessageRecord.State, cursor: Int64) throws {
        try modifyMessage(cursor) { $0.record.state = messageState }
    }

    func markDelivered(_ id: MessageID, to contact: ID) throws -> Bool {
        changing()
        guard let cursor = state.cursorByKey[MemoryMessengerStore.MessageKey(contact: contact, direction: .outgoing, id: id)],
              let message = state.messages[cursor], message.record.state != .delivered
        else { return false }
        try modifyMessage(cursor) {
            $0.record.state = .delivered
            $0.record.nextAttemptMs = nil
            $0.payload = nil
        }
        return true
    }

    private func modifyMessage(_ cursor: Int64, _ change: (inout StoredMessage) -> Void) throws {
        changing()
        guard var message = state.messages[cursor] else { throw MessengerError.notFound("no message at cursor \(cursor)") }
        change(&message)
        let old = state.replace(message)
        undo.append { _ = $0.replace(old) }
    }
}
