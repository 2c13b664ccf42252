/// The status line and headers of an HTTP/1.1 response.
public struct HTTPResponseHead: Sendable, Equatable {
    public var status: Int
    public var reason: String
    /// Header names lower-cased; repeated headers joined with ", ".
    public var headers: [String: String]

    public init(status: Int, reason: String, headers: [String: String]) {
        self.status = status
        self.reason = reason
        self.headers = headers
    }
}
