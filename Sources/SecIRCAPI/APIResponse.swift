/// A complete HTTP response from a daemon.
public struct APIResponse: Sendable, Equatable {
    /// The status line and headers.
    public var head: HTTPResponseHead
    /// The body, decoded from its transfer encoding.
    public var body: [UInt8]

    /// The status code, e.g. 200.
    public var status: Int { head.status }

    public init(head: HTTPResponseHead, body: [UInt8]) {
        self.head = head
        self.body = body
    }
}
