public import SecIRCCore

/// A contact's end-to-end session as stored: secret (a store seals what it writes anywhere).
public struct ContactSession: Sendable {
    /// The Double Ratchet, as of the last message sent or received.
    public var ratchet: DoubleRatchet
    /// The associated data of every ratchet message of the session.
    public var associatedData: [UInt8]
    /// The set-up our messages carry until the contact answers (we started the session); nil
    /// once the session is established or when the contact started it.
    public var pendingSetup: SessionMessage.Setup?
    /// Which session this is, to choose between two (``SessionOrigin/supersedes(_:)``).
    public var origin: SessionOrigin
    /// 1 for a contact's first session, one more for each that replaced it: an outbox message
    /// encrypted under an older generation is encrypted again.
    public var generation: Int64

    public init(ratchet: DoubleRatchet, associatedData: [UInt8], pendingSetup: SessionMessage.Setup?, origin: SessionOrigin,
                generation: Int64) {
        self.ratchet = ratchet
        self.associatedData = associatedData
        self.pendingSetup = pendingSetup
        self.origin = origin
        self.generation = generation
    }
}
