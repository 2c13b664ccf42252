import Foundation
@testable import SecIRCHTTP
import SecIRCLock
import Testing

/// The server's timer threads (header deadlines, event-stream heartbeats): asleep while nothing
/// is due, woken when something may have become due, firing at the time asked.
@Suite("Timer thread")
struct TimerThreadTests {
    /// What the thread was asked and did, and the due time it is told.
    final class Probe: Sendable {
        struct State { var due: Int64?; var asked = 0; var fired = 0 }
        let state = Locked(State())

        var asked: Int { state.withLock { $0.asked } }
        var fired: Int { state.withLock { $0.fired } }

        /// Waits (at most 10 s) until `condition` holds.
        func reach(_ condition: (State) -> Bool) -> Bool {
            let deadline = ContinuousClock.now.advanced(by: .seconds(10))
            while ContinuousClock.now < deadline {
                if state.withLock({ condition($0) }) { return true }
                usleep(1_000)
            }
            return false
        }
    }

    static func start(_ probe: Probe) -> TimerThread {
        let timer = TimerThread(name: "test-timer")
        timer.start(due: { _ in
            probe.state.withLock { state in
                state.asked += 1
                return state.due
            }
        }, fire: { _ in
            probe.state.withLock { state in
                state.due = nil // done: nothing due until told again
                state.fired += 1
            }
        })
        return timer
    }

    @Test("with nothing due it asks once and sleeps; each wake asks once more; a due time fires once")
    func sleepsUntilWoken() {
        let probe = Probe()
        let timer = Self.start(probe)
        #expect(probe.reach { $0.asked >= 1 })
        timer.wake()
        #expect(probe.reach { $0.asked >= 2 })
        timer.wake()
        #expect(probe.reach { $0.asked >= 3 })
        #expect(probe.fired == 0)

        // Due now: woken, it fires, then asks again and sleeps (nothing due).
        probe.state.withLock { $0.due = TimerThread.monotonicNanoseconds() }
        timer.wake()
        #expect(probe.reach { $0.fired >= 1 })
        #expect(probe.reach { $0.asked >= 5 })
        timer.stop()
        #expect(probe.fired == 1)
        #expect(probe.asked == 5, "no wake-up of its own while nothing was due")
    }

    @Test("a due time in the future fires when it comes, without a wake")
    func firesAtTheDueTime() {
        let probe = Probe()
        probe.state.withLock { $0.due = TimerThread.monotonicNanoseconds() + 20_000_000 }
        let timer = Self.start(probe)
        #expect(probe.reach { $0.fired >= 1 })
        timer.stop()
    }

    @Test("stop ends a sleeping thread; a timer never started stops at once")
    func stops() {
        let probe = Probe()
        let timer = Self.start(probe)
        #expect(probe.reach { $0.asked >= 1 })
        timer.stop()
        TimerThread(name: "never-started").stop()
    }
}
