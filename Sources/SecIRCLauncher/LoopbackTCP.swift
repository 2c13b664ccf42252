import Glibc

/// TCP connections to a daemon on 127.0.0.1 from another loopback address (`source`, e.g.
/// 127.0.0.2): what attack benchmarks and tests use to stand for one other host, since every
/// per-host budget of the daemons counts by source address.
public enum LoopbackTCP {
    /// A socket bound to `source` and connected (or, `nonBlocking`, connecting) to
    /// 127.0.0.1:`port`; nil when it could not be made. The caller closes it.
    public static func connect(from source: String, to port: UInt16, nonBlocking: Bool = false) -> Int32? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | (nonBlocking ? Int32(SOCK_NONBLOCK.rawValue) : 0), 0)
        guard fd >= 0 else { return nil }
        var local = sockaddr_in(), remote = sockaddr_in()
        local.sin_family = sa_family_t(AF_INET)
        inet_pton(AF_INET, source, &local.sin_addr)
        remote.sin_family = sa_family_t(AF_INET)
        remote.sin_port = port.bigEndian
        inet_pton(AF_INET, "127.0.0.1", &remote.sin_addr)
        let size = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &local) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, size) } }
        let connected = withUnsafePointer(to: &remote) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, size) } }
        guard bound == 0, connected == 0 || (nonBlocking && errno == EINPROGRESS) else {
            close(fd)
            return nil
        }
        return fd
    }
}
