import Foundation
import Glibc
import SecIRCLock

/// A request as ``TestHTTPServer`` read it.
struct TestRequest: Sendable {
    var method: String
    var path: String
    /// Header names lower-cased.
    var headers: [String: String]
    var body: [UInt8]
}

/// A tiny blocking HTTP server on 127.0.0.1:0 for the APIClient tests: each connection's
/// request is read (head and Content-Length body), handed to `handler`, and the byte pieces
/// the handler returns are written one `send` each, so tests control how responses are split.
/// With `hold`, the connection stays open after the pieces until ``release()`` or ``stop()``.
final class TestHTTPServer: Sendable {
    let port: UInt16
    private let listener: Int32
    private let requests = Locked<[TestRequest]>([])
    private let held = Locked<[Int32]>([])
    private let finished = DispatchSemaphore(value: 0)

    init(hold: Bool = false, handler: @escaping @Sendable (TestRequest) -> [[UInt8]]) throws {
        listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let fd = listener
        guard withUnsafePointer(to: &address, { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }) == 0,
              listen(fd, 16) == 0
        else { throw POSIXError(.EADDRINUSE) }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        port = UInt16(bigEndian: address.sin_port)
        let thread = Thread { [self] in
            while true {
                let connection = accept(listener, nil, nil)
                if connection < 0 {
                    if errno == EINTR { continue }
                    break
                }
                guard let request = TestHTTPServer.readRequest(connection) else {
                    close(connection)
                    continue
                }
                requests.withLock { $0.append(request) }
                for piece in handler(request) {
                    _ = piece.withUnsafeBytes { send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                }
                if hold { held.withLock { $0.append(connection) } } else { close(connection) }
            }
            finished.signal()
        }
        thread.start()
    }

    var url: String { "http://127.0.0.1:\(port)" }

    /// The requests read so far.
    var received: [TestRequest] { requests.withLock { $0 } }

    /// Closes the connections kept open by `hold`.
    func release() {
        for fd in held.withLock({ list in defer { list.removeAll() }; return list }) { close(fd) }
    }

    /// Stops accepting, closes held connections and waits for the accept thread.
    func stop() {
        release()
        shutdown(listener, Int32(SHUT_RDWR))
        finished.wait()
        close(listener)
    }

    private static func readRequest(_ fd: Int32) -> TestRequest? {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        func headEnd() -> Int? {
            guard bytes.count >= 4 else { return nil }
            return (0...(bytes.count - 4)).first { bytes[$0] == 13 && bytes[$0 + 1] == 10 && bytes[$0 + 2] == 13 && bytes[$0 + 3] == 10 }
        }
        var end = headEnd()
        while end == nil {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { return nil }
            bytes += buffer[..<count]
            end = headEnd()
        }
        guard let end else { return nil }
        let lines = String(decoding: bytes[..<end], as: UTF8.self).components(separatedBy: "\r\n")
        let requestLine = lines[0].split(separator: " ")
        guard requestLine.count == 3 else { return nil }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        var body = Array(bytes[(end + 4)...])
        let length = Int(headers["content-length"] ?? "0") ?? 0
        while body.count < length {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { return nil }
            body += buffer[..<count]
        }
        return TestRequest(method: String(requestLine[0]), path: String(requestLine[1]), headers: headers, body: body)
    }
}

/// Response bytes for the handlers.
enum Reply {
    static func json(_ status: Int, _ body: String, reason: String = "OK") -> [UInt8] {
        Array("HTTP/1.1 \(status) \(reason)\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)".utf8)
    }

    static func chunkedHead(_ status: Int = 200, contentType: String = "application/json") -> [UInt8] {
        Array("HTTP/1.1 \(status) OK\r\nContent-Type: \(contentType)\r\nTransfer-Encoding: chunked\r\n\r\n".utf8)
    }

    static func chunk(_ text: String) -> [UInt8] {
        Array("\(String(text.utf8.count, radix: 16))\r\n\(text)\r\n".utf8)
    }

    static let lastChunk = Array("0\r\n\r\n".utf8)
}
