import SecIRCCore
import SecIRCNode
import Testing

@Suite struct ManualClockTests {
    @Test func movesOnlyForwardAndOnlyWhenTold() {
        let clock = ManualClock(UnixTime(seconds: 100))
        #expect(clock.now() == UnixTime(seconds: 100))
        clock.advance(by: .milliseconds(1500))
        #expect(clock.now() == UnixTime(nanoseconds: 101_500_000_000))
        clock.advance(by: .seconds(-5))
        #expect(clock.now() == UnixTime(nanoseconds: 101_500_000_000))
        clock.advance(to: UnixTime(seconds: 50))
        #expect(clock.now() == UnixTime(nanoseconds: 101_500_000_000))
        clock.advance(to: UnixTime(seconds: 200))
        #expect(clock.now() == UnixTime(seconds: 200))
    }
}
