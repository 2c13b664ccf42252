/// Why a transport operation failed.
public enum TransportError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A system call failed: its name, `errno`, and the C library's text for it.
    case system(call: String, errno: Int32, message: String)
    /// Text that is not an IPv4/IPv6 address or a name that resolves to one.
    case invalidAddress(String)
    /// The transport was closed (by `close()`), before or during the call.
    case closed
    /// A datagram longer than UDP allows (``maxDatagramLength``, 65,507 bytes).
    case datagramTooLarge(Int)

    public var description: String {
        switch self {
        case let .system(call, errno, message): "\(call) failed: \(message) (errno \(errno))"
        case let .invalidAddress(text): "invalid address: \(text)"
        case .closed: "the transport is closed"
        case let .datagramTooLarge(length): "a \(length)-byte datagram is too large for UDP"
        }
    }
}
