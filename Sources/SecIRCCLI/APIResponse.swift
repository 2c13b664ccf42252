/// A complete HTTP response from the daemon.
public struct APIResponse: Sendable, Equatable {
    public var head: HTTPResponseHead
    public var body: [UInt8]

    public var status: Int { head.status }

    public init(head: HTTPResponseHead, body: [UInt8]) {
        self.head = head
        self.body = body
    }
}
