public import SecIRCCrypto

/// Which session between two people this is: when its contact card was made and who started it.
///
/// Of two sessions between the same people (both added each other at once, or one reinstalled),
/// both sides keep the same one: the newer contact card, and for cards of the same second the
/// one whose initiator has the lower ID. Both sides compare the same two (created, initiator)
/// pairs, so they agree whatever their clocks say.
public struct SessionOrigin: Hashable, Sendable {
    /// The `created` of the initiator's contact card (Unix seconds).
    public var created: Int64
    /// The ID of the side that sent the set-up.
    public var initiator: ID

    public init(created: Int64, initiator: ID) {
        self.created = created
        self.initiator = initiator
    }

    /// Whether a session of this origin replaces one of `other`'s: a newer card, or a card of the
    /// same second from a lower initiator ID. Never true for equal origins (a session does not
    /// replace itself), and never true both ways.
    public func supersedes(_ other: SessionOrigin) -> Bool {
        created > other.created || (created == other.created && initiator < other.initiator)
    }
}
