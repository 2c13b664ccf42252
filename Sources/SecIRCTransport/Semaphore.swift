internal import Glibc

/// A POSIX counting semaphore: the wakeup that a `Locked`-guarded queue pairs with to block
/// without busy waiting (``InMemoryMailbox``).
final class Semaphore: @unchecked Sendable {
    // @unchecked Sendable: sem_t is made for use from many threads; the pointer never changes.
    private let semaphore: UnsafeMutablePointer<sem_t>

    init() {
        semaphore = .allocate(capacity: 1)
        semaphore.initialize(to: sem_t())
        let status = sem_init(semaphore, 0, 0)
        precondition(status == 0, "sem_init failed")
    }

    deinit {
        sem_destroy(semaphore)
        semaphore.deallocate()
    }

    func post() {
        sem_post(semaphore)
    }

    /// Waits for a post until `deadline`; true if it took one, false on timeout or a signal.
    func wait(until deadline: Deadline) -> Bool {
        if var time = deadline.realtime {
            return sem_timedwait(semaphore, &time) == 0
        }
        return sem_wait(semaphore) == 0
    }

    /// Takes a post if one is pending, without waiting.
    func tryWait() -> Bool {
        sem_trywait(semaphore) == 0
    }
}
