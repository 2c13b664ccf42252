public import SecIRCCore
public import SecIRCTransport

/// The forwarder's sessions, as a value with no socket and no clock: one per source address
/// that sent to the forwarder's listening address, each with a session value of the caller's
/// (the forwarder's: an upstream socket) and a pair of flows, `flow` towards the target and
/// `flow + 1` back to the source. Like a NAT's mappings, a session lasts while it is used:
/// ``removeIdle(now:)`` hands back those unused for `idleTimeout`. At most `capacity` exist.
/// Not for concurrent use.
public struct SessionTable<Session: Sendable>: Sendable {
    public struct Entry: Sendable {
        public var source: SocketAddress
        public var session: Session
        /// Towards the target; `flow + 1` is back to the source.
        public var flow: Int
        public var lastUsed: UnixTime
    }

    public let idleTimeout: Duration
    public let capacity: Int
    private var entries: [SocketAddress: Entry] = [:]
    private var flows = 0

    public init(idleTimeout: Duration, capacity: Int) {
        self.idleTimeout = idleTimeout
        self.capacity = capacity
    }

    /// Sessions held.
    public var count: Int { entries.count }

    /// The session of `source`, marked used at `now`; nil when it has none.
    public mutating func use(_ source: SocketAddress, now: UnixTime) -> Entry? {
        guard var entry = entries[source] else { return nil }
        entry.lastUsed = max(entry.lastUsed, now)
        entries[source] = entry
        return entry
    }

    /// Adds `session` for `source` (which has none) and returns its entry; nil when the table is
    /// full.
    public mutating func add(_ session: Session, for source: SocketAddress, now: UnixTime) -> Entry? {
        precondition(entries[source] == nil, "a second session for \(source)")
        guard entries.count < capacity else { return nil }
        let entry = Entry(source: source, session: session, flow: flows, lastUsed: now)
        flows += 2
        entries[source] = entry
        return entry
    }

    /// Removes and returns the sessions not used for `idleTimeout` by `now`.
    public mutating func removeIdle(now: UnixTime) -> [Entry] {
        let idle = entries.values.filter { now.duration(since: $0.lastUsed) >= idleTimeout }
        for entry in idle { entries[entry.source] = nil }
        return idle
    }

    /// Removes and returns every session.
    public mutating func removeAll() -> [Entry] {
        defer { entries = [:] }
        return Array(entries.values)
    }
}
