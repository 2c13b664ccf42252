/// One HTTP request as a handler sees it: fully read, body bounded by the server's
/// `maxBodyBytes`. A value: handlers may keep or change it freely.
public struct HTTPRequest: Sendable {
    public var method: HTTPMethod
    /// The path as sent, without the query string; not percent-decoded (route patterns and
    /// path parameters work on the raw text). Invalid UTF-8 is replaced by U+FFFD.
    public var path: String
    /// Query parameters, percent-decoded (`+` is a space); the last of repeated names wins.
    public var query: [String: String]
    /// Request headers with lowercased names; repeated headers are joined with ", ".
    public var headers: [String: String]
    public var body: [UInt8]
    /// Values of the route pattern's `:name` segments, filled in by `HTTPRouter`.
    public var pathParameters: [String: String]
    /// The client's host (an IPv4 address or IPv6 /64) as the TCP connection shows it: what
    /// per-source budgets count by. `.other` when the request did not come over a socket.
    public var peer: PeerKey

    /// Header names may be given in any case; they are stored lowercased.
    public init(method: HTTPMethod, path: String, query: [String: String] = [:], headers: [String: String] = [:],
                body: [UInt8] = [], pathParameters: [String: String] = [:], peer: PeerKey = .other) {
        var lowered: [String: String] = [:]
        lowered.reserveCapacity(headers.count)
        for (name, value) in headers { lowered[ASCII.lowercased(name)] = value }
        self.init(method: method, path: path, query: query, lowercasedHeaders: lowered, body: body,
                  pathParameters: pathParameters, peer: peer)
    }

    /// For the server, which lowercases names as it collects them.
    init(method: HTTPMethod, path: String, query: [String: String], lowercasedHeaders: [String: String],
         body: [UInt8], pathParameters: [String: String] = [:], peer: PeerKey = .other) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = lowercasedHeaders
        self.body = body
        self.pathParameters = pathParameters
        self.peer = peer
    }

    /// The value of header `name`, compared case-insensitively.
    public func header(_ name: String) -> String? {
        headers[ASCII.lowercased(name)]
    }
}
