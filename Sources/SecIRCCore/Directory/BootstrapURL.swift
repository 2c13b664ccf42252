/// A place to fetch the directory from, as configured (`bootstrap_urls`) or found in a DNS TXT
/// record: `http[s]://HOST[:PORT][/PATH]`, optionally with the SHA-256 pin of the server's key
/// (its DER SubjectPublicKeyInfo) in the fragment, which never goes on the wire:
/// `https://relay.example:6691/#spki=<base64 of 32 bytes>`.
///
/// Strict syntax, so a TXT record or a configuration typo cannot smuggle anything into a
/// request: lowercase scheme `http` or `https`; a host that is a DNS name (letters, digits,
/// hyphens; labels of 1 to 63), dotted IPv4 or a bracketed IPv6 address; a port 1...65535; a path of
/// unreserved characters and `/` only; no user, no query; the only fragment is one `spki=` pin
/// (standard base64, 44 characters with padding), and only on `https`. At most ``maximumLength``
/// bytes in all.
public struct BootstrapURL: Sendable, Hashable, CustomStringConvertible {
    public enum Scheme: String, Sendable {
        case http, https
    }

    /// Longest text accepted.
    public static let maximumLength = 512

    public let scheme: Scheme
    /// As written: a name, dotted IPv4, or IPv6 in brackets.
    public let host: String
    public let port: UInt16?
    /// The path without its trailing slashes ("" for none).
    public let path: String
    /// SHA-256 of the server's SubjectPublicKeyInfo (DER), when the URL pins it.
    public let pin: [UInt8]?

    /// The text as parsed (with its pin).
    public let description: String

    public init(_ text: String) throws(DecodeError) {
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty, bytes.count <= Self.maximumLength else {
            throw .invalidValue("bootstrap URL length \(bytes.count) is outside 1...\(Self.maximumLength)")
        }
        var rest = Substring(text)
        if rest.hasPrefix("https://") {
            scheme = .https
        } else if rest.hasPrefix("http://") {
            scheme = .http
        } else {
            throw .invalidValue("bootstrap URL must start with http:// or https://")
        }
        rest = rest.dropFirst(scheme.rawValue.count + 3)

        var fragment: Substring?
        if let hash = rest.firstIndex(of: "#") {
            fragment = rest[rest.index(after: hash)...]
            rest = rest[..<hash]
        }
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        let authority = rest[..<slash]
        let rawPath = rest[slash...]

        (host, port) = try Self.parseAuthority(authority)
        guard rawPath.utf8.allSatisfy({ Self.isUnreserved($0) || $0 == UInt8(ascii: "/") }) else {
            throw .invalidValue("bootstrap URL path may hold only letters, digits, -._~ and /")
        }
        var trimmed = rawPath
        while trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        path = String(trimmed)

        if let fragment {
            guard scheme == .https else { throw .invalidValue("an spki pin needs https") }
            guard fragment.hasPrefix("spki=") else { throw .invalidValue("the only URL fragment allowed is spki=<base64>") }
            pin = try Self.decodePin(fragment.dropFirst(5))
        } else {
            pin = nil
        }
        description = text
    }

    /// The URL of `resource` (starting with "/") on this server, without the fragment: what
    /// goes on the wire.
    public func url(_ resource: String) -> String {
        "\(scheme.rawValue)://\(host)\(port.map { ":\($0)" } ?? "")\(path)\(resource)"
    }

    /// ``url(_:)`` with the pin after it, as the loop's fetcher takes it.
    public func pinnedURL(_ resource: String) -> String {
        url(resource) + (pinBase64.map { "#spki=" + $0 } ?? "")
    }

    /// The pin as libcurl and `openssl ... | base64` write it.
    public var pinBase64: String? { pin.map { Self.base64($0) } }

    // MARK: Parts

