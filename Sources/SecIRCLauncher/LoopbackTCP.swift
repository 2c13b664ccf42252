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

    /// A blocking HTTP/1.1 `POST path` of a JSON `body` to 127.0.0.1:`port` from `source`
    /// (`Connection: close`, 5 s to answer): the status, or nil.
    public static func post(from source: String, to port: UInt16, path: String, body: [UInt8]) -> Int? {
        guard let fd = connect(from: source, to: port) else { return nil }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let head = "POST \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: \(body.count)\r\n"
            + "Connection: close\r\n\r\n"
        let request = Array(head.utf8) + body
        var sent = 0
        while sent < request.count {
            let n = request[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { return nil }
            sent += n
        }
        var answer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 512)
        while answer.count < 12 {
            let n = recv(fd, &buffer, buffer.count, 0)
            guard n > 0 else { break }
            answer += buffer[0..<n]
        }
        // "HTTP/1.1 202 ..."
        guard answer.count >= 12, answer.starts(with: Array("HTTP/1.".utf8)) else { return nil }
        return Int(String(decoding: answer[9..<12], as: UTF8.self))
    }
}
