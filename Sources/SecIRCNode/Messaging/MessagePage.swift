/// A page of a conversation's text messages, oldest first.
public struct MessagePage: Sendable, Equatable {
    public var messages: [MessageRecord]
    /// Whether older messages exist than the first of this page.
    public var more: Bool

    public init(messages: [MessageRecord], more: Bool) {
        self.messages = messages
        self.more = more
    }
}
