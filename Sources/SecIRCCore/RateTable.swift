/// Per-key rate limits (generic cell rate algorithm): each key may take `perMinute` a minute on
/// average and `burst` at once after a quiet time. At most `maximumKeys` keys are tracked; a key
/// whose budget is whole again is the same as one never seen, so such entries are dropped when
/// room is needed, and past that the key least recently charged goes. Pure: `now` is a
/// parameter. Not thread-safe (a value).
public struct RateTable<Key: Hashable & Sendable>: Sendable {
    public let perMinute: Int
    public let burst: Int
    public let maximumKeys: Int
    /// GCRA's theoretical arrival time per key: its budget is whole when `now >= tat`.
    private var tat: [Key: UnixTime] = [:]

    public init(perMinute: Int, burst: Int, maximumKeys: Int = 4_096) {
        self.perMinute = max(perMinute, 1)
        self.burst = max(burst, 1)
        self.maximumKeys = max(maximumKeys, 1)
    }

    /// Keys tracked now.
    public var count: Int { tat.count }

    private var interval: Duration { .seconds(60) / perMinute }

    /// Takes one from `key`'s budget: nil when allowed, else how long until one is.
    public mutating func take(_ key: Key, now: UnixTime) -> Duration? {
        let interval = interval
        let current = max(tat[key] ?? now, now)
        let next = current.adding(interval)
        let debt = next.duration(since: now)
        // The budget is `burst` intervals of debt.
        if debt > interval * burst { return debt - interval * burst }
        if tat[key] == nil, tat.count >= maximumKeys { makeRoom(now: now) }
        tat[key] = next
        return nil
    }

    /// Drops the keys whose budget is whole; if none is, the one least recently charged.
    private mutating func makeRoom(now: UnixTime) {
        tat = tat.filter { $0.value > now }
        if tat.count >= maximumKeys, let oldest = tat.min(by: { $0.value < $1.value })?.key { tat[oldest] = nil }
    }
}
