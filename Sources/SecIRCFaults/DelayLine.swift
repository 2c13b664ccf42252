public import SecIRCCore
import SecIRCNode

/// The faults of one link, as a value with no socket and no clock: datagrams go in with the time
/// they arrived (``offer(_:flow:now:rng:)``) and come out when they fall due
/// (``takeDue(now:)``), delayed, lost or duplicated as the ``FaultProfile`` says. The caller
/// passes the time and the random generator, so a test drives it with a manual clock and a
/// seeded generator and knows exactly what comes out when.
///
/// A *flow* is one direction of one conversation (the forwarder numbers them); reordering is
/// counted per flow. Items due at the same time come out in the order they were scheduled.
/// Not for concurrent use.
public struct DelayLine<Item: Sendable>: Sendable {
    private struct Pending: Sendable {
        var item: Item
        var flow: Int
        /// Arrival order, over all flows.
        var sequence: UInt64
        var delay: Duration
    }

    public let profile: FaultProfile
    public private(set) var counters = FaultCounters()
    private var pending = TimedHeap<Pending>()
    private var arrivals: UInt64 = 0
    /// Per flow, the arrival number of the latest datagram taken out.
    private var lastTaken: [Int: UInt64] = [:]

    public init(profile: FaultProfile) {
        self.profile = profile
    }

    /// Datagrams waiting.
    public var count: Int { pending.count }
    /// When the next one falls due; nil when none waits.
    public var nextDue: UnixTime? { pending.earliest }

    /// Takes `item`, which arrived on `flow` at `now`, and returns how many copies were
    /// scheduled: 0 (lost), 1, or 2 (duplicated). Draws from `rng` in a fixed order: the loss
    /// (only when ``FaultProfile/loss`` > 0), the delay (only with jitter), the duplicate (only
    /// when ``FaultProfile/duplicate`` > 0), the copy's delay.
    @discardableResult
    public mutating func offer(_ item: Item, flow: Int, now: UnixTime, rng: inout some RandomNumberGenerator) -> Int {
        counters.received += 1
        arrivals += 1
        if profile.loss > 0, Double.random(in: 0..<1, using: &rng) < profile.loss {
            counters.dropped += 1
            return 0
        }
        schedule(item, flow: flow, now: now, rng: &rng)
        guard profile.duplicate > 0, Double.random(in: 0..<1, using: &rng) < profile.duplicate else { return 1 }
        counters.duplicated += 1
        schedule(item, flow: flow, now: now, rng: &rng)
        return 2
    }

    private mutating func schedule(_ item: Item, flow: Int, now: UnixTime, rng: inout some RandomNumberGenerator) {
        let delay = drawDelay(rng: &rng)
        pending.insert(Pending(item: item, flow: flow, sequence: arrivals, delay: delay), at: now.adding(delay))
    }

    /// Uniform in `delay ± jitter` to the nanosecond, never below zero.
    private func drawDelay(rng: inout some RandomNumberGenerator) -> Duration {
        guard profile.jitter > .zero else { return profile.delay }
        let centre = profile.delay.nanoseconds, spread = profile.jitter.nanoseconds
        return .nanoseconds(max(0, Int64.random(in: (centre - spread)...(centre + spread), using: &rng)))
    }

    /// Removes and returns the items due at `now` (due time ≤ `now`), earliest first.
    public mutating func takeDue(now: UnixTime) -> [Item] {
        var due: [Item] = []
        while let first = pending.first, first.time <= now {
            let entry = pending.popFirst()!.value
            counters.forwarded += 1
            counters.totalDelay += entry.delay
            counters.maxDelay = max(counters.maxDelay, entry.delay)
            if let last = lastTaken[entry.flow], entry.sequence < last {
                counters.reordered += 1
            } else {
                lastTaken[entry.flow] = entry.sequence
            }
            due.append(entry.item)
        }
        return due
    }

    /// Forgets what it knew of `flow` for counting reorders (the flow has ended).
    public mutating func forget(flow: Int) {
        lastTaken[flow] = nil
    }
}

extension Duration {
    /// The whole duration in nanoseconds (durations here are far below 292 years).
    var nanoseconds: Int64 { components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000 }
}
