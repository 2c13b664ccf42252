/// What an ``HTTPServer`` refused or cut off to protect itself, counted since it started
/// (relay `/metrics` shows them). Addresses are never kept.
public struct HTTPLimitCounters: Sendable, Equatable {
    /// Connections closed on arrival because their address (an IPv6 /64) already held
    /// `maxConnectionsPerIP`.
    public var refusedPerIP = 0
    /// Connections closed on arrival because the server held `maxConnections` (counted from
    /// libmicrohttpd's message). Rare: at the limit libmicrohttpd stops accepting, and new
    /// connections wait in the listen backlog until a slot frees; this counts those a worker
    /// thread accepted while full.
    public var refusedConnectionLimit = 0
    /// Connections closed because a request's headers were not complete within
    /// `headerTimeoutSeconds`.
    public var closedHeaderTimeout = 0
    /// Event streams answered 503 because `maxEventStreams` were open.
    public var refusedEventStreams = 0
    /// Connections open now (a gauge).
    public var openConnections = 0

    public init() {}
}
