public import SecIRCCore
public import SecIRCCrypto

extension Messenger {
    /// A page of a conversation's text messages: the newest `limit` with cursor below `before`
    /// (all when nil), oldest first, and whether older ones exist.
    public func messages(with contact: ID, before: Int64?, limit: Int) throws -> MessagePage {
        try store.read { try $0.textMessages(with: contact, before: before, limit: limit) }
    }

    /// The last text message and the number of text messages of each conversation.
    public func conversationSummaries() throws -> [ID: ConversationSummary] {
        try store.read { try $0.conversationSummaries() }
    }

    /// The message with this end-to-end ID.
    public func message(id: MessageID) throws -> MessageRecord? { try store.read { try $0.message(id: id) } }

    /// Outgoing messages not yet delivered.
    public func outboxCount() throws -> Int { try store.read { try $0.outboxCount() } }

    /// Outbox messages due for a send by `now`, by due time, at most `limit`.
    public func dueOutbox(now: UnixTime, limit: Int = 64) throws -> [MessageRecord] {
        try store.read { try $0.dueOutbox(nowMs: now.milliseconds, limit: limit) }
    }

    /// When the next outbox send is due, if any.
    public func nextOutboxDue() throws -> UnixTime? {
        try store.read { try $0.nextOutboxDueMs() }.map { UnixTime(milliseconds: $0) }
    }
}
