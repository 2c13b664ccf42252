internal import Glibc

extension SocketAddress {
    /// An address from its parts.
    ///
    /// `host` is a numeric IPv4 address (dotted quad), a numeric IPv6 address (brackets and a
    /// `%scope` allowed), or a host name such as `localhost`, resolved with `getaddrinfo`
    /// (which may block on DNS); of a name's addresses the first IPv4 one is taken, else the
    /// first IPv6 one. Anything else throws ``TransportError/invalidAddress(_:)``.
    public init(host: String, port: UInt16) throws(TransportError) {
        try self.init(host: host, port: port, resolvingNames: true)
    }

    /// A numeric address from its text form, `1.2.3.4:5` or `[::1]:5` (as ``description``
    /// writes it): never asks a resolver, so it cannot block. A host name throws. This is how
    /// engines read the `udp` of a relay descriptor (docs/PROTOCOL.md §3.2: addresses only).
    public init(numeric text: String) throws(TransportError) {
        let (host, port) = try Self.parts(of: text)
        try self.init(host: host, port: port, resolvingNames: false)
    }

    private init(host: String, port: UInt16, resolvingNames: Bool) throws(TransportError) {
        var text = Substring(host)
        if text.count >= 2, text.hasPrefix("["), text.hasSuffix("]") { text = text.dropFirst().dropLast() }
        guard !text.isEmpty else { throw .invalidAddress("empty host") }
        if text.contains(":") {
            if text.contains("%") {
                self = try Self.resolve(String(text), port: port, numericHost: true)
            } else {
                self = try Self.parseNumeric(String(text), family: .inet6, port: port)
            }
        } else if text.utf8.allSatisfy({ ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9")) || $0 == UInt8(ascii: ".") }) {
            self = try Self.parseNumeric(String(text), family: .inet, port: port)
        } else {
            guard Self.isHostName(text) else { throw .invalidAddress("not an IP address or host name: \"\(host)\"") }
            guard resolvingNames else { throw .invalidAddress("a host name where a numeric address is required: \"\(host)\"") }
            self = try Self.resolve(String(text), port: port, numericHost: false)
        }
    }

    /// An address from its text form: `1.2.3.4:5`, `[::1]:5` or `name:5`, as ``description``
    /// writes it. An IPv6 address must be in brackets.
    public init(parsing text: String) throws(TransportError) {
        let (host, port) = try Self.parts(of: text)
        try self.init(host: host, port: port)
    }

    /// `host` and `port` of `host:port` or `[v6]:port`.
    private static func parts(of text: String) throws(TransportError) -> (host: String, port: UInt16) {
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[close...].hasPrefix("]:") else {
                throw .invalidAddress("expected [address]:port, got \"\(text)\"")
            }
            host = text[text.index(after: text.startIndex)..<close]
            portText = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":"), !text[..<colon].contains(":") else {
                throw .invalidAddress("expected host:port (IPv6 in brackets), got \"\(text)\"")
            }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        }
        guard (1...5).contains(portText.utf8.count),
              portText.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
              let port = UInt16(portText)
        else { throw .invalidAddress("bad port in \"\(text)\"") }
        return (String(host), port)
    }

    private static func parseNumeric(_ text: String, family: Family, port: UInt16) throws(TransportError) -> SocketAddress {
        var raw: (UInt64, UInt64) = (0, 0)
        let status = withUnsafeMutableBytes(of: &raw) { inet_pton(family == .inet ? AF_INET : AF_INET6, text, $0.baseAddress) }
        guard status == 1 else {
            throw .invalidAddress("not a numeric IPv\(family.rawValue) address: \"\(text)\"")
        }
        return withUnsafeBytes(of: &raw) { SocketAddress(family: family, addressBytes: $0, port: port) }
    }

    /// Letters, digits and hyphens in dot-separated labels of 1...63 characters (RFC 1123),
    /// checked before anything goes to the resolver.
    private static func isHostName(_ text: Substring) -> Bool {
        guard text.utf8.count <= 253 else { return false }
        return text.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
            let bytes = label.utf8
            guard (1...63).contains(bytes.count), bytes.first != UInt8(ascii: "-"), bytes.last != UInt8(ascii: "-")
            else { return false }
            return bytes.allSatisfy { byte in
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                     UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"): true
                default: false
                }
            }
        }
    }

    private static func resolve(_ name: String, port: UInt16, numericHost: Bool) throws(TransportError) -> SocketAddress {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_DGRAM.rawValue)
        hints.ai_flags = AI_NUMERICSERV | (numericHost ? AI_NUMERICHOST : 0)
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(name, String(port), &hints, &list)
        guard status == 0, let list else {
            throw .invalidAddress("cannot resolve \"\(name)\": \(String(cString: gai_strerror(status)))")
        }
        defer { freeaddrinfo(list) }
        var firstIPv6: SocketAddress?
        var entry: UnsafeMutablePointer<addrinfo>? = list
        while let current = entry {
            if let sockaddr = current.pointee.ai_addr, let address = SocketAddress(sockaddr: UnsafeRawPointer(sockaddr)) {
                if address.family == .inet { return address.with(port: port) }
                if firstIPv6 == nil { firstIPv6 = address.with(port: port) }
            }
            entry = current.pointee.ai_next
        }
        guard let firstIPv6 else { throw .invalidAddress("\"\(name)\" has no IPv4 or IPv6 address") }
        return firstIPv6
    }
}
