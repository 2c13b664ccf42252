public import SecIRCCrypto
public import SecIRCCore

/// The relay's onion keys over time. At any moment it holds the current key, the next one
/// (published a period ahead, so senders already have it when it takes over) and, for a grace
/// window after each rotation, the previous one: a packet built just before a switch still
/// peels after it, so no packet is lost at the switch.
///
/// Epoch numbers count rotations from a starting value chosen at start-up (the Unix time in
/// seconds then, so a fresh ring does not reuse recent epochs). A relay that restarts restores
/// its ring from the data directory (``init(restoring:period:grace:)``, `+Persistence`) so packets
/// built against the keys it published still peel. A pure value: `now` and the RNG are
/// parameters; the relay calls `tick` from its timer and `rotate` for the admin API.
public struct OnionKeyRing: Sendable {
    public let period: Duration
    public let grace: Duration
    public private(set) var current: OnionKey
    public private(set) var next: OnionKey
    /// The key rotated out last, while its grace window lasts.
    public private(set) var previous: OnionKey?
    /// When `current` took over.
    public private(set) var rotatedAt: UnixTime
    /// When the previous key's grace window ends.
    public private(set) var previousUntil: UnixTime?

    public init(period: Duration, grace: Duration, now: UnixTime, rng: inout some RandomSource) {
        self.period = period
        self.grace = grace
        let first = UInt32(truncatingIfNeeded: max(now.seconds, 1))
        current = OnionKey(epoch: first, privateKey: AgreementPrivateKey(using: &rng))
        next = OnionKey(epoch: first &+ 1, privateKey: AgreementPrivateKey(using: &rng))
        rotatedAt = now
    }

    /// A ring as it was saved: the same keys, epochs and times. `period` and `grace` come from
    /// the configuration now in force (an operator may have changed them). The saved values were
    /// checked when they were decoded (``decode(_:)``).
    public init(restoring saved: Saved, period: Duration, grace: Duration) {
        self.period = period
        self.grace = grace
        current = saved.current
        next = saved.next
        previous = saved.previous?.key
        previousUntil = saved.previous?.until
        rotatedAt = saved.rotatedAt
    }

    /// When the next rotation is due.
    public var nextRotation: UnixTime { rotatedAt.adding(period) }

    /// When `tick` next changes something: the end of the previous key's grace window or the
    /// next rotation, whichever is first.
    public var nextChange: UnixTime { previousUntil.map { min($0, nextRotation) } ?? nextRotation }

    /// The keys a peel must accept now, oldest first.
    public var acceptedKeys: [OnionKey] { [previous, current, next].compactMap { $0 } }

    /// Next becomes current, a fresh next is made, and the old current stays accepted for the
    /// grace window. Returns the key the processor must install and the epochs it must drop:
    /// an older key still in its grace window goes now (as does the old current when there is no
    /// grace at all).
    public mutating func rotate(now: UnixTime, rng: inout some RandomSource) -> (installed: OnionKey, retired: [UInt32]) {
        var retired: [UInt32] = []
        if let old = previous { retired.append(old.epoch) }
        if grace > .zero {
            previous = current
            previousUntil = now.adding(grace)
        } else {
            retired.append(current.epoch)
            previous = nil
            previousUntil = nil
        }
        current = next
        next = OnionKey(epoch: current.epoch &+ 1, privateKey: AgreementPrivateKey(using: &rng))
        rotatedAt = now
        return (next, retired)
    }

    /// Ends the previous key's grace window when it has run out, and rotates when the period has
    /// passed. Returns the keys to install and the epochs to drop (both empty when nothing is due).
    public mutating func tick(now: UnixTime, rng: inout some RandomSource) -> (installed: [OnionKey], retired: [UInt32]) {
        var installed: [OnionKey] = []
        var retired: [UInt32] = []
        if let until = previousUntil, now >= until, let old = previous {
            retired.append(old.epoch)
            previous = nil
            previousUntil = nil
        }
        if now >= nextRotation {
            let change = rotate(now: now, rng: &rng)
            installed.append(change.installed)
            retired += change.retired
        }
        return (installed, retired)
    }

    /// The descriptor entries for the current and next keys (Unix seconds).
    public var descriptorEntries: [RelayDescriptor.OnionKeyEntry] {
        let start = rotatedAt.seconds
        let periodSeconds = period.components.seconds
        let graceSeconds = grace.components.seconds
        return [
            .init(epoch: current.epoch, key: current.publicKey, validAfter: start, validUntil: start + periodSeconds + graceSeconds),
            .init(epoch: next.epoch, key: next.publicKey, validAfter: start + periodSeconds,
                  validUntil: start + 2 * periodSeconds + graceSeconds),
        ]
    }
}
