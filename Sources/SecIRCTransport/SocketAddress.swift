internal import Glibc

/// An IPv4 or IPv6 UDP endpoint: hashable, cheap to copy, and free of allocation.
///
/// The address is kept in a compact form (32 bytes) and converted to a `sockaddr` only at the
/// system-call boundary. An IPv4-mapped IPv6 address (`::ffff:1.2.3.4`) is stored as the IPv4
/// address it maps, so a peer reached through a dual-stack socket and the same peer reached
/// through an IPv4 socket compare equal.
public struct SocketAddress: Hashable, Sendable, CustomStringConvertible {
    /// IP version. The raw values are the family byte of ``bytes``.
    enum Family: UInt8, Hashable, Sendable {
        case inet = 4
        case inet6 = 6
    }

    let family: Family
    /// Address bytes 0..<8 in network order, as raw memory (IPv4 uses the first four bytes).
    let addressHigh: UInt64
    /// Address bytes 8..<16 in network order, as raw memory (zero for IPv4).
    let addressLow: UInt64
    /// The UDP port.
    public let port: UInt16
    /// The IPv6 scope (interface index) of a link-local address; 0 otherwise.
    let scopeID: UInt32

    /// The length of the address bytes of `family` (4 or 16).
    var addressLength: Int { family == .inet ? 4 : 16 }

    /// `bytes` are the address in network order (4 or 16 bytes); an IPv4-mapped IPv6 address
    /// becomes IPv4.
    init(family: Family, addressBytes bytes: UnsafeRawBufferPointer, port: UInt16, scopeID: UInt32 = 0) {
        var raw: (UInt64, UInt64) = (0, 0)
        var family = family
        withUnsafeMutableBytes(of: &raw) { target in
            if family == .inet6, Self.isIPv4Mapped(bytes) {
                family = .inet
                target.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[12..<16]))
            } else {
                target.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[0..<(family == .inet ? 4 : 16)]))
            }
        }
        self.family = family
        addressHigh = raw.0
        addressLow = raw.1
        self.port = port
        self.scopeID = family == .inet ? 0 : scopeID
    }

    private static func isIPv4Mapped(_ bytes: UnsafeRawBufferPointer) -> Bool {
        bytes.count == 16 && bytes[0..<10].allSatisfy { $0 == 0 } && bytes[10] == 0xFF && bytes[11] == 0xFF
    }

    /// Calls `body` with the address bytes in network order (4 or 16 bytes).
    func withAddressBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        var raw = (addressHigh, addressLow)
        let length = addressLength
        return try withUnsafeBytes(of: &raw) { try body(UnsafeRawBufferPointer(rebasing: $0[0..<length])) }
    }

    /// The same host with another port.
    func with(port: UInt16) -> SocketAddress {
        withAddressBytes { SocketAddress(family: family, addressBytes: $0, port: port, scopeID: scopeID) }
    }

    /// `0.0.0.0` or `::`: a socket bound here receives on every address of its family.
    var isUnspecified: Bool { addressHigh == 0 && addressLow == 0 }

    /// The unspecified address of `family` with `port`.
    static func unspecified(_ family: Family, port: UInt16) -> SocketAddress {
        withUnsafeBytes(of: (UInt64(0), UInt64(0))) { SocketAddress(family: family, addressBytes: $0, port: port) }
    }

    /// `127.0.0.1` or `::1` with `port`.
    static func loopback(_ family: Family, port: UInt16) -> SocketAddress {
        let bytes: [UInt8] = family == .inet ? [127, 0, 0, 1] : [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]
        return bytes.withUnsafeBytes { SocketAddress(family: family, addressBytes: $0, port: port) }
    }

    /// Stable bytes for cookies and MACs: family (4 or 6) | address (4 or 16 bytes) | port
    /// (big-endian). The scope of a link-local address is not included.
    public var bytes: [UInt8] {
        var out: [UInt8] = [family.rawValue]
        out.reserveCapacity(1 + addressLength + 2)
        withAddressBytes { out.append(contentsOf: $0) }
        out.append(UInt8(truncatingIfNeeded: port >> 8))
        out.append(UInt8(truncatingIfNeeded: port))
        return out
    }

    /// The part of the address one host controls: the whole IPv4 address, or the /64 prefix of
    /// an IPv6 address (a host commonly holds a whole /64). What per-source budgets are keyed by.
    public var hostPrefix: HostPrefix {
        HostPrefix(family: family.rawValue, bits: addressHigh)
    }

    /// The address as numeric text: `1.2.3.4`, `::1`, or `fe80::1%2` (with its scope index).
    public var host: String {
        withAddressBytes { address in
            withUnsafeTemporaryAllocation(of: CChar.self, capacity: Int(INET6_ADDRSTRLEN) + 1) { text in
                let domain = family == .inet ? AF_INET : AF_INET6
                guard inet_ntop(domain, address.baseAddress, text.baseAddress, socklen_t(text.count)) != nil else {
                    return "?"
                }
                let numeric = String(cString: text.baseAddress!)
                return scopeID == 0 ? numeric : "\(numeric)%\(scopeID)"
            }
        }
    }

    /// `1.2.3.4:5` or `[::1]:5`; ``init(parsing:)`` reads it back.
    public var description: String {
        family == .inet ? "\(host):\(port)" : "[\(host)]:\(port)"
    }
}

/// What `SocketAddress.hostPrefix` returns: an IPv4 address or an IPv6 /64, without port.
public struct HostPrefix: Hashable, Sendable {
    let family: UInt8
    /// Address bytes 0..<8 as raw memory: all of an IPv4 address, the /64 of an IPv6 one.
    let bits: UInt64
}
