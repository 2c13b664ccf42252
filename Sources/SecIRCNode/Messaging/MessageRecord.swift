public import SecIRCCore
public import SecIRCCrypto

/// One message of a conversation, in either direction.
public struct MessageRecord: Sendable, Equatable {
    public enum Direction: String, Sendable { case incoming = "in", outgoing = "out" }
    /// `queued` → `sent` → `delivered` for outgoing messages; `received` for incoming ones.
    public enum State: String, Sendable { case queued, sent, delivered, received }

    /// Local, increasing (assigned by the store): the paging key.
    public var cursor: Int64
    /// The end-to-end message ID (the same at both ends).
    public var id: MessageID
    public var contact: ID
    public var direction: Direction
    public var kind: EnvelopeKind
    /// The sender's timestamp (Unix milliseconds).
    public var timestampMs: Int64
    public var body: [UInt8]
    public var state: State
    /// Send attempts so far (outgoing).
    public var attempts: Int
    /// When the next send is due (outgoing, not yet delivered); nil otherwise.
    public var nextAttemptMs: Int64?

    public init(cursor: Int64, id: MessageID, contact: ID, direction: Direction, kind: EnvelopeKind, timestampMs: Int64,
                body: [UInt8], state: State, attempts: Int, nextAttemptMs: Int64?) {
        self.cursor = cursor
        self.id = id
        self.contact = contact
        self.direction = direction
        self.kind = kind
        self.timestampMs = timestampMs
        self.body = body
        self.state = state
        self.attempts = attempts
        self.nextAttemptMs = nextAttemptMs
    }

    /// The body as UTF-8 text (invalid sequences replaced).
    public var text: String { String(decoding: body, as: UTF8.self) }
}
