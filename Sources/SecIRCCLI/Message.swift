/// A message as the daemon's API returns it (`Message` in openapi/client.yaml).
public struct Message: Codable, Sendable, Equatable {
    /// 32 lowercase hex digits.
    public var id: String
    /// The contact's id.
    public var contact: String
    /// "out" or "in".
    public var direction: String
    public var kind: String?
    public var text: String?
    /// The sender's clock, unix milliseconds.
    public var timestampMilliseconds: Int64?
    /// "queued", "sent", "delivered" (out) or "received" (in).
    public var state: String?
    public var attempts: Int?
    public var cursor: Int64?

    public init(id: String, contact: String, direction: String, kind: String? = "text", text: String?,
                timestampMilliseconds: Int64? = nil, state: String? = nil, attempts: Int? = nil, cursor: Int64? = nil) {
        self.id = id
        self.contact = contact
        self.direction = direction
        self.kind = kind
        self.text = text
        self.timestampMilliseconds = timestampMilliseconds
        self.state = state
        self.attempts = attempts
        self.cursor = cursor
    }

    enum CodingKeys: String, CodingKey {
        case id, contact, direction, kind, text, state, attempts, cursor
        case timestampMilliseconds = "timestamp_ms"
    }
}

/// `GET /v1/conversations/{id}/messages`.
struct MessagePage: Decodable {
    var messages: [Message]
    var nextBefore: Int64?

    enum CodingKeys: String, CodingKey {
        case messages
        case nextBefore = "next_before"
    }
}

/// The `receipt` event of `/v1/events`.
struct Receipt: Decodable {
    var id: String
    var contact: String
    var state: String
}
