public import SecIRCCore

/// What a `LinkManager` counted: completed handshakes and every datagram or frame it dropped,
/// by reason. Totals only: nothing per peer or per address.
public struct LinkCounters: Sendable, Equatable {
    /// Handshakes completed, as responder or initiator.
    public var handshakes = 0
    /// Datagrams the link state machines refused, by reason.
    public var dropped: [LinkDropReason: Int] = [:]
    /// Frames for a relay that is not a known peer.
    public var noRoute = 0
    /// Frames refused because a peer's or the total handshake queue was full.
    public var queueFull = 0
    /// Frames dropped because their handshake never completed.
    public var handshakeTimeouts = 0
    /// Handshakes refused because the session table is full.
    public var sessionLimit = 0
    /// Initiations refused while the manager does not accept new sessions (draining).
    public var refusedWhileClosed = 0
    /// Initiations refused by a source's handshake budget, before any key agreement.
    public var admissionRefusals: [HandshakeRefusal: Int] = [:]
    /// Answered handshakes never confirmed within `unconfirmedLifetime`.
    public var unconfirmedExpired = 0

    public init() {}

    mutating func count(_ reason: LinkDropReason) { dropped[reason, default: 0] += 1 }
}
