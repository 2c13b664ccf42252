import Foundation
import Synchronization

/// Threads that run the nodes of a window with the caller, handed out one at a time. Workers
/// spin between windows rather than sleep: windows are short (one network latency) and many,
/// and waking a sleeping thread for each would cost more than the window's work on a small
/// network. Meant for a machine the simulator has to itself.
final class WorkerPool: @unchecked Sendable {
    // @unchecked: `job` is written by the caller before it publishes a new generation (release)
    // and read by workers after they see it (acquire); the counters are atomics.
    private let workers: Int
    private let generation = Atomic<Int>(0)
    private let next = Atomic<Int>(0)
    private let done = Atomic<Int>(0)
    private let stopping = Atomic<Bool>(false)
    private var job: (count: Int, body: (Int) -> Void) = (0, { _ in })

    /// A pool of `threads` − 1 workers (the caller is the last one).
    init(threads: Int) {
        workers = max(threads - 1, 0)
        for number in 0..<workers {
            let thread = Thread { [self] in work() }
            thread.name = "secirc-sim-worker-\(number)"
            thread.start()
        }
    }

    /// Runs `body(i)` for every `i` in `0..<count`, spread over the workers and the caller;
    /// returns when all are done.
    func run(count: Int, _ body: @escaping (Int) -> Void) {
        guard workers > 0, count > 1 else {
            for i in 0..<count { body(i) }
            return
        }
        job = (count, body)
        next.store(0, ordering: .relaxed)
        done.store(0, ordering: .relaxed)
        generation.add(1, ordering: .releasing)
        take()
        var spins = 0
        while done.load(ordering: .acquiring) < workers {
            spins += 1
            if spins > 20_000 { usleep(50) } else { spinPause() }
        }
    }

    /// Ends the workers.
    func stop() {
        stopping.store(true, ordering: .releasing)
        generation.add(1, ordering: .releasing)
    }

    private func work() {
        var seen = 0
        while true {
            var current = generation.load(ordering: .acquiring)
            var spins = 0
            while current == seen {
                spins += 1
                if spins > 20_000 { usleep(50) } else { spinPause() }
                current = generation.load(ordering: .acquiring)
            }
            seen = current
            if stopping.load(ordering: .acquiring) { return }
            take()
            done.add(1, ordering: .releasing)
        }
    }

    private func take() {
        while true {
            let i = next.add(1, ordering: .relaxed).oldValue
            guard i < job.count else { return }
            job.body(i)
        }
    }

    private func spinPause() {
        for _ in 0..<16 { _ = next.load(ordering: .relaxed) }
    }
}
