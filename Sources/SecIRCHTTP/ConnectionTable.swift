/// The server's own account of its open TCP connections, for two limits: connections per peer
/// address (``admit(_:)``), and a deadline by which each request's headers must be complete
/// (``overdue(now:)``), which stops slowloris clients that send a byte every few seconds and so
/// are never idle. A value without I/O: ``ServerCore`` keeps it under a mutex and does what its
/// answers say. Times are monotonic nanoseconds; connections are named by libmicrohttpd's
/// connection pointer.
///
/// The deadline runs from the connection's start until the first request's headers are in;
/// after a response it runs again for the next request on the same connection, from the end of
/// the response, with `idleAllowance` added (a client that sends nothing is closed by
/// libmicrohttpd's idle timeout first, so an honest keep-alive client is never cut off by it).
struct ConnectionTable: Sendable {
    struct Entry: Sendable, Equatable {
        /// The connection's socket: valid until its close notification returns.
        let descriptor: Int32
        let peer: PeerKey
        /// When the current request's headers are due; nil once they arrived.
        var deadline: Int64?
    }

    /// Connections one peer may hold; 0 for no limit.
    let perPeerLimit: Int
    let headerTimeout: Int64
    let idleAllowance: Int64

    private(set) var entries: [UInt: Entry] = [:]
    private(set) var perPeer: [PeerKey: Int] = [:]
    /// Connections refused because their peer held `perPeerLimit` already.
    private(set) var refusedPerPeer = 0
    /// Connections closed because their headers were late.
    private(set) var closedAtDeadline = 0

    init(perPeerLimit: Int, headerTimeoutNanoseconds: Int64, idleAllowanceNanoseconds: Int64) {
        self.perPeerLimit = perPeerLimit
        self.headerTimeout = headerTimeoutNanoseconds
        self.idleAllowance = idleAllowanceNanoseconds
    }

    /// Whether a peer may open one more connection; a refusal is counted.
    mutating func admit(_ peer: PeerKey) -> Bool {
        guard perPeerLimit > 0, perPeer[peer, default: 0] >= perPeerLimit else { return true }
        refusedPerPeer += 1
        return false
    }

    /// A connection was made: its headers are due `headerTimeout` from now.
    mutating func opened(_ id: UInt, descriptor: Int32, peer: PeerKey, now: Int64) {
        guard entries[id] == nil else { return }
        entries[id] = Entry(descriptor: descriptor, peer: peer, deadline: now + headerTimeout)
        perPeer[peer, default: 0] += 1
    }

    /// A request's headers are complete.
    mutating func headersArrived(_ id: UInt) {
        entries[id]?.deadline = nil
    }

    /// A response ended; the next request's headers are due later (see the type's comment).
    mutating func responseEnded(_ id: UInt, now: Int64) {
        guard entries[id] != nil else { return }
        entries[id]?.deadline = now + idleAllowance + headerTimeout
    }

    /// The connection is closed; its socket may be reused from now on.
    mutating func closed(_ id: UInt) {
        guard let entry = entries.removeValue(forKey: id) else { return }
        let left = perPeer[entry.peer, default: 1] - 1
        perPeer[entry.peer] = left > 0 ? left : nil
    }

    /// The sockets of connections whose headers are late, each returned once (to be shut
    /// down) and counted. The connections stay here until libmicrohttpd reports them closed.
    mutating func overdue(now: Int64) -> [Int32] {
        var late: [Int32] = []
        for (id, entry) in entries {
            guard let deadline = entry.deadline, now >= deadline else { continue }
            entries[id]?.deadline = nil
            late.append(entry.descriptor)
        }
        closedAtDeadline += late.count
        return late
    }

    /// The earliest header deadline of the open connections; nil when none has one (no
    /// connection, or every one between its headers and the end of its response).
    var nextDeadline: Int64? { entries.values.lazy.compactMap(\.deadline).min() }

    /// Connections open now.
    var count: Int { entries.count }
}
