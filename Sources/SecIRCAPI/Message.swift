/// A message (`Message` in openapi/client.yaml): `GET /v1/messages/{id}`, the answer to sending
/// one, the items of a ``MessagePage``, and the data of a `message` event.
public struct Message: Codable, Sendable, Equatable {
    /// 16 random bytes, 32 lowercase hex digits.
    public var id: String
    /// The contact's id.
    public var contact: String
    /// "out" or "in".
    public var direction: String
    /// "text".
    public var kind: String
    public var text: String
    /// The sender's clock, from the envelope, unix milliseconds.
    public var timestampMilliseconds: Int64
    /// "queued", "sent", "delivered" (an end-to-end receipt arrived) for outgoing messages;
    /// "received" for incoming ones.
    public var state: String
    /// Outgoing: how many times it was sent. Incoming: 0.
    public var attempts: Int
    /// Local and increasing: the position for paging (`before`).
    public var cursor: Int64

    public init(id: String, contact: String, direction: String, kind: String = "text", text: String,
                timestampMilliseconds: Int64, state: String, attempts: Int = 0, cursor: Int64 = 0) {
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
