public import SecIRCCore
import SecIRCLock

/// Where an event loop reads the time. Engines never read a clock: the loop that drives them
/// reads this once per turn and passes `now`. The system clock (`SystemClock`) lives with the
/// loops in `SecIRCRuntime`; tests and the simulator use ``ManualClock``.
public protocol NodeClock: Sendable {
    /// The current wall-clock time.
    func now() -> UnixTime
}

/// A clock that moves only when told to: tests advance it by exactly what they mean.
public final class ManualClock: NodeClock {
    private let time: Locked<UnixTime>

    public init(_ start: UnixTime = UnixTime(seconds: 1_800_000_000)) {
        time = Locked(start)
    }

    public func now() -> UnixTime { time.withLock { $0 } }

    /// Moves the clock forward by `duration` (never backward).
    public func advance(by duration: Duration) {
        time.withLock { $0 = $0.adding(max(duration, .zero)) }
    }

    /// Sets the clock to `instant` if that is later than now.
    public func advance(to instant: UnixTime) {
        time.withLock { $0 = max($0, instant) }
    }

    /// Sets the clock to `instant`, earlier or later: a wall clock stepped by an administrator
    /// or NTP (tests of what loops and engines do then).
    public func step(to instant: UnixTime) {
        time.withLock { $0 = instant }
    }
}
