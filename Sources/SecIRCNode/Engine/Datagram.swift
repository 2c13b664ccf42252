public import SecIRCTransport

/// One UDP datagram an engine wants sent (or was given): its bytes and the other end's address.
public struct Datagram: Sendable, Equatable {
    public var bytes: [UInt8]
    public var address: SocketAddress

    public init(_ bytes: [UInt8], to address: SocketAddress) {
        self.bytes = bytes
        self.address = address
    }
}
