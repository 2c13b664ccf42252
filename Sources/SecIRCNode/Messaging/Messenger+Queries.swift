public import SecIRCCore
public import SecIRCCrypto

extension Messenger {
    /// A page of a conversation's text messages: the newest `limit` with cursor below `before`
    /// (all when nil), oldest first, and whether older ones exist. None for a contact request
    /// (shown once accepted).
    public func messages(with contact: ID, before: Int64?, limit: Int) throws -> MessagePage {
        try store.read { tx in
            guard try tx.contact(id: contact)?.isRequest != true else { return MessagePage(messages: [], more: false) }
            return try tx.textMessages(with: contact, before: before, limit: limit)
        }
    }

    /// The last text message and the number of text messages of each conversation (contact
    /// requests have none until accepted).
    public func conversationSummaries() throws -> [ID: ConversationSummary] {
        try store.read { tx in
            let requests = Set(try tx.contacts().filter(\.isRequest).map(\.id))
            return try tx.conversationSummaries().filter { !requests.contains($0.key) }
        }
    }

    /// The message with this end-to-end ID; nil for a message of a contact request.
    public func message(id: MessageID) throws -> MessageRecord? {
        try store.read { tx in
            guard let record = try tx.message(id: id), try tx.contact(id: record.contact)?.isRequest != true else { return nil }
            return record
        }
    }

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
