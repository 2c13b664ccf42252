internal import Glibc

/// When a blocking receive gives up: a point on the continuous clock, or never.
/// A wait that is interrupted or woken early recomputes what is left from it.
struct Deadline {
    /// Longer timeouts are treated as "no timeout" (it also keeps the clock arithmetic in range).
    static let longest = Duration.seconds(100 * 365 * 86_400)

    /// nil: no deadline.
    let instant: ContinuousClock.Instant?

    init(timeout: Duration?) {
        if let timeout, timeout < Self.longest {
            instant = .now + max(timeout, .zero)
        } else {
            instant = nil
        }
    }

    var hasPassed: Bool {
        guard let instant else { return false }
        return ContinuousClock.now >= instant
    }

    /// What is left, never negative; nil without a deadline.
    var remaining: Duration? {
        instant.map { max($0 - ContinuousClock.now, .zero) }
    }

    /// The `poll(2)` timeout: milliseconds left rounded up (so the wait is never shorter than
    /// asked), or -1 for no deadline.
    var pollMilliseconds: Int32 {
        guard let remaining else { return -1 }
        let (seconds, attoseconds) = remaining.components
        let milliseconds = seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
        return Int32(clamping: milliseconds)
    }

    /// The deadline as an absolute `CLOCK_REALTIME` time, for `sem_timedwait`. (A wall-clock
    /// step during the wait only makes it end early or late; callers re-check `hasPassed`.)
    var realtime: timespec? {
        guard let remaining else { return nil }
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let (seconds, attoseconds) = remaining.components
        var nanoseconds = Int(now.tv_nsec) + Int(attoseconds / 1_000_000_000)
        var wholeSeconds = Int(now.tv_sec) + Int(seconds)
        if nanoseconds >= 1_000_000_000 {
            nanoseconds -= 1_000_000_000
            wholeSeconds += 1
        }
        return timespec(tv_sec: wholeSeconds, tv_nsec: nanoseconds)
    }
}
