/// `GET /v1/conversations`: one conversation per contact.
public struct ConversationList: Codable, Sendable, Equatable {
    public var conversations: [Conversation]

    public init(conversations: [Conversation]) {
        self.conversations = conversations
    }
}
