import SecIRCCore
import SecIRCCrypto
import SecIRCFaults
import SecIRCNode
import Testing

/// The delay line on a manual clock: offer datagrams at known times, step the clock a
/// millisecond at a time, and see exactly what comes out when.
@Suite struct DelayLineTests {
    let start = UnixTime(seconds: 1_800_000_000)

    /// Offers `count` items, one every `spacing`, on `flow`; then steps a millisecond at a time
    /// until the line is empty. Returns each item with the time it came out.
    func run(_ line: inout DelayLine<Int>, count: Int, spacing: Duration = .milliseconds(1), seed: String = "delay-line",
             flow: (Int) -> Int = { _ in 0 }) -> [(item: Int, at: UnixTime)] {
        let clock = ManualClock(start)
        var rng = SeededRandom(seed: seed)
        var out: [(Int, UnixTime)] = []
        for item in 0..<count {
            line.offer(item, flow: flow(item), now: clock.now(), rng: &rng)
            out += line.takeDue(now: clock.now()).map { ($0, clock.now()) }
            clock.advance(by: spacing)
        }
        while line.count > 0 {
            out += line.takeDue(now: clock.now()).map { ($0, clock.now()) }
            clock.advance(by: .milliseconds(1))
        }
        return out
    }

    func sentAt(_ item: Int, spacing: Duration = .milliseconds(1)) -> UnixTime { start.adding(spacing * item) }

    @Test func theZeroProfileForwardsAtOnceInOrder() {
        var line = DelayLine<Int>(profile: .none)
        let out = run(&line, count: 50)
        #expect(out.map(\.item) == Array(0..<50))
        #expect(out.allSatisfy { $0.at == sentAt($0.item) })
        #expect(line.counters.forwarded == 50 && line.counters.reordered == 0 && line.counters.maxDelay == .zero)
    }

    @Test func aFixedDelayHoldsEachDatagramExactlyThatLong() throws {
        var line = DelayLine<Int>(profile: try FaultProfile(delay: .milliseconds(100)))
        let clock = ManualClock(start)
        var rng = SeededRandom(seed: "fixed")
        line.offer(7, flow: 0, now: clock.now(), rng: &rng)
        #expect(line.nextDue == start.adding(.milliseconds(100)))
        clock.advance(by: .milliseconds(99))
        #expect(line.takeDue(now: clock.now()).isEmpty)
        clock.advance(by: .milliseconds(1))
        #expect(line.takeDue(now: clock.now()) == [7])
        #expect(line.nextDue == nil && line.count == 0)
        #expect(line.counters.meanDelay == .milliseconds(100))
    }

    @Test func jitterKeepsEachDelayWithinItsBoundsAndReorders() throws {
        var line = DelayLine<Int>(profile: try FaultProfile(delay: .milliseconds(100), jitter: .milliseconds(50)))
        let out = run(&line, count: 500)
        #expect(out.map(\.item).sorted() == Array(0..<500), "every datagram out exactly once")
        for (item, at) in out {
            let delay = at.duration(since: sentAt(item))
            // Due within 50...150 ms; taken at the first millisecond step at or after that.
            #expect(delay >= .milliseconds(50) && delay < .milliseconds(151), "item \(item) held \(delay)")
        }
        var highest = -1, overtaken = 0
        for (item, _) in out {
            if item < highest { overtaken += 1 } else { highest = item }
        }
        #expect(overtaken > 100, "1 ms apart with ±50 ms of jitter, many datagrams are overtaken")
        #expect(line.counters.reordered == overtaken)
        #expect(line.counters.maxDelay <= .milliseconds(150))
        let mean = line.counters.meanDelay
        #expect(mean > .milliseconds(90) && mean < .milliseconds(110))
    }

    @Test func reorderingIsCountedPerFlow() throws {
        // Two flows interleaved with no jitter: each flow stays in order.
        var line = DelayLine<Int>(profile: try FaultProfile(delay: .milliseconds(30)))
        let out = run(&line, count: 100, flow: { $0 % 2 })
        #expect(out.map(\.item) == Array(0..<100))
        #expect(line.counters.reordered == 0)
    }

    @Test func theDelayNeverGoesBelowZero() throws {
        var line = DelayLine<Int>(profile: try FaultProfile(delay: .milliseconds(10), jitter: .milliseconds(50)))
        let out = run(&line, count: 300)
        #expect(out.allSatisfy { $0.at >= sentAt($0.item) && $0.at.duration(since: sentAt($0.item)) <= .milliseconds(61) })
        #expect(out.contains { $0.at == sentAt($0.item) }, "some delays are clamped to zero")
    }

    @Test func lossDropsAboutItsShare() throws {
        var line = DelayLine<Int>(profile: try FaultProfile(loss: 0.05))
        let out = run(&line, count: 10_000)
        #expect(line.counters.dropped + out.count == 10_000)
        #expect((400...600).contains(line.counters.dropped), "dropped \(line.counters.dropped) of 10000 at 5%")
        var all = DelayLine<Int>(profile: try FaultProfile(loss: 1))
        #expect(run(&all, count: 100).isEmpty && all.counters.dropped == 100)
    }

    @Test func duplicationSendsTwoCopies() throws {
        var line = DelayLine<Int>(profile: try FaultProfile(delay: .milliseconds(20), jitter: .milliseconds(10), duplicate: 1))
        let out = run(&line, count: 100)
        #expect(out.map(\.item).sorted() == (0..<100).flatMap { [$0, $0] })
        #expect(line.counters.duplicated == 100 && line.counters.forwarded == 200)
    }

    @Test func theSameSeedGivesTheSameFaults() throws {
        let profile = try FaultProfile(delay: .milliseconds(100), jitter: .milliseconds(50), loss: 0.1, duplicate: 0.05)
        var first = DelayLine<Int>(profile: profile), second = DelayLine<Int>(profile: profile)
        var other = DelayLine<Int>(profile: profile)
        let a = run(&first, count: 300, seed: "same"), b = run(&second, count: 300, seed: "same")
        let c = run(&other, count: 300, seed: "other")
        #expect(a.map(\.item) == b.map(\.item) && a.map(\.at) == b.map(\.at))
        #expect(first.counters == second.counters)
        #expect(a.map(\.item) != c.map(\.item))
    }

    @Test(arguments: [
        (Duration.milliseconds(-1), Duration.zero, 0.0, 0.0, FaultProfileError.negative("delay")),
        (.zero, .milliseconds(-1), 0, 0, .negative("jitter")),
        (.zero, .zero, 1.5, 0, .notAProbability("loss", 1.5)),
        (.zero, .zero, 0, -0.1, .notAProbability("duplicate", -0.1)),
    ])
    func impossibleProfilesAreRefused(delay: Duration, jitter: Duration, loss: Double, duplicate: Double,
                                      expected: FaultProfileError) {
        #expect(throws: expected) { try FaultProfile(delay: delay, jitter: jitter, loss: loss, duplicate: duplicate) }
    }
}
