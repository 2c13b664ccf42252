#if canImport(Glibc)
public import Glibc
#elseif canImport(Darwin)
public import Darwin
#endif

/// A value behind a mutex: the project's one lock. It uses a POSIX mutex rather than the
/// standard library's `Synchronization.Mutex`, whose Linux implementation (atomics and futex
/// calls inside the uninstrumented standard library) ThreadSanitizer cannot see: every access
/// made under such a lock by two threads is reported as a race (docs/SECURITY.md,
/// "Sanitizers"). ThreadSanitizer intercepts `pthread_mutex_lock`, so what this lock orders,
/// it knows to be ordered, and a report under it is a real one.
///
/// The same contract as `Mutex.withLock`: the value is reached only inside `withLock`, and the
/// lock is not reentrant (calling `withLock` again from inside the closure deadlocks).
public final class Locked<Value: ~Copyable>: @unchecked Sendable {
    // @unchecked: `value` is read and written only between lock and unlock of `mutex`.
    @usableFromInline let mutex: UnsafeMutablePointer<pthread_mutex_t>
    @usableFromInline var value: Value

    public init(_ initialValue: consuming sending Value) {
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        let status = pthread_mutex_init(mutex, nil)
        precondition(status == 0, "pthread_mutex_init failed: \(status)")
        value = initialValue
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deinitialize(count: 1)
        mutex.deallocate()
    }

    /// Runs `body` with the value, holding the lock. Inlinable, so that callers in other
    /// modules get it specialized for their value.
    @inlinable
    public func withLock<Result: ~Copyable, E: Error>(_ body: (inout sending Value) throws(E) -> sending Result) throws(E)
        -> sending Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }
}
