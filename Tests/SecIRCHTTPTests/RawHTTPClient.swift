#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// A blocking TCP client for live tests: sends exact bytes (including malformed ones) and
/// parses responses. Every read waits at most until the connection's deadline; nothing sleeps.
final class RawHTTPConnection {
    struct Timeout: Error, CustomStringConvertible {
        let description = "no answer before the deadline"
    }

    struct SocketError: Error, CustomStringConvertible {
        let description: String
    }

    struct Response {
        var status: Int
        /// Lowercased names.
        var headers: [String: String]
        var body: [UInt8]
        var text: String { String(decoding: body, as: UTF8.self) }
    }

    let descriptor: Int32
    let deadline: Date
    private(set) var buffer: [UInt8] = []
    private(set) var sawEOF = false

    /// `source`: an IPv4 address to connect from (another loopback address, 127.0.0.2, is a
    /// second peer to the server).
    init(port: UInt16, host: String = "127.0.0.1", source: String? = nil, timeout: TimeInterval = 10) throws {
        deadline = Date().addingTimeInterval(timeout)
        let isIPv6 = host.contains(":")
        descriptor = socket(isIPv6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw SocketError(description: "socket: \(errno)") }
        var one: Int32 = 1
        setsockopt(descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        if let source {
            var local = sockaddr_in()
            local.sin_family = sa_family_t(AF_INET)
            inet_pton(AF_INET, source, &local.sin_addr)
            let bound = withUnsafePointer(to: &local) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard bound == 0 else {
                let reason = String(cString: strerror(errno))
                close(descriptor)
                throw SocketError(description: "bind \(source): \(reason)")
            }
        }
        let connected: Int32
        if isIPv6 {
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = port.bigEndian
            inet_pton(AF_INET6, host, &address.sin6_addr)
            connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Self.connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in6>.size), timeout: timeout)
                }
            }
        } else {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = port.bigEndian
            inet_pton(AF_INET, host, &address.sin_addr)
            connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Self.connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size), timeout: timeout)
                }
            }
        }
        guard connected == 0 else {
            let reason = String(cString: strerror(errno))
            close(descriptor)
            throw SocketError(description: "connect: \(reason)")
        }
    }

    deinit { close(descriptor) }

    /// connect(2) that gives up after `timeout` (a full backlog would otherwise block for
    /// minutes); 0 or -1 with errno set, like connect.
    private static func connect(_ fd: Int32, _ address: UnsafePointer<sockaddr>, _ length: socklen_t,
                                timeout: TimeInterval) -> Int32 {
        let flags = fcntl(fd, F_GETFL)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
        defer { _ = fcntl(fd, F_SETFL, flags) }
        if Glibc.connect(fd, address, length) == 0 { return 0 }
        guard errno == EINPROGRESS else { return -1 }
        var pending = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
        guard poll(&pending, 1, Int32(timeout * 1000)) == 1 else {
            errno = ETIMEDOUT
            return -1
        }
        var error: Int32 = 0
        var size = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size)
        if error != 0 {
            errno = error
            return -1
        }
        return 0
    }

    func send(_ text: String) throws { try send(Array(text.utf8)) }

    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw SocketError(description: "send: \(String(cString: strerror(errno)))") }
            offset += n
        }
    }

    /// Reads more bytes into `buffer`; false at end of stream or on reset.
    @discardableResult
    func receiveMore() throws -> Bool {
        let remaining = deadline.timeIntervalSinceNow
        guard remaining > 0 else { throw Timeout() }
        var timeout = timeval(tv_sec: Int(remaining), tv_usec: Int((remaining - Double(Int(remaining))) * 1e6))
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if n > 0 {
                buffer += chunk[0..<n]
                return true
            }
            if n == 0 || errno == ECONNRESET { sawEOF = true; return false }
            if errno == EINTR { continue }
            if errno == EAGAIN || errno == EWOULDBLOCK { throw Timeout() }
            throw SocketError(description: "recv: \(String(cString: strerror(errno)))")
        }
    }

    /// Waits until `condition(buffer)` holds; false if the stream ended first.
    func receive(until condition: ([UInt8]) -> Bool) throws -> Bool {
        while !condition(buffer) {
            guard try receiveMore() else { return condition(buffer) }
        }
        return true
    }

    /// Waits (at most until the deadline) for the server to end the stream; true when it did,
    /// false when it answered something instead.
    func awaitClose() throws -> Bool {
        while try receiveMore() {}
        return buffer.isEmpty
    }

    /// Reads to end of stream.
    func receiveAll() throws -> [UInt8] {
        while try receiveMore() {}
        return buffer
    }

    /// Reads a status line and headers (names lowercased) and removes them from the buffer.
    func readHead() throws -> (status: Int, headers: [String: String]) {
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        guard try receive(until: { $0.firstRange(of: separator) != nil }),
              let end = buffer.firstRange(of: separator) else {
            throw SocketError(description: "connection closed before a response header")
        }
        let head = String(decoding: buffer[..<end.lowerBound], as: UTF8.self)
        buffer.removeSubrange(..<end.upperBound)
        var lines = head.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst().split(separator: " ")
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else {
            throw SocketError(description: "bad status line: \(head)")
        }
        var headers: [String: String] = [:]
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return (status, headers)
    }

    /// Parses one response (Content-Length, chunked, or to end of stream) and removes it from
    /// the buffer.
    func readResponse(isHead: Bool = false) throws -> Response {
        let (status, headers) = try readHead()
        var body: [UInt8] = []
        if isHead || status == 204 || status == 304 {
        } else if let length = headers["content-length"].flatMap(Int.init) {
            guard try receive(until: { $0.count >= length }) else { throw SocketError(description: "short body") }
            body = Array(buffer[..<length])
            buffer.removeSubrange(..<length)
        } else if headers["transfer-encoding"]?.lowercased() == "chunked" {
            body = try readChunks(until: { _ in false })
        } else {
            body = try receiveAll()
            buffer.removeAll()
        }
        return Response(status: status, headers: headers, body: body)
    }

    /// Decodes chunked data until the last chunk or until `enough(decoded)`; returns what was
    /// decoded. Unfinished chunk data stays buffered.
    private var decoded: [UInt8] = []
    private(set) var chunkedEnded = false

    func readChunks(until enough: ([UInt8]) -> Bool) throws -> [UInt8] {
        let crlf: [UInt8] = Array("\r\n".utf8)
        while !chunkedEnded && !enough(decoded) {
            guard let lineEnd = buffer.firstRange(of: crlf) else {
                guard try receiveMore() else { break }
                continue
            }
            let sizeText = String(decoding: buffer[..<lineEnd.lowerBound], as: UTF8.self)
            guard let size = Int(sizeText.split(separator: ";").first ?? "", radix: 16) else {
                throw SocketError(description: "bad chunk size '\(sizeText)'")
            }
            let needed = lineEnd.upperBound + size + 2
            if buffer.count < needed {
                guard try receiveMore() else { break }
                continue
            }
            decoded += buffer[lineEnd.upperBound..<(lineEnd.upperBound + size)]
            buffer.removeSubrange(..<needed)
            if size == 0 { chunkedEnded = true }
        }
        return decoded
    }
}

/// One request on a fresh connection (`Connection: close`).
func rawRequest(port: UInt16, _ method: String, _ path: String, headers: [String: String] = [:],
                body: [UInt8] = []) throws -> RawHTTPConnection.Response {
    let connection = try RawHTTPConnection(port: port)
    var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
    for (name, value) in headers { head += "\(name): \(value)\r\n" }
    if !body.isEmpty || method == "POST" || method == "PUT" { head += "Content-Length: \(body.count)\r\n" }
    try connection.send(Array((head + "\r\n").utf8) + body)
    return try connection.readResponse(isHead: method == "HEAD")
}
