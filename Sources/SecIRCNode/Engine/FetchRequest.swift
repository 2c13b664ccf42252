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
    /// The whole URL, e.g. `http://127.0.0.1:6691/v1/directory`; an `https` URL may end in
    /// `#spki=<base64>`, the pin of the server's key (``BootstrapURL``), which the loop checks
    /// and never sends. `dns:NAME` asks for the TXT records of NAME instead: the answer's body
    /// is the DNS response message (``DNSTXTAnswer``), status 200.
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
    /// Why there is no status, when known.
    public var failure: FetchFailure?

    public init(id: UInt64, status: Int?, headers: [String: String] = [:], body: [UInt8] = [], failure: FetchFailure? = nil) {
        self.id = id
        self.status = status
        self.headers = headers
        self.body = body
        self.failure = failure
    }
}

/// Why a ``FetchResponse`` has no status, when the loop can say (for logs and counters).
public enum FetchFailure: Sendable, Equatable, CustomStringConvertible {
    /// The server's public key is not the one the URL pins (`#spki=`): refused before a byte
    /// of the request was sent.
    case pinMismatch(String)
    /// TLS verification failed: a certificate no trusted authority signed (a self-signed one
    /// without a pin), another name, expired.
    case certificate(String)
    /// Anything else: refused, unreachable, timed out, too large, a malformed answer or URL.
    case transport(String)

    public var description: String {
        switch self {
        case let .pinMismatch(text): "the server's key does not match the URL's spki pin: \(text)"
        case let .certificate(text): "TLS certificate refused: \(text)"
        case let .transport(text): text
        }
    }
}
