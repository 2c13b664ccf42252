import Foundation
import SecIRCCore
import SecIRCLock
import SecIRCNode

/// The threads that run the crypto of a relay's Sphinx peels (`udp.workers`): the loop hands
/// each turn's ``SphinxJob``s to ``submit(_:)``, a worker runs a few at a time and hands them
/// back through `deliver` (to the loop's command queue), where the engine checks each tag
/// against its one replay filter. The workers share nothing but this queue: the onion key
/// travels with each job, so a rotation (in the engine, on the loop) needs no coordination.
final class PeelPool: Sendable {
    /// Jobs a worker takes at once: small enough that the others share a burst, large enough
    /// that handing the results back (one lock and one wake of the loop) is paid rarely.
    static let chunk = 8

    /// Taken jobs are moved out (nil), so a worker peels the only copy of each packet.
    private let queue = Locked<(jobs: [SphinxJob?], head: Int, stopped: Bool)>(([], 0, false))
    private let ready = DispatchSemaphore(value: 0)
    private let threads: Int
    private let geometry: PacketGeometry
    private let deliver: @Sendable ([SphinxJob]) -> Void
    private let finished = DispatchSemaphore(value: 0)

    /// Starts `threads` workers named `<name>-<i>`.
    init(threads: Int, name: String, geometry: PacketGeometry = .standard, deliver: @escaping @Sendable ([SphinxJob]) -> Void) {
        precondition(threads > 0)
        self.threads = threads
        self.geometry = geometry
        self.deliver = deliver
        for i in 0..<threads {
            let thread = Thread { [self] in
                work()
                finished.signal()
            }
            thread.name = "\(name)-\(i)"
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    /// Queues `jobs` (the engine bounds how many are out) and wakes as many workers as they need.
    func submit(_ jobs: [SphinxJob]) {
        guard !jobs.isEmpty else { return }
        let accepted = queue.withLock { queue -> Bool in
            guard !queue.stopped else { return false }
            if queue.head > 0, queue.head == queue.jobs.count {
                queue.jobs.removeAll(keepingCapacity: true)
                queue.head = 0
            } else if queue.head >= 1024, queue.head * 2 >= queue.jobs.count {
                // Under sustained load the queue may never run empty: drop the taken slots
                // (amortised: at least as many were taken as stay), so it cannot grow forever.
                queue.jobs.removeFirst(queue.head)
                queue.head = 0
            }
            queue.jobs += jobs.map(Optional.some)
            return true
        }
        guard accepted else { return }
        for _ in 0..<min(threads, (jobs.count + Self.chunk - 1) / Self.chunk) { ready.signal() }
    }

    /// Ends the workers once the queued jobs are done, and waits for them.
    func stop() {
        queue.withLock { $0.stopped = true }
        for _ in 0..<threads { ready.signal() }
        for _ in 0..<threads { finished.wait() }
    }

    private func work() {
        while true {
            ready.wait()
            // Take chunks until the queue is empty, then wait again.
            while true {
                var (taken, stopped) = queue.withLock { queue -> ([SphinxJob], Bool) in
                    let end = min(queue.head + Self.chunk, queue.jobs.count)
                    var taken: [SphinxJob] = []
                    taken.reserveCapacity(end - queue.head)
                    for i in queue.head..<end { taken.append(queue.jobs[i].take()!) }
                    queue.head = end
                    return (taken, queue.stopped)
                }
                if taken.isEmpty {
                    if stopped { return }
                    break
                }
                var done = taken
                taken = []
                for i in done.indices { done[i].run(geometry: geometry) }
                deliver(done)
            }
        }
    }
}