    private static func parseAuthority(_ authority: Substring) throws(DecodeError) -> (String, UInt16?) {
        guard !authority.isEmpty else { throw .invalidValue("bootstrap URL has no host") }
        guard !authority.contains("@") else { throw .invalidValue("bootstrap URL may not carry a user") }
        var hostPart = authority
        var portPart: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw .invalidValue("unclosed [ in bootstrap URL host") }
            hostPart = authority[...close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw .invalidValue("junk after ] in bootstrap URL host") }
                portPart = after.dropFirst()
            }
            let inner = hostPart.dropFirst().dropLast()
            guard !inner.isEmpty, inner.utf8.count <= 45,
                  inner.utf8.allSatisfy({ isHexDigit($0) || $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: ".") }),
                  inner.contains(":")
            else { throw .invalidValue("bootstrap URL has a malformed IPv6 address") }
        } else {
            if let colon = authority.firstIndex(of: ":") {
                hostPart = authority[..<colon]
                portPart = authority[authority.index(after: colon)...]
            }
            try checkName(hostPart)
        }
        var port: UInt16?
        if let portPart {
            guard !portPart.isEmpty, portPart.utf8.count <= 5, portPart.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }),
                  let value = UInt16(portPart), value > 0
            else { throw .invalidValue("bootstrap URL port must be 1...65535") }
            port = value
        }
        return (String(hostPart), port)
    }

    /// A DNS name or dotted IPv4 address: labels of letters, digits and inner hyphens.
    private static func checkName(_ name: Substring) throws(DecodeError) {
        guard !name.isEmpty, name.utf8.count <= 253 else { throw .invalidValue("bootstrap URL host length must be 1...253") }
        for label in name.split(separator: ".", omittingEmptySubsequences: false) {
            guard (1...63).contains(label.utf8.count),
                  label.utf8.allSatisfy({ isAlphanumeric($0) || $0 == UInt8(ascii: "-") }),
                  label.utf8.first != UInt8(ascii: "-"), label.utf8.last != UInt8(ascii: "-")
            else { throw .invalidValue("bootstrap URL host is not a DNS name or IPv4 address") }
        }
    }

    private static func decodePin(_ text: Substring) throws(DecodeError) -> [UInt8] {
        let bytes = Array(text.utf8)
        guard bytes.count == 44, bytes[43] == UInt8(ascii: "=") else {
            throw .invalidValue("spki pin must be 44 characters of base64 (SHA-256)")
        }
        var out: [UInt8] = []
        var accumulator: UInt32 = 0
        var bits = 0
        for c in bytes[..<43] {
            guard let v = base64Value(c) else { throw .invalidValue("spki pin is not base64") }
            accumulator = (accumulator << 6) | v
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
                accumulator &= (1 << UInt32(bits)) - 1
            }
        }
        guard out.count == 32, accumulator == 0 else { throw .invalidValue("spki pin has non-zero trailing bits") }
        return out
    }

    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// Standard base64 with padding.
    public static func base64(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var i = 0
        while i < bytes.count {
            let chunk = bytes[i..<min(i + 3, bytes.count)]
            var n: UInt32 = 0
            for (k, b) in chunk.enumerated() { n |= UInt32(b) << UInt32(16 - 8 * k) }
            for k in 0..<4 {
                out.append(k <= chunk.count ? alphabet[Int((n >> UInt32(18 - 6 * k)) & 63)] : UInt8(ascii: "="))
            }
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func base64Value(_ c: UInt8) -> UInt32? {
        switch c {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): UInt32(c - UInt8(ascii: "A"))
        case UInt8(ascii: "a")...UInt8(ascii: "z"): UInt32(c - UInt8(ascii: "a")) + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt32(c - UInt8(ascii: "0")) + 52
        case UInt8(ascii: "+"): 62
        case UInt8(ascii: "/"): 63
        default: nil
        }
    }

    private static func isAlphanumeric(_ c: UInt8) -> Bool {
        (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122)
    }

    private static func isHexDigit(_ c: UInt8) -> Bool {
        (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102)
    }

    private static func isUnreserved(_ c: UInt8) -> Bool {
        isAlphanumeric(c) || c == UInt8(ascii: "-") || c == UInt8(ascii: ".") || c == UInt8(ascii: "_") || c == UInt8(ascii: "~")
    }
}
