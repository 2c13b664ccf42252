/// A conversation at a glance: its last text message and how many text messages it has.
public struct ConversationSummary: Sendable, Equatable {
    public var last: MessageRecord
    public var count: Int

    public init(last: MessageRecord, count: Int) {
        self.last = last
        self.count = count
    }
}
