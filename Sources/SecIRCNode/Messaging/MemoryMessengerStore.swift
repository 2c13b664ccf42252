import SecIRCLock

/// The in-memory twin of the client's SQLite store, for tests and the whole-network simulator.
///
/// Its state is a value (``State``): ``snapshot`` copies it in O(1), and `init(_:)` starts a
/// store from a copy (how a test restarts a client "from disk"). Transactions are
/// serialised by a `Locked`. A write transaction takes the state out of the lock (no copy), works
/// on it in place and logs how to undo each change; when the body throws, the log is played
/// backwards, so a failed transaction leaves the state exactly as it was, as a rolled-back
/// database transaction does. Reads, lookups by message, the due outbox and paging use indices,
/// not scans over all messages.
public final class MemoryMessengerStore: MessengerStore {
    private let state: Locked<State>

    /// A store holding `state` (empty by default).
    public init(_ state: State = State()) {
        self.state = Locked(state)
    }

    /// The committed state, as a value.
    public var snapshot: State { state.withLock { $0 } }

    public func write<T>(_ body: (any MessengerTransaction) throws -> T) throws -> T {
        try run(writable: true, body)
    }

    public func read<T>(_ body: (any MessengerReadTransaction) throws -> T) throws -> T {
        try run(writable: false, body)
    }

    private func run<T>(writable: Bool, _ body: (MemoryMessengerTransaction) throws -> T) throws -> T {
        var result: Result<T, any Error>?
        state.withLock { state in
            let tx = MemoryMessengerTransaction(writable: writable)
            swap(&state, &tx.state)
            do { result = .success(try body(tx)) } catch {
                tx.rollBack()
                result = .failure(error)
            }
            tx.close()
            swap(&state, &tx.state)
        }
        // withLock ran the body, so `result` is set.
        return try result!.get()
    }
}
