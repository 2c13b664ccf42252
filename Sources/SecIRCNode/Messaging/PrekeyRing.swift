public import SecIRCCore
public import SecIRCCrypto

/// The prekeys behind this client's invites. Each new invite gets a new pair (a signed X25519
/// prekey and an ML-KEM-768 prekey, with one ID); a pair is kept until a day after its invite
/// expires and then deleted, so a session set-up made from an expired invite is refused here
/// too, not only by the person who was given the invite.
///
/// A value: the messenger reads it from its store, changes it and writes it back in one transaction.
public struct PrekeyRing: Sendable {
    /// One pair and when it retires.
    public struct Entry: Sendable {
        public var prekeys: SessionSetup.Prekeys
        /// Unix seconds from which set-ups for these prekeys are refused.
        public var retireAfter: Int64

        public init(prekeys: SessionSetup.Prekeys, retireAfter: Int64) {
            self.prekeys = prekeys
            self.retireAfter = retireAfter
        }
    }

    /// How long a pair stays in service after its invite expired (clocks differ; a set-up may be in flight).
    public static let grace: Int64 = 86_400
    /// Pairs kept at most; the oldest go first.
    public static let maximumEntries = 16
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
    /// at `now`, then the oldest beyond ``maximumEntries``.
    public mutating func add(_ prekeys: SessionSetup.Prekeys, expiry: Int64, now: UnixTime) {
        entries.removeAll { $0.retireAfter <= now.seconds }
        let (retireAfter, overflow) = expiry.addingReportingOverflow(Self.grace)
        entries.append(Entry(prekeys: prekeys, retireAfter: overflow ? .max : retireAfter))
        if entries.count > Self.maximumEntries { entries.removeFirst(entries.count - Self.maximumEntries) }
    }

    /// Makes a fresh pair (with ``nextID``) for an invite expiring at `expiry` and adds it.
    public mutating func rotate(expiry: Int64, now: UnixTime, rng: inout some RandomSource) -> SessionSetup.Prekeys {
        let id = nextID
        let prekeys = SessionSetup.Prekeys(signedPrekeyID: id, pqPrekeyID: id, using: &rng)
        add(prekeys, expiry: expiry, now: now)
        return prekeys
    }
}
