/// Where a ``Messenger`` keeps its state: keys, contacts with their sessions, messages and the
/// outbox. Two implementations: `SQLiteMessengerStore` (the client daemon, in SecIRCClient) and
/// ``MemoryMessengerStore`` (tests and the simulator).
///
/// Contract, for every implementation:
/// - `write` runs `body` as one transaction, serialised with every other `write` and `read`
///   of the store. When `body` returns, all its changes are committed together (and durable,
///   for a store on disk, before `write` returns); when it throws, none of them is, and the
///   error is rethrown as it is. A failure of the store itself throws `MessengerError.storage`.
/// - `read` runs `body` against a consistent view of the committed state.
/// - The transaction handed to `body` is valid only during the call; it must not be kept.
/// - A store may be shared by threads (`Sendable`); a transaction may not. Transactions do not
///   nest: `body` must not call `write` or `read` of the same store (it would deadlock or trap).
public protocol MessengerStore: AnyObject, Sendable {
    /// Runs `body` in one atomic read-write transaction (see the protocol's contract).
    func write<T>(_ body: (any MessengerTransaction) throws -> T) throws -> T
    /// Runs `body` against the committed state, changing nothing.
    func read<T>(_ body: (any MessengerReadTransaction) throws -> T) throws -> T
}
