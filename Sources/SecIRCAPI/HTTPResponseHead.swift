/// The status line and headers of an HTTP/1.1 response.
public struct HTTPResponseHead: Sendable, Equatable {
    /// The status code, e.g. 404.
    public var status: Int
    /// The reason phrase, e.g. "Not Found" (possibly empty).
    public var reason: String
    /// Header names lower-cased; repeated headers joined with ", ".
    public var headers: [String: String]

    public init(status: Int, reason: String, headers: [String: String]) {
        self.status = status
        self.reason = reason
        self.headers = headers
    }
}
