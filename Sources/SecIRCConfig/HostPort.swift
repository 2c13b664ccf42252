/// A `host:port` listen or peer address (`0.0.0.0:6690`, `[::1]:6690`, `relay.example:6690`).
public struct HostPort: Hashable, Sendable, CustomStringConvertible {
    public var host: String
    public var port: UInt16

    public init(host: String, port: UInt16) {
        self.host = host
        self.port = port
    }

    /// Parses `host:port`; IPv6 hosts in brackets. Throws a message for `ConfigError`.
    public init(parsing text: String) throws(ConfigValueError) {
        let fail = ConfigValueError("\"\(text)\" is not host:port")
        var host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw fail }
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { throw fail }
            portText = rest.dropFirst()
            guard host.contains(":") else { throw fail }
        } else {
            guard let colon = text.lastIndex(of: ":") else { throw fail }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
            guard !host.contains(":") else { throw fail }
        }
        guard !host.isEmpty, host.allSatisfy({ $0.isLetter || $0.isNumber || ".-_:".contains($0) }),
              let port = UInt16(portText)
        else { throw fail }
        host = host.lowercased()[...]
        self.init(host: String(host), port: port)
    }

    /// True for 127.0.0.0/8, ::1 and `localhost`.
    public var isLoopback: Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    /// True for 0.0.0.0 and ::, which mean "every interface".
    public var isWildcard: Bool { host == "0.0.0.0" || host == "::" }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// A value that failed validation; `ConfigReader` adds the file and key path.
public struct ConfigValueError: Error, Equatable, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
}
