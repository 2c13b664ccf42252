/// The link layer's timer and counter constants (specification values, as WireGuard's
/// `RekeyAfterTime` etc.). `LinkLimits.standard` uses them; tests may shrink them.
public enum LinkTimers {
    /// An initiator starts a new handshake once its session is this old.
    public static let rekeyAfterTime: Duration = .seconds(120)
    /// Neither side sends or accepts transport data under a session this old.
    public static let rejectAfterTime: Duration = .seconds(180)
    /// Either side asks for a new handshake after sending this many packets.
    public static let rekeyAfterMessages: UInt64 = 1 << 32
    /// No packet is sent or accepted with a counter at or above this.
    public static let rejectAfterMessages: UInt64 = (1 << 32) + (1 << 16)
    /// How often an initiator resends an unanswered initiation (the caller's timer).
    public static let rekeyTimeout: Duration = .seconds(5)
    /// A responder replaces its cookie secret this often.
    public static let cookieSecretLifetime: Duration = .seconds(120)
    /// An initiator uses a received cookie for this long.
    public static let cookieLifetime: Duration = .seconds(120)
}

/// Implementation limits of the link state machines. `standard` is what the network runs;
/// the timer values default to `LinkTimers`.
public struct LinkLimits: Sendable, Hashable {
    public var rekeyAfterTime: Duration = LinkTimers.rekeyAfterTime
    public var rejectAfterTime: Duration = LinkTimers.rejectAfterTime
    public var rekeyAfterMessages: UInt64 = LinkTimers.rekeyAfterMessages
    public var rejectAfterMessages: UInt64 = LinkTimers.rejectAfterMessages
    public var cookieSecretLifetime: Duration = LinkTimers.cookieSecretLifetime
    public var cookieLifetime: Duration = LinkTimers.cookieLifetime
    /// Initiator static keys whose greatest timestamp an IK responder remembers; past this the
    /// least recently updated entry is forgotten.
    public var timestampTableCapacity = 4096
    /// NK initiation ephemeral keys a responder remembers to refuse exact replays.
    public var recentEphemeralCapacity = 4096

    public init() {}

    /// What the network runs.
    public static let standard = LinkLimits()
}
