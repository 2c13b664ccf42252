/// How an `HTTPServer` listens. Defaults suit a loopback API; every limit is explicit.
public struct HTTPServerConfiguration: Sendable {
    /// IPv4 or IPv6 address literal (`127.0.0.1`, `0.0.0.0`, `::1`, `::`; brackets allowed).
    /// `localhost` means `127.0.0.1`. `::` accepts IPv4 too (dual stack).
    public var host: String
    /// 0 picks a free port; read it from `HTTPServer.boundPort`.
    public var port: UInt16
    /// Event-loop threads (epoll each); handlers run on them.
    public var threads: Int = 2
    /// Largest request body; a larger one is answered 413 `payload_too_large` (at once when
    /// `Content-Length` says so, without reading the body).
    public var maxBodyBytes: Int = 65536
    /// Larger body limits for some paths (the exact path, no query → bytes), e.g. a relay's
    /// `/v1/ring/votes`, whose votes carry every descriptor. A body over `maxBodyBytes` must
    /// declare its `Content-Length` and needs one of `largeBodySlots`.
    public var bodyLimits: [String: Int] = [:]
    /// Requests receiving a body over `maxBodyBytes` at once; one more is answered 503
    /// `busy` with `Retry-After` before its body is read (memory stays bounded: slots × limit).
    public var largeBodySlots: Int = 4
    /// HTTPS when set.
    public var tls: HTTPTLS?
    /// Idle connections are closed after this long.
    public var connectionTimeoutSeconds: Int = 30
    /// Concurrent connections across all threads; beyond it new connections wait in the listen
    /// backlog until one closes. Keep it well above `maxConnectionsPerIP`, so that one address
    /// cannot take them all.
    public var maxConnections: Int = 1024
    /// Concurrent connections from one IPv4 address or one IPv6 /64; beyond it a new connection
    /// is closed on arrival (counted). 0: no limit. Must be below `maxConnections`.
    public var maxConnectionsPerIP: Int = 64
    /// A request's headers must be complete this long after the connection opened (or after
    /// the previous response plus `connectionTimeoutSeconds`, on a kept-alive connection), else
    /// the connection is closed (counted) — however often the client sends a byte.
    public var headerTimeoutSeconds: Double = 10
    /// Open event streams (Server-Sent Events); one more is answered 503
    /// `too_many_event_streams` with `Retry-After`.
    public var maxEventStreams: Int = 64
    /// An idle event stream gets an SSE comment this often, so that clients that went away
    /// are noticed and free their connection; 0 disables.
    public var eventStreamHeartbeatSeconds: Int = 15

    public init(host: String = "127.0.0.1", port: UInt16 = 0, threads: Int = 2, maxBodyBytes: Int = 65536,
                tls: HTTPTLS? = nil, connectionTimeoutSeconds: Int = 30, maxConnections: Int = 1024,
                eventStreamHeartbeatSeconds: Int = 15, maxConnectionsPerIP: Int = 64, headerTimeoutSeconds: Double = 10,
                maxEventStreams: Int = 64) {
        self.host = host
        self.port = port
        self.threads = threads
        self.maxBodyBytes = maxBodyBytes
        self.tls = tls
        self.connectionTimeoutSeconds = connectionTimeoutSeconds
        self.maxConnections = maxConnections
        self.eventStreamHeartbeatSeconds = eventStreamHeartbeatSeconds
        self.maxConnectionsPerIP = maxConnectionsPerIP
        self.headerTimeoutSeconds = headerTimeoutSeconds
        self.maxEventStreams = maxEventStreams
    }

    /// Throws `invalidConfiguration` naming the first bad value.
    func validate() throws(HTTPServerError) {
        guard (1...64).contains(threads) else { throw .invalidConfiguration("threads must be 1...64, got \(threads)") }
        guard (0...(1 << 30)).contains(maxBodyBytes) else {
            throw .invalidConfiguration("maxBodyBytes must be 0...\(1 << 30), got \(maxBodyBytes)")
        }
        for (path, limit) in bodyLimits where !(0...(1 << 30)).contains(limit) {
            throw .invalidConfiguration("bodyLimits[\(path)] must be 0...\(1 << 30), got \(limit)")
        }
        guard (1...1024).contains(largeBodySlots) else {
            throw .invalidConfiguration("largeBodySlots must be 1...1024, got \(largeBodySlots)")
        }
        guard (1...86_400).contains(connectionTimeoutSeconds) else {
            throw .invalidConfiguration("connectionTimeoutSeconds must be 1...86400, got \(connectionTimeoutSeconds)")
        }
        guard (1...1_000_000).contains(maxConnections) else {
            throw .invalidConfiguration("maxConnections must be 1...1000000, got \(maxConnections)")
        }
        guard maxConnectionsPerIP == 0 || (1..<maxConnections).contains(maxConnectionsPerIP) else {
            throw .invalidConfiguration("maxConnectionsPerIP must be 0 (no limit) or 1...\(maxConnections - 1) (below maxConnections), got \(maxConnectionsPerIP)")
        }
        guard (0.05...3_600).contains(headerTimeoutSeconds) else {
            throw .invalidConfiguration("headerTimeoutSeconds must be 0.05...3600, got \(headerTimeoutSeconds)")
        }
        guard (1...1_000_000).contains(maxEventStreams) else {
            throw .invalidConfiguration("maxEventStreams must be 1...1000000, got \(maxEventStreams)")
        }
        guard (0...3_600).contains(eventStreamHeartbeatSeconds) else {
            throw .invalidConfiguration("eventStreamHeartbeatSeconds must be 0...3600, got \(eventStreamHeartbeatSeconds)")
        }
    }
}
