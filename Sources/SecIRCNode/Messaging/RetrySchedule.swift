public import SecIRCCore

/// When an unacknowledged outgoing message is sent again: exponential backoff from `initialMs`,
/// doubling per attempt, never more than `maximumMs`.
public struct RetrySchedule: Hashable, Sendable {
    /// Doubling stops after this many steps (2^20 times the initial delay), whatever the maximum.
    public static let maximumDoublings = 20

    /// The wait after the first attempt (milliseconds, at least 0).
    public var initialMs: Int64
    /// The longest wait (milliseconds, at least 0).
    public var maximumMs: Int64

    public init(initialMs: Int64, maximumMs: Int64) {
        self.initialMs = max(initialMs, 0)
        self.maximumMs = max(maximumMs, 0)
    }

    /// From the configuration's seconds (saturating).
    public init(initialSeconds: Int, maximumSeconds: Int) {
        self.init(initialMs: Int64(clamping: initialSeconds).multipliedClamped(by: 1000),
                  maximumMs: Int64(clamping: maximumSeconds).multipliedClamped(by: 1000))
    }

    /// The wait after attempt `attempt` (1 for the first send) before the next one:
    /// `min(initialMs << (attempt − 1), maximumMs)`, with the shift capped at ``maximumDoublings``
    /// and without overflow for any `attempt`.
    public func delayMs(afterAttempt attempt: Int) -> Int64 {
        let shift = Int64(min(max(attempt, 1) - 1, Self.maximumDoublings))
        guard initialMs <= Int64.max >> shift else { return maximumMs }
        return min(initialMs << shift, maximumMs)
    }

    /// When the attempt after `attempt`, made at `now`, is due (Unix milliseconds, saturating).
    public func nextAttemptMs(afterAttempt attempt: Int, at now: UnixTime) -> Int64 {
        let (due, overflow) = now.milliseconds.addingReportingOverflow(delayMs(afterAttempt: attempt))
        return overflow ? .max : due
    }
}

extension Int64 {
    func multipliedClamped(by factor: Int64) -> Int64 {
        let (product, overflow) = multipliedReportingOverflow(by: factor)
        guard overflow else { return product }
        return (self < 0) != (factor < 0) ? .min : .max
    }
}
