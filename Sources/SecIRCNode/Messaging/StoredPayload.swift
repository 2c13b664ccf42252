/// An outgoing message's encoded session message, encrypted once per session and sent again as
/// it is on every retry (so retries use up no ratchet message numbers).
public struct StoredPayload: Sendable, Equatable {
    /// The encoded session message.
    public var bytes: [UInt8]
    /// The ``ContactSession/generation`` it was encrypted under.
    public var generation: Int64

    public init(bytes: [UInt8], generation: Int64) {
        self.bytes = bytes
        self.generation = generation
    }
}
