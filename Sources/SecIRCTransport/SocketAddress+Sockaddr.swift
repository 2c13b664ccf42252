internal import Glibc

/// Conversion to and from the kernel's `sockaddr_in` / `sockaddr_in6`.
extension SocketAddress {
    /// Bytes a `sockaddr_in` takes.
    static let ipv4SockaddrLength = socklen_t(MemoryLayout<sockaddr_in>.size)
    /// Bytes a `sockaddr_in6` takes.
    static let ipv6SockaddrLength = socklen_t(MemoryLayout<sockaddr_in6>.size)

    /// Reads a `sockaddr_in` or `sockaddr_in6` (suitably aligned, as in a `sockaddr_storage`);
    /// nil for any other family.
    init?(sockaddr: UnsafeRawPointer) {
        switch Int32(sockaddr.load(as: sa_family_t.self)) {
        case AF_INET:
            var address = sockaddr.load(as: sockaddr_in.self)
            let port = UInt16(bigEndian: address.sin_port)
            self = withUnsafeBytes(of: &address.sin_addr) { SocketAddress(family: .inet, addressBytes: $0, port: port) }
        case AF_INET6:
            var address = sockaddr.load(as: sockaddr_in6.self)
            let port = UInt16(bigEndian: address.sin6_port)
            let scope = address.sin6_scope_id
            self = withUnsafeBytes(of: &address.sin6_addr) {
                SocketAddress(family: .inet6, addressBytes: $0, port: port, scopeID: scope)
            }
        default:
            return nil
        }
    }

    /// Writes this address as a `sockaddr_in`, or as a `sockaddr_in6` if it is IPv6 or
    /// `mappedToIPv6` (an IPv4 address as `::ffff:a.b.c.d`, for a dual-stack IPv6 socket);
    /// returns the length to pass to the kernel.
    @discardableResult
    func write(to storage: UnsafeMutablePointer<sockaddr_storage>, mappedToIPv6: Bool) -> socklen_t {
        let target = UnsafeMutableRawPointer(storage)
        if family == .inet && !mappedToIPv6 {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = port.bigEndian
            withAddressBytes { bytes in withUnsafeMutableBytes(of: &address.sin_addr) { $0.copyMemory(from: bytes) } }
            target.storeBytes(of: address, as: sockaddr_in.self)
            return Self.ipv4SockaddrLength
        }
        var address = sockaddr_in6()
        address.sin6_family = sa_family_t(AF_INET6)
        address.sin6_port = port.bigEndian
        address.sin6_scope_id = scopeID
        withAddressBytes { bytes in
            withUnsafeMutableBytes(of: &address.sin6_addr) { target in
                if bytes.count == 4 {
                    target[10] = 0xFF
                    target[11] = 0xFF
                    UnsafeMutableRawBufferPointer(rebasing: target[12..<16]).copyMemory(from: bytes)
                } else {
                    target.copyMemory(from: bytes)
                }
            }
        }
        target.storeBytes(of: address, as: sockaddr_in6.self)
        return Self.ipv6SockaddrLength
    }
}
