/// An error that carries its HTTP answer: thrown by a handler, it becomes
/// `{"error":{"code":"<code>","message":"<message>"}}` with `status`.
///
/// `message` goes to the client: it may name a field or a route, never a secret, a token, a
/// remote address or the text of an underlying error.
public struct HTTPError: Error, Sendable, Equatable, CustomStringConvertible {
    /// HTTP status code (4xx or 5xx).
    public var status: Int
    /// Stable machine-readable code, snake_case (`not_found`, `invalid_json`, ...).
    public var code: String
    /// Human-readable explanation for the client.
    public var message: String

    public init(_ status: Int, _ code: String, _ message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    public var description: String { "\(status) \(code): \(message)" }

    /// 400 `bad_request`.
    public static func badRequest(_ message: String) -> HTTPError { HTTPError(400, "bad_request", message) }
    /// 400 `invalid_json`: the body is not acceptable JSON (syntax, duplicates, depth).
    public static func invalidJSON(_ message: String) -> HTTPError { HTTPError(400, "invalid_json", message) }
    /// 400 `invalid_request`: well-formed JSON of the wrong shape (missing field, wrong type).
    public static func invalidRequest(_ message: String) -> HTTPError { HTTPError(400, "invalid_request", message) }
    /// 401 `unauthorized`.
    public static func unauthorized(_ message: String = "missing or invalid bearer token") -> HTTPError {
        HTTPError(401, "unauthorized", message)
    }
    /// 403 `forbidden`.
    public static func forbidden(_ message: String) -> HTTPError { HTTPError(403, "forbidden", message) }
    /// 404 `not_found`.
    public static func notFound(_ message: String = "not found") -> HTTPError { HTTPError(404, "not_found", message) }
    /// 405 `method_not_allowed`.
    public static func methodNotAllowed(_ method: HTTPMethod, allowed: [HTTPMethod]) -> HTTPError {
        HTTPError(405, "method_not_allowed",
                  "method \(method.rawValue) not allowed; allowed: \(allowed.map(\.rawValue).joined(separator: ", "))")
    }
    /// 409 `conflict`.
    public static func conflict(_ message: String) -> HTTPError { HTTPError(409, "conflict", message) }
    /// 413 `payload_too_large`.
    public static func payloadTooLarge(limit: Int) -> HTTPError {
        HTTPError(413, "payload_too_large", "request body larger than \(limit) bytes")
    }
    /// 415 `unsupported_media_type`.
    public static func unsupportedMediaType(_ message: String) -> HTTPError {
        HTTPError(415, "unsupported_media_type", message)
    }
    /// 429 `too_many_requests`.
    public static func tooManyRequests(_ message: String = "too many requests") -> HTTPError {
        HTTPError(429, "too_many_requests", message)
    }
    /// 500 `internal`: the message is always generic.
    public static let internalError = HTTPError(500, "internal", "internal error")
    /// 503 `too_many_event_streams`: the server holds as many event streams as it allows.
    public static func tooManyEventStreams(limit: Int) -> HTTPError {
        HTTPError(503, "too_many_event_streams", "\(limit) event streams are open, the most this server allows; retry later")
    }
    /// 507 `insufficient_storage`: the server could not store what the request needs.
    public static func insufficientStorage(_ message: String) -> HTTPError { HTTPError(507, "insufficient_storage", message) }
    /// 503 `unavailable`.
    public static func unavailable(_ message: String) -> HTTPError { HTTPError(503, "unavailable", message) }
}
