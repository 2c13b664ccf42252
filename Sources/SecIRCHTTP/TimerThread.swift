internal import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A thread that sleeps until its next due time and then runs `fire`; asks `due` when that is
/// each time it wakes. With nothing due (`due` says nil) it sleeps until ``wake()``: an idle
/// server has no thread that wakes up for nothing. Call ``wake()`` whenever something may have
/// made the due time earlier (a connection opened, a first event stream); a wake is never lost,
/// also when it comes while `due` or `fire` run. ``stop()`` returns once the thread has finished
/// (so nothing runs after the server stopped). Times are ``monotonicNanoseconds()``.
final class TimerThread: @unchecked Sendable {
    // @unchecked: `stopped`, `woken`, `started` and `finished` are read and written only with
    // `condition` locked.
    private let condition = NSCondition()
    private let name: String
    private var started = false
    private var stopped = false
    private var woken = false
    private var finished = false

    init(name: String) {
        self.name = name
    }

    /// Starts the thread (once; later calls, and calls after `stop()`, do nothing). The
    /// closures are held by the thread only, until it ends.
    func start(due: @escaping @Sendable (_ now: Int64) -> Int64?, fire: @escaping @Sendable (_ now: Int64) -> Void) {
        condition.lock()
        defer { condition.unlock() }
        guard !started, !stopped else { return }
        started = true
        let thread = Thread { [self] in
            run(due: due, fire: fire)
        }
        thread.name = name
        thread.start()
    }

    /// Makes the thread ask `due` again now (or, if it is busy, as soon as it is done).
    func wake() {
        condition.lock()
        woken = true
        condition.signal()
        condition.unlock()
    }

    /// Ends the thread and waits until it has ended.
    func stop() {
        condition.lock()
        stopped = true
        condition.broadcast()
        while started && !finished { condition.wait() }
        condition.unlock()
    }

    private func run(due: @Sendable (Int64) -> Int64?, fire: @Sendable (Int64) -> Void) {
        condition.lock()
        while !stopped {
            woken = false
            condition.unlock()
            let now = Self.monotonicNanoseconds()
            let next = due(now)
            if let next, next <= now {
                fire(now)
                condition.lock()
                continue
            }
            condition.lock()
            while !stopped && !woken {
                guard let next else {
                    condition.wait()
                    continue
                }
                let left = next - Self.monotonicNanoseconds()
                if left <= 0 { break }
                _ = condition.wait(until: Date(timeIntervalSinceNow: Double(left) / 1e9))
            }
        }
        finished = true
        condition.broadcast()
        condition.unlock()
    }

    static func monotonicNanoseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
    }
}
