/// The sending state of an outgoing message.
public struct OutboxEntry: Sendable, Equatable {
    /// Attempts made so far.
    public var attempts: Int
    /// When the next attempt is due (Unix milliseconds); nil once delivered.
    public var nextAttemptMs: Int64?
    /// The session message of the earlier attempts, if one was made.
    public var payload: StoredPayload?

    public init(attempts: Int, nextAttemptMs: Int64?, payload: StoredPayload?) {
        self.attempts = attempts
        self.nextAttemptMs = nextAttemptMs
        self.payload = payload
    }
}
