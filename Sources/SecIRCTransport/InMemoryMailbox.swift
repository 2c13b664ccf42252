internal import SecIRCLock

/// The receive queue of one in-memory endpoint: a bounded FIFO of datagrams under a `Locked`,
/// and a ``Semaphore`` on which receivers wait for it to fill or close.
///
/// Wakeup accounting: `posted` counts posts not yet taken, and a post is made only for a waiter
/// that has none (`waiters > posted`), so spare posts never pile up into spurious wakeups.
final class InMemoryMailbox: Sendable {
    struct Datagram {
        var bytes: [UInt8]
        var source: SocketAddress
    }

    private struct State {
        var queue = FIFO<Datagram>()
        var closed = false
        /// Set by ``wake()``: the next (or a blocked) receive returns 0.
        var woken = false
        var waiters = 0
        var posted = 0

        /// Wakes one waiter that has no post yet.
        mutating func wakeOne(_ semaphore: Semaphore) {
            guard waiters > posted else { return }
            posted += 1
            semaphore.post()
        }
    }

    private enum Step {
        case received(Int)
        case timedOut
        case closed
        case wait
    }

    let capacity: Int
    private let state = Locked(State())
    private let semaphore = Semaphore()

    init(capacity: Int) {
        self.capacity = capacity
    }

    /// Queues a datagram; false (the caller counts a drop) if the queue is full or closed.
    func enqueue(_ datagram: Datagram) -> Bool {
        state.withLock { state in
            guard !state.closed, state.queue.count < capacity else { return false }
            state.queue.append(datagram)
            state.wakeOne(semaphore)
            return true
        }
    }

    /// Moves queued datagrams into `batch`, waiting until `deadline` for the first. A datagram
    /// longer than a slot is dropped, and `dropped` is called for it.
    func receive(into batch: DatagramBatch, until deadline: Deadline, dropped: () -> Void) throws(TransportError) -> Int {
        batch.count = 0
        while true {
            let step = state.withLock { state -> Step in
                if state.closed { return .closed }
                var filled = 0
                while filled < batch.capacity, let datagram = state.queue.popFirst() {
                    if datagram.bytes.count > batch.maxDatagramSize {
                        dropped()
                        continue
                    }
                    batch.fill(filled, bytes: datagram.bytes, from: datagram.source)
                    filled += 1
                }
                if filled > 0 { return .received(filled) }
                if state.woken {
                    state.woken = false
                    return .timedOut
                }
                if deadline.hasPassed { return .timedOut }
                state.waiters += 1
                return .wait
            }
            switch step {
            case let .received(count):
                batch.count = count
                return count
            case .timedOut: return 0
            case .closed: throw .closed
            case .wait:
                let woken = semaphore.wait(until: deadline)
                state.withLock { state in
                    state.waiters -= 1
                    if woken {
                        state.posted -= 1
                    } else if state.posted > state.waiters, semaphore.tryWait() {
                        state.posted -= 1  // posted for us as we timed out: take it back
                    }
                }
            }
        }
    }

    /// Ends one blocked receive (or the next) with nothing received.
    func wake() {
        state.withLock { state in
            guard !state.closed else { return }
            state.woken = true
            state.wakeOne(semaphore)
        }
    }

    /// Refuses further datagrams, discards the queue, and wakes every waiter.
    func close() {
        state.withLock { state in
            state.closed = true
            state.queue = FIFO()
            while state.waiters > state.posted { state.wakeOne(semaphore) }
        }
    }

    var isClosed: Bool { state.withLock { $0.closed } }
}
