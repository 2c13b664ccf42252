/// `GET /v1/conversations/{id}/messages`: the newest messages below a cursor, oldest first.
public struct MessagePage: Codable, Sendable, Equatable {
    public var messages: [Message]
    /// The smallest cursor of the page when older messages exist (pass it as `before`), else
    /// nil, sent as `null`.
    public var nextBefore: Int64?

    public init(messages: [Message], nextBefore: Int64?) {
        self.messages = messages
        self.nextBefore = nextBefore
    }

    enum CodingKeys: String, CodingKey {
        case messages
        case nextBefore = "next_before"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(messages, forKey: .messages)
        try container.encode(nextBefore, forKey: .nextBefore) // null, not absent
    }
}
