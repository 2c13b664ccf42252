#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What the per-address connection limit counts by: an IPv4 address, or the /64 prefix of an
/// IPv6 address (one host is usually given a whole /64, so counting single IPv6 addresses would
/// limit nothing). An IPv4-mapped IPv6 address (a dual-stack listener) counts as its IPv4 address.
/// What a handler sees of the client (``HTTPRequest/peer``): enough to keep per-source budgets,
/// not an address to log.
public enum PeerKey: Hashable, Sendable {
    case v4(UInt32)
    case v6(prefix: UInt64)
    /// Not an IP address (never expected from a TCP listener); all such peers share one count.
    case other

    init(_ address: UnsafePointer<sockaddr>?) {
        guard let address else {
            self = .other
            return
        }
        switch Int32(address.pointee.sa_family) {
        case AF_INET:
            self = address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { .v4(UInt32(bigEndian: $0.pointee.sin_addr.s_addr)) }
        case AF_INET6:
            let bytes: [UInt8] = address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { pointer in
                withUnsafeBytes(of: pointer.pointee.sin6_addr) { Array($0) }
            }
            self = PeerKey(ipv6: bytes)
        default:
            self = .other
        }
    }

    /// From the 16 bytes of an IPv6 address.
    public init(ipv6 bytes: [UInt8]) {
        precondition(bytes.count == 16)
        let mappedPrefix: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff]
        if Array(bytes[0..<12]) == mappedPrefix {
            self = .v4(bytes[12..<16].reduce(0) { $0 << 8 | UInt32($1) })
        } else {
            self = .v6(prefix: bytes[0..<8].reduce(0) { $0 << 8 | UInt64($1) })
        }
    }
}
