import SecIRCCore
import SecIRCNode
import Testing

/// The backoff between attempts of an unacknowledged message.
@Suite struct RetryScheduleTests {
    @Test(arguments: [
        // (initial ms, maximum ms, attempt just made, delay before the next)
        (2_000, 60_000, 1, 2_000),
        (2_000, 60_000, 2, 4_000),
        (2_000, 60_000, 3, 8_000),
        (2_000, 60_000, 5, 32_000),
        (2_000, 60_000, 6, 60_000), // capped
        (2_000, 60_000, 1_000, 60_000),
        (2_000, 60_000, Int.max, 60_000), // no overflow at large attempts
        (2_000, 60_000, 0, 2_000), // an attempt below 1 counts as the first
        (2_000, 60_000, Int.min, 2_000),
        (1, Int64.max, 21, 1 << 20), // doubling stops after 20 steps
        (1, Int64.max, 64, 1 << 20),
        (Int64.max / 2, Int64.max, 2, Int64.max - 1),
        (Int64.max / 2, Int64.max, 3, Int64.max), // the shift would overflow: the maximum
        (Int64.max, 1_000, 9, 1_000),
        (5_000, 1_000, 1, 1_000), // an initial delay above the maximum
        (0, 1_000, 30, 0),
    ] as [(Int64, Int64, Int, Int64)])
    func delaysDoubleUpToTheMaximum(initialMs: Int64, maximumMs: Int64, attempt: Int, delayMs: Int64) {
        #expect(RetrySchedule(initialMs: initialMs, maximumMs: maximumMs).delayMs(afterAttempt: attempt) == delayMs)
    }

    @Test func scheduleFromSecondsAndDueTimesSaturate() {
        #expect(RetrySchedule(initialSeconds: 2, maximumSeconds: 60) == RetrySchedule(initialMs: 2_000, maximumMs: 60_000))
        #expect(RetrySchedule(initialSeconds: .max, maximumSeconds: .max) == RetrySchedule(initialMs: .max, maximumMs: .max))
        #expect(RetrySchedule(initialMs: -5, maximumMs: -1) == RetrySchedule(initialMs: 0, maximumMs: 0))
        let schedule = RetrySchedule(initialMs: 2_000, maximumMs: 60_000)
        #expect(schedule.nextAttemptMs(afterAttempt: 2, at: .t0) == UnixTime.t0.milliseconds + 4_000)
        let late = UnixTime(nanoseconds: .max)
        #expect(RetrySchedule(initialMs: .max, maximumMs: .max).nextAttemptMs(afterAttempt: 1, at: late) == .max)
    }
}
