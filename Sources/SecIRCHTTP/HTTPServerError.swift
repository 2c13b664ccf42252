/// Why a server could not start, or why its token or TLS files could not be used.
public enum HTTPServerError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A configuration value out of range (`what` says which and why).
    case invalidConfiguration(String)
    /// `host` is not an IPv4 or IPv6 address literal (names are not resolved).
    case invalidAddress(String)
    /// Another socket is bound to the address.
    case addressInUse(host: String, port: UInt16)
    /// socket/bind/listen failed for another reason (the system's text).
    case bindFailed(host: String, port: UInt16, reason: String)
    /// libmicrohttpd/GnuTLS refused the certificate or key.
    case tlsRejected(String)
    /// libmicrohttpd did not start (its messages, if any).
    case startFailed(String)
    /// `start()` was called on a server that was already started.
    case alreadyStarted
    /// A token, certificate or key file could not be read or written.
    case file(path: String, reason: String)

    public var description: String {
        switch self {
        case let .invalidConfiguration(text): "invalid HTTP configuration: \(text)"
        case let .invalidAddress(host): "'\(host)' is not an IPv4 or IPv6 address"
        case let .addressInUse(host, port): "address \(Self.format(host, port)) is already in use"
        case let .bindFailed(host, port, reason): "cannot listen on \(Self.format(host, port)): \(reason)"
        case let .tlsRejected(text): "TLS certificate or key rejected: \(text)"
        case let .startFailed(text): "HTTP server did not start: \(text)"
        case .alreadyStarted: "HTTP server already started"
        case let .file(path, reason): "\(path): \(reason)"
        }
    }

    private static func format(_ host: String, _ port: UInt16) -> String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}
