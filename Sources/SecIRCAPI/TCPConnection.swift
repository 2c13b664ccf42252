import Glibc

/// One blocking TCP connection to a numeric address (the command line talks to loopback
/// daemons only). Owns its descriptor and closes it in `deinit`.
///
/// `receive` and `send` are for one thread; ``shutdown()`` may be called from any thread and
/// wakes a blocked `receive` (it returns end of stream).
final class TCPConnection: @unchecked Sendable {
    // @unchecked: `descriptor` never changes; shutdown(2) on it is safe from any thread.
    private let descriptor: Int32

    /// Connects to `host` (an IPv4 or IPv6 literal) and `port`; `timeout` bounds every later
    /// receive (nil: wait forever).
    init(host: String, port: UInt16, timeout: Double?) throws(SystemCallError) {
        var storage = sockaddr_storage()
        let length: socklen_t
        let family: Int32
        if host.contains(":") {
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = port.bigEndian
            guard inet_pton(AF_INET6, host, &address.sin6_addr) == 1 else { throw SystemCallError(call: "inet_pton", errno: EINVAL) }
            withUnsafeBytes(of: address) { bytes in
                withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: bytes) }
            }
            length = socklen_t(MemoryLayout<sockaddr_in6>.size)
            family = AF_INET6
        } else {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = port.bigEndian
            guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else { throw SystemCallError(call: "inet_pton", errno: EINVAL) }
            withUnsafeBytes(of: address) { bytes in
                withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: bytes) }
            }
            length = socklen_t(MemoryLayout<sockaddr_in>.size)
            family = AF_INET
        }
        descriptor = try Syscall.call("socket") { socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0) }
        do throws(SystemCallError) {
            var one: Int32 = 1
            _ = setsockopt(descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            if let timeout {
                var interval = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - timeout.rounded(.down)) * 1_000_000))
                try Syscall.call("setsockopt") {
                    setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &interval, socklen_t(MemoryLayout<timeval>.size))
                }
                try Syscall.call("setsockopt") {
                    setsockopt(descriptor, SOL_SOCKET, SO_SNDTIMEO, &interval, socklen_t(MemoryLayout<timeval>.size))
                }
            }
            // connect(2) interrupted by a signal keeps connecting; retrying it would give
            // EALREADY, so an interrupted connect is waited for with poll instead.
            let result = withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, length) }
            }
            if result != 0 {
                let code = errno
                guard code == EINTR else { throw SystemCallError(call: "connect", errno: code) }
                try waitForConnect()
            }
        } catch {
            close(descriptor)
            throw error
        }
    }

    deinit { close(descriptor) }

    private func waitForConnect() throws(SystemCallError) {
        var entry = pollfd(fd: descriptor, events: Int16(POLLOUT), revents: 0)
        try Syscall.call("poll") { poll(&entry, 1, -1) }
        var code: Int32 = 0
        var size = socklen_t(MemoryLayout<Int32>.size)
        try Syscall.call("getsockopt") { getsockopt(descriptor, SOL_SOCKET, SO_ERROR, &code, &size) }
        if code != 0 { throw SystemCallError(call: "connect", errno: code) }
    }

    /// Sends all of `bytes`.
    func send(_ bytes: [UInt8]) throws(SystemCallError) {
        var offset = 0
        while offset < bytes.count {
            let sent = try Syscall.call("send") {
                bytes.withUnsafeBytes { buffer in
                    Glibc.send(descriptor, buffer.baseAddress! + offset, buffer.count - offset, Int32(MSG_NOSIGNAL))
                }
            }
            offset += sent
        }
    }

    /// Up to `limit` bytes; empty at end of stream. A receive timeout throws `EAGAIN`.
    func receive(limit: Int = 65_536) throws(SystemCallError) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: limit)
        let count = try Syscall.call("recv") {
            buffer.withUnsafeMutableBytes { raw in recv(descriptor, raw.baseAddress, raw.count, 0) }
        }
        buffer.removeSubrange(count...)
        return buffer
    }

    /// Ends both directions; a `receive` blocked in another thread returns end of stream.
    func shutdown() {
        _ = Glibc.shutdown(descriptor, Int32(SHUT_RDWR))
    }
}
