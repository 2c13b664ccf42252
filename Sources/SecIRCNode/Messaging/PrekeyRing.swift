public import SecIRCCore
public import SecIRCCrypto

/// The prekeys behind this client's invites. Each new invite gets a new pair (a signed X25519
/// prekey and an ML-KEM-768 prekey, with one ID); a pair is kept until a day after its invite
/// expires and then deleted, so a session set-up made from an expired invite is refused here
/// too, not only by the person who was given the invite.
///
/// A *one-time* invite (given to one person) has a pair of its own, flagged, which answers one
/// session set-up and is then removed: a set-up for it comes from someone the user invited, so it
/// is no contact request and does not count against the hourly limit for strangers.
///
/// A value: the messenger reads it from its store, changes it and writes it back in one transaction.
public struct PrekeyRing: Sendable {
    /// One pair and when it retires.
    public struct Entry: Sendable {
        public var prekeys: SessionSetup.Prekeys
        /// Unix seconds from which set-ups for these prekeys are refused.
        public var retireAfter: Int64
        /// The pair of a one-time invite: removed once it answered a set-up.
        public var oneTime: Bool

        public init(prekeys: SessionSetup.Prekeys, retireAfter: Int64, oneTime: Bool = false) {
            self.prekeys = prekeys
            self.retireAfter = retireAfter
            self.oneTime = oneTime
        }
    }

    /// How long a pair stays in service after its invite expired (clocks differ; a set-up may be in flight).
    public static let grace: Int64 = 86_400
    /// Pairs of the long-lived invite kept at most; the oldest go first.
    public static let maximumEntries = 16
    /// Pairs of one-time invites kept at most (unanswered one-time invites beyond it stop
    /// working, the oldest first).
    public static let maximumOneTimeEntries = 64
    /// Oldest first.
    public private(set) var entries: [Entry]

    public init(entries: [Entry] = []) { self.entries = entries }

    /// The entry for a set-up's prekey IDs, if it is still in service at `now` (strictly before `retireAfter`).
    public func entry(signedPrekeyID: UInt32, pqPrekeyID: UInt32, now: UnixTime) -> Entry? {
        entries.first {
            $0.prekeys.signedPrekeyID == signedPrekeyID && $0.prekeys.pqPrekeyID == pqPrekeyID && $0.retireAfter > now.seconds
        }
    }

    /// The ID the next pair gets: one more than the highest held (wrapping).
    public var nextID: UInt32 { (entries.map(\.prekeys.signedPrekeyID).max() ?? 0) &+ 1 }

    /// Adds `prekeys` for an invite expiring at `expiry` (Unix seconds): drops the pairs retired
    /// at `now`, then the oldest of its kind beyond ``maximumEntries`` (``maximumOneTimeEntries``).
    public mutating func add(_ prekeys: SessionSetup.Prekeys, expiry: Int64, now: UnixTime, oneTime: Bool = false) {
        entries.removeAll { $0.retireAfter <= now.seconds }
        let (retireAfter, overflow) = expiry.addingReportingOverflow(Self.grace)
        entries.append(Entry(prekeys: prekeys, retireAfter: overflow ? .max : retireAfter, oneTime: oneTime))
        let limit = oneTime ? Self.maximumOneTimeEntries : Self.maximumEntries
        var excess = entries.count(where: { $0.oneTime == oneTime }) - limit
        guard excess > 0 else { return }
        var kept: [Entry] = []
        for entry in entries {
            if excess > 0, entry.oneTime == oneTime { excess -= 1 } else { kept.append(entry) }
        }
        entries = kept
    }

    /// Makes a fresh pair (with ``nextID``) for an invite expiring at `expiry` and adds it.
    public mutating func rotate(expiry: Int64, now: UnixTime, oneTime: Bool = false, rng: inout some RandomSource) -> SessionSetup.Prekeys {
        let id = nextID
        let prekeys = SessionSetup.Prekeys(signedPrekeyID: id, pqPrekeyID: id, using: &rng)
        add(prekeys, expiry: expiry, now: now, oneTime: oneTime)
        return prekeys
    }

    /// Removes the one-time pair with these IDs (it answered its set-up); nothing for a pair of
    /// the long-lived invite.
    public mutating func consume(signedPrekeyID: UInt32, pqPrekeyID: UInt32) {
        entries.removeAll { $0.oneTime && $0.prekeys.signedPrekeyID == signedPrekeyID && $0.prekeys.pqPrekeyID == pqPrekeyID }
    }
}
