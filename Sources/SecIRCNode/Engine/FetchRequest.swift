/// An HTTP exchange an engine asks its loop to make (engines never block on the network): the
/// loop performs it elsewhere and hands the answer back as a ``FetchResponse`` with the same
/// `id`, always — a failure or time-out is an answer with no status.
public struct FetchRequest: Sendable, Equatable {
    public enum Method: String, Sendable {
        case get = "GET"
        case post = "POST"
    }

    /// Unique within one engine; the response carries it back.
    public var id: UInt64
    public var method: Method
    /// The whole URL, e.g. `http://127.0.0.1:6691/v1/directory`.
    public var url: String
    public var headers: [String: String]
    public var body: [UInt8]?
    /// The loop answers with no status once this has passed.
    public var timeout: Duration

    public init(id: UInt64, method: Method, url: String, headers: [String: String] = [:], body: [UInt8]? = nil,
                timeout: Duration = .seconds(5)) {
        self.id = id
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
    }

    /// Largest body a loop accepts in an answer; longer ones are answered as failures.
    public static let maximumResponseBytes = 8 << 20
}

/// The answer to a ``FetchRequest``.
public struct FetchResponse: Sendable, Equatable {
    public var id: UInt64
    /// The HTTP status; nil when no answer came (refused, unreachable, timed out, too large).
    public var status: Int?
    /// Header names in lower case.
    public var headers: [String: String]
    public var body: [UInt8]

    public init(id: UInt64, status: Int?, headers: [String: String] = [:], body: [UInt8] = []) {
        self.id = id
        self.status = status
        self.headers = headers
        self.body = body
    }
}
