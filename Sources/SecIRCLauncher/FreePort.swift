import Glibc
public import SecIRCAPI

/// A port on 127.0.0.1 that nothing was bound to a moment ago (bound to port 0, read back and
/// released). Another process may take it before it is used: for daemons that must be told
/// their port in advance; a daemon that can listen on port 0 and report its port is better.
public enum FreePort {
    /// A free TCP port.
    public static func tcp() throws(SystemCallError) -> UInt16 {
        try bound(type: Int32(SOCK_STREAM.rawValue))
    }

    /// A free UDP port.
    public static func udp() throws(SystemCallError) -> UInt16 {
        try bound(type: Int32(SOCK_DGRAM.rawValue))
    }

    private static func bound(type: Int32) throws(SystemCallError) -> UInt16 {
        let fd = try Syscall.call("socket") { socket(AF_INET, type | Int32(SOCK_CLOEXEC.rawValue), 0) }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        try Syscall.call("bind") {
            withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        }
        try Syscall.call("getsockname") {
            withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        }
        return UInt16(bigEndian: address.sin_port)
    }
}
