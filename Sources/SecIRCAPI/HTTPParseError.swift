/// Why bytes from the daemon are not a well-formed HTTP/1.1 response.
public enum HTTPParseError: Error, Equatable, CustomStringConvertible {
    /// The status line or headers exceed ``HTTPResponseParser/maxHeadBytes``.
    case headTooLarge
    case invalidStatusLine(String)
    case invalidHeader(String)
    case invalidContentLength(String)
    case invalidChunk(String)
    /// The body exceeds the parser's limit.
    case bodyTooLarge(limit: Int)
    /// The connection ended before the response did.
    case truncated

    public var description: String {
        switch self {
        case .headTooLarge: "response head too large"
        case .invalidStatusLine(let line): "invalid status line \"\(line)\""
        case .invalidHeader(let line): "invalid header line \"\(line)\""
        case .invalidContentLength(let value): "invalid Content-Length \"\(value)\""
        case .invalidChunk(let why): "invalid chunked body: \(why)"
        case .bodyTooLarge(let limit): "response body larger than \(limit) bytes"
        case .truncated: "connection closed before the response was complete"
        }
    }
}
