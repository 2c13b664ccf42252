import SecIRCCore
import SecIRCNode
import Testing

/// New contacts from incoming set-ups: at most so many an hour.
@Suite struct NewContactLimitTests {
    @Test(arguments: [
        // (maximum, how long ago each recent contact was added (ms), one more admitted)
        (20, Array(repeating: 10_000, count: 19), true),
        (20, Array(repeating: 10_000, count: 20), false),
        (20, Array(repeating: 3_600_000, count: 20), true), // exactly an hour ago: out of the window
        (20, Array(repeating: 3_599_999, count: 20), false),
        (20, Array(repeating: 10_000, count: 10) + Array(repeating: 7_200_000, count: 30), true),
        (20, Array(repeating: -5_000, count: 20), false), // clocks differ: added "in the future" counts
        (1, [], true),
        (1, [1], false),
        (0, [], false),
    ] as [(Int, [Int64], Bool)])
    func onlyContactsOfTheLastHourCount(maximum: Int, agesMs: [Int64], admitted: Bool) {
        let limit = NewContactLimit(maximum: maximum)
        let now = UnixTime.t0
        let recent = agesMs.filter { limit.counts(addedMs: now.milliseconds - $0, now: now) }.count
        #expect(limit.admits(recent: recent) == admitted)
    }

    @Test func theWindowStartDoesNotOverflow() {
        #expect(NewContactLimit(maximum: 1, windowMs: .max).windowStartMs(now: UnixTime(nanoseconds: .min)) == .min)
        #expect(NewContactLimit(maximum: 1).windowStartMs(now: .t0) == UnixTime.t0.milliseconds - 3_600_000)
    }
}
