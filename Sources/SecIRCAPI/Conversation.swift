/// One conversation of `GET /v1/conversations`: a contact, its newest message and how many
/// messages there are.
public struct Conversation: Codable, Sendable, Equatable {
    public var contact: Contact
    /// The newest message; nil, sent as `null`, when there is none.
    public var last: Message?
    public var count: Int

    public init(contact: Contact, last: Message?, count: Int) {
        self.contact = contact
        self.last = last
        self.count = count
    }

    enum CodingKeys: String, CodingKey {
        case contact, last, count
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(contact, forKey: .contact)
        try container.encode(last, forKey: .last) // null, not absent
        try container.encode(count, forKey: .count)
    }
}
