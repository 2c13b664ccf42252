import Foundation

/// A small blocking HTTP/1.1 client for loopback daemons, over POSIX sockets: one request per
/// connection (`Connection: close`), Content-Length, chunked and close-delimited responses,
/// and a streaming reader for `text/event-stream` (``events(path:idleTimeout:)``). It is the
/// HTTP client of the `secirc` command line, of the launcher (relays, without a token), of the
/// integration tests and of the benchmarks. (The daemons fetch directories, possibly over
/// HTTPS, with URLSession.)
///
/// A value type holding only its configuration; every call opens its own connection, so one
/// client may be used from several threads.
public struct APIClient: Sendable {
    /// The base URL as given (for messages).
    public let baseURL: String
    /// The numeric address connected to.
    public let host: String
    /// The port connected to.
    public let port: UInt16
    /// Sent as `Authorization: Bearer <token>` when set.
    public var token: String?
    /// Seconds a request may wait for the daemon's answer.
    public var timeout: Double

    /// The default API address of `secirc-client` (config `api.listen`).
    public static let defaultURL = "http://127.0.0.1:6692"

    /// `baseURL` is `http://HOST:PORT` with HOST an IPv4 literal, `[IPv6]` or `localhost`.
    public init(baseURL: String, token: String? = nil, timeout: Double = 30) throws(APIError) {
        let trimmed = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        guard trimmed.lowercased().hasPrefix("http://") else { throw .invalidURL(baseURL) }
        let authority = trimmed.dropFirst("http://".count)
        guard !authority.contains("/"), !authority.contains("@") else { throw .invalidURL(baseURL) }
        var host: String
        let portText: Substring
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw .invalidURL(baseURL) }
            host = String(authority[authority.index(after: authority.startIndex)..<close])
            let rest = authority[authority.index(after: close)...]
            guard rest.hasPrefix(":") else { throw .invalidURL(baseURL) }
            portText = rest.dropFirst()
        } else {
            guard let colon = authority.lastIndex(of: ":") else { throw .invalidURL(baseURL) }
            host = String(authority[..<colon])
            portText = authority[authority.index(after: colon)...]
        }
        if host.lowercased() == "localhost" { host = "127.0.0.1" }
        guard let port = UInt16(portText), port > 0, Self.isNumericAddress(host) else { throw .invalidURL(baseURL) }
        self.baseURL = trimmed
        self.host = host
        self.port = port
        self.token = token
        self.timeout = timeout
    }

    private static func isNumericAddress(_ host: String) -> Bool {
        var v4 = in_addr(), v6 = in6_addr()
        return inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1
    }

    // MARK: Requests

    /// Sends one request and returns the response whatever its status. A `body` is sent with
    /// `contentType`; `headers` are added as they are (after Host, User-Agent, Accept, Connection,
    /// Authorization and the body's headers, which they should not repeat).
    public func send(_ method: String, _ path: String, body: [UInt8]? = nil, contentType: String = "application/json",
                     accept: String = "application/json", headers: [(String, String)] = []) throws(APIError) -> APIResponse {
        try send(raw: request(method, path, body: body, contentType: contentType, accept: accept, headers: headers))
    }

    /// Writes `bytes` as they are (a whole request, or only part of one, for probing how a
    /// server answers malformed or unfinished requests) and reads the response.
    public func send(raw bytes: [UInt8]) throws(APIError) -> APIResponse {
        let connection = try connect(timeout: timeout)
        try write(bytes, to: connection)
        var parser = HTTPResponseParser()
        let body = try read(from: connection, into: &parser, until: { $0.isComplete }, endIsTruncation: false)
        guard let head = parser.head else { throw .invalidResponse("no response head") }
        return APIResponse(head: head, body: body)
    }

    /// Feeds `parser` from `connection` until `done` says so or the server closes (an error
    /// when `endIsTruncation`); returns the body bytes read. Parse errors become `invalidResponse`.
    private func read(from connection: TCPConnection, into parser: inout HTTPResponseParser,
                      until done: (HTTPResponseParser) -> Bool, endIsTruncation: Bool) throws(APIError) -> [UInt8] {
        var body: [UInt8] = []
        do {
            while !done(parser) {
                let bytes = try receive(from: connection)
                if bytes.isEmpty {
                    try parser.finish()
                    if endIsTruncation { throw HTTPParseError.truncated }
                    break
                }
                body += try parser.consume(bytes)
            }
        } catch let error as HTTPParseError {
            throw .invalidResponse(error.description)
        } catch let error as APIError {
            throw error
        } catch {
            throw .invalidResponse("\(error)")
        }
        return body
    }

    /// Sends one request without a body; returns the body of a 2xx answer, or throws the API's
    /// error.
    @discardableResult
    public func call(_ method: String, _ path: String) throws(APIError) -> [UInt8] {
        try succeeded(send(method, path))
    }

    /// Sends one request with `json` as its body (``AddContactRequest``, ``SendTextRequest``,
    /// ...); returns the body of a 2xx answer, or throws the API's error.
    @discardableResult
    public func call(_ method: String, _ path: String, json: some Encodable) throws(APIError) -> [UInt8] {
        let body: [UInt8]
        do {
            body = try APIJSON.encode(json)
        } catch {
            throw .invalidResponse("cannot encode the request: \(error)")
        }
        return try succeeded(send(method, path, body: body))
    }

    /// The body of a 2xx `response`; the API's error for any other.
    private func succeeded(_ response: APIResponse) throws(APIError) -> [UInt8] {
        guard (200..<300).contains(response.status) else { throw Self.error(from: response) }
        return response.body
    }

    /// Sends one request without a body and decodes the JSON of a 2xx answer.
    public func decode<T: Decodable>(_ type: T.Type, _ path: String, method: String = "GET") throws(APIError) -> T {
        try Self.decode(type, from: call(method, path))
    }

    /// Sends one request with `json` as its body and decodes the JSON of a 2xx answer.
    public func decode<T: Decodable>(_ type: T.Type, _ path: String, method: String, json: some Encodable) throws(APIError) -> T {
        try Self.decode(type, from: call(method, path, json: json))
    }

    /// Decodes JSON bytes, as an ``APIError/invalidResponse(_:)`` when they do not fit.
    public static func decode<T: Decodable>(_ type: T.Type, from body: [UInt8]) throws(APIError) -> T {
        do {
            return try APIJSON.decode(type, from: body)
        } catch {
            let text = String(decoding: body.prefix(200), as: UTF8.self)
            throw .invalidResponse("\(error) in \(text)")
        }
    }

    /// The error a non-2xx response stands for: its ``ErrorBody``, or the status and the start
    /// of the body when the body is not that.
    public static func error(from response: APIResponse) -> APIError {
        if let body = try? APIJSON.decode(ErrorBody.self, from: response.body) {
            return .api(status: response.status, code: body.error.code, message: body.error.message)
        }
        let text = String(decoding: response.body.prefix(200), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return .api(status: response.status, code: "http_\(response.status)",
                    message: text.isEmpty ? response.head.reason : text)
    }

    // MARK: Event stream

    /// Opens `GET path` as an event stream (`/v1/events`). A non-200 answer throws its error.
    /// `idleTimeout` bounds the wait for any byte (the daemon sends a heartbeat every 15 s).
    public func events(path: String = "/v1/events", idleTimeout: Double = 60) throws(APIError) -> EventStream {
        let connection = try connect(timeout: idleTimeout)
        try write(request("GET", path, body: nil, contentType: "", accept: "text/event-stream", headers: []), to: connection)
        var parser = HTTPResponseParser(maxBodyBytes: .max)
        let early = try read(from: connection, into: &parser, until: { $0.head != nil }, endIsTruncation: true)
        guard let head = parser.head else { throw .invalidResponse("no response head") }
        guard head.status == 200 else {
            // Read the rest of the (small) error body.
            var rest = early
            while !parser.isComplete, let bytes = try? receive(from: connection), !bytes.isEmpty {
                guard let more = try? parser.consume(bytes) else { break }
                rest += more
            }
            throw Self.error(from: APIResponse(head: head, body: rest))
        }
        return EventStream(connection: connection, parser: parser, initialBody: early, client: self, idleTimeout: idleTimeout)
    }

    // MARK: Plumbing

    private func request(_ method: String, _ path: String, body: [UInt8]?, contentType: String, accept: String,
                         headers: [(String, String)]) -> [UInt8] {
        var head = "\(method) \(path) HTTP/1.1\r\n"
        head += "Host: \(host.contains(":") ? "[\(host)]" : host):\(port)\r\n"
        head += "User-Agent: secirc\r\nAccept: \(accept)\r\nConnection: close\r\n"
        if let token { head += "Authorization: Bearer \(token)\r\n" }
        if let body {
            head += "Content-Type: \(contentType)\r\nContent-Length: \(body.count)\r\n"
        } else if ["POST", "PUT", "PATCH"].contains(method) {
            head += "Content-Length: 0\r\n"
        }
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        head += "\r\n"
        return Array(head.utf8) + (body ?? [])
    }

    func connect(timeout: Double) throws(APIError) -> TCPConnection {
        do {
            return try TCPConnection(host: host, port: port, timeout: timeout)
        } catch {
            if error.errno == ECONNREFUSED { throw .daemonNotRunning(url: baseURL) }
            throw .connection(url: baseURL, reason: error.description)
        }
    }

    private func write(_ bytes: [UInt8], to connection: TCPConnection) throws(APIError) {
        do {
            try connection.send(bytes)
        } catch {
            if error.errno == EAGAIN || error.errno == EWOULDBLOCK { throw .timedOut(url: baseURL, seconds: timeout) }
            throw .connection(url: baseURL, reason: error.description)
        }
    }

    func receive(from connection: TCPConnection, timeout: Double? = nil) throws(APIError) -> [UInt8] {
        do {
            return try connection.receive()
        } catch {
            if error.errno == EAGAIN || error.errno == EWOULDBLOCK { throw .timedOut(url: baseURL, seconds: timeout ?? self.timeout) }
            if error.errno == ECONNRESET { return [] }
            throw .connection(url: baseURL, reason: error.description)
        }
    }
}
