#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
@testable import SecIRCHTTP
import Testing

/// The server's own limits over real sockets on 127.0.0.1 (and 127.0.0.2 as a second peer):
/// connections per address, the header deadline against slowloris, and the event-stream cap.
@Suite("Live connection limits", .serialized)
struct LiveLimitsTests {
    static func router(_ streams: LiveEventStreamTests.Streams) -> HTTPRouter {
        let router = HTTPRouter()
        router.get("/healthz") { _ in .json(["status": "ok"]) }
        router.get("/v1/events") { _ in
            let stream = HTTPEventStream(capacity: 4)
            streams.made.withLock { $0.append(stream) }
            return .eventStream(stream)
        }
        return router
    }

    static func start(streams: LiveEventStreamTests.Streams = .init(), _ configure: (inout HTTPServerConfiguration) -> Void) throws -> HTTPServer {
        var configuration = HTTPServerConfiguration(host: "127.0.0.1", port: 0)
        configure(&configuration)
        let server = HTTPServer(configuration: configuration, router: router(streams))
        try server.start()
        return server
    }

    /// A connection that sent the start of a request and no more.
    static func halfOpen(_ port: UInt16, source: String? = nil) throws -> RawHTTPConnection {
        let connection = try RawHTTPConnection(port: port, source: source)
        try connection.send("GET /healthz HTTP/1.1\r\nHost: x\r\n")
        return connection
    }

    static func healthz(_ port: UInt16, source: String? = nil) throws -> Int {
        let connection = try RawHTTPConnection(port: port, source: source)
        try connection.send("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        return try connection.readResponse().status
    }

    @Test("one address past its quota is closed on arrival; another address is served meanwhile; a freed slot serves again")
    func perAddressLimit() throws {
        let server = try Self.start { $0.maxConnectionsPerIP = 4; $0.maxConnections = 16 }
        defer { server.stop() }
        let port = server.boundPort
        var held = try (0..<4).map { _ in try Self.halfOpen(port) }
        #expect(awaitCondition { server.limitCounters.openConnections == 4 })

        let refused = try RawHTTPConnection(port: port, timeout: 5)
        try? refused.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(try refused.awaitClose())
        #expect(server.limitCounters.refusedPerIP == 1)

        // The full quota of half-open connections does not keep anyone else out.
        #expect(try Self.healthz(port, source: "127.0.0.2") == 200)

        held.removeLast()
        #expect(awaitCondition { server.limitCounters.openConnections == 3 })
        #expect(try Self.healthz(port) == 200)
        #expect(server.limitCounters.refusedPerIP == 1)
        #expect(held.count == 3)
    }

    @Test("at the total limit a new connection waits in the listen backlog and is served once a slot frees")
    func totalLimit() throws {
        let server = try Self.start { $0.threads = 1; $0.maxConnectionsPerIP = 0; $0.maxConnections = 3 }
        defer { server.stop() }
        var held = try (0..<3).map { _ in try Self.halfOpen(server.boundPort) }
        #expect(awaitCondition { server.limitCounters.openConnections == 3 })
        let waiting = try RawHTTPConnection(port: server.boundPort, timeout: 0.5)
        try waiting.send("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        #expect(throws: RawHTTPConnection.Timeout.self) { try waiting.receiveMore() }

        held.removeFirst()
        let served = try RawHTTPConnection(port: server.boundPort)
        try served.send("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        #expect(try served.readResponse().status == 200)
        #expect(server.limitCounters.openConnections <= 3)
    }

    /// Sends `bytes` one at a time, one every `gap` seconds, watching for the server to close
    /// the connection meanwhile (the wait between bytes is that watch). The seconds from the
    /// first byte to the close; nil if every byte went out.
    static func drip(_ bytes: [UInt8], on connection: RawHTTPConnection, gap: Double) -> Double? {
        let start = ContinuousClock.now
        for byte in bytes {
            let sent = [byte].withUnsafeBytes { send(connection.descriptor, $0.baseAddress, 1, Int32(MSG_NOSIGNAL)) }
            var watch = pollfd(fd: connection.descriptor, events: Int16(POLLIN), revents: 0)
            let ready = poll(&watch, 1, Int32(gap * 1000))
            var scratch = [UInt8](repeating: 0, count: 512)
            let closed = sent < 0 || (ready == 1 && scratch.withUnsafeMutableBytes { recv(connection.descriptor, $0.baseAddress, $0.count, 0) } <= 0)
            if closed {
                let elapsed = ContinuousClock.now - start
                return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            }
        }
        return nil
    }

    @Test("slowloris: headers sent a byte at a time are cut off at the deadline, not kept alive by the idle timeout")
    func headerDeadline() throws {
        let server = try Self.start { $0.headerTimeoutSeconds = 0.5; $0.connectionTimeoutSeconds = 2 }
        defer { server.stop() }
        let connection = try RawHTTPConnection(port: server.boundPort)
        let endless = Array("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Padding: ".utf8) + [UInt8](repeating: UInt8(ascii: "a"), count: 200)
        // A byte every 0.1 s: never idle for the 2 s idle timeout, and would take 24 s to finish.
        let closedAfter = try #require(Self.drip(endless, on: connection, gap: 0.1))
        #expect(closedAfter >= 0.4)
        #expect(closedAfter < 1.9)
        #expect(server.limitCounters.closedHeaderTimeout == 1)

        // A prompt request is untouched, and so is a kept-alive connection between requests.
        let prompt = try RawHTTPConnection(port: server.boundPort)
        for _ in 0..<2 {
            try prompt.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try prompt.readResponse().status == 200)
        }
        #expect(server.limitCounters.closedHeaderTimeout == 1)
    }

    @Test("event stream N+1: JSON 503 too_many_event_streams with Retry-After; served again once one closes")
    func eventStreamCap() throws {
        let streams = LiveEventStreamTests.Streams()
        let server = try Self.start(streams: streams) { $0.maxEventStreams = 2 }
        defer { server.stop() }
        var open: [RawHTTPConnection] = []
        for _ in 0..<2 {
            let connection = try RawHTTPConnection(port: server.boundPort)
            try connection.send("GET /v1/events HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try connection.readHead().status == 200)
            open.append(connection)
        }
        let refused = try RawHTTPConnection(port: server.boundPort)
        try refused.send("GET /v1/events HTTP/1.1\r\nHost: x\r\n\r\n")
        let response = try refused.readResponse()
        #expect(response.status == 503)
        #expect(response.headers["content-type"] == "application/json")
        #expect(response.headers["retry-after"] == "5")
        #expect(response.text == #"{"error":{"code":"too_many_event_streams","message":"2 event streams are open, the most this server allows; retry later"}}"#)
        #expect(server.limitCounters.refusedEventStreams == 1)
        // Other routes are served on the same connection meanwhile.
        try refused.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(try refused.readResponse().status == 200)

        // A closed stream frees its place once its response has ended.
        streams.made.withLock { $0[0] }.close()
        _ = try open[0].readChunks { _ in false }
        #expect(open[0].chunkedEnded)
        let servedAgain = try awaitCondition {
            let again = try RawHTTPConnection(port: server.boundPort)
            try again.send("GET /v1/events HTTP/1.1\r\nHost: x\r\n\r\n")
            return try again.readHead().status == 200
        }
        #expect(servedAgain)
    }

    @Test("limits are validated: the per-address limit below the total, a positive header deadline and stream cap")
    func validation() {
        for bad in [HTTPServerConfiguration(maxConnections: 8, maxConnectionsPerIP: 8),
                    HTTPServerConfiguration(maxConnectionsPerIP: -1),
                    HTTPServerConfiguration(headerTimeoutSeconds: 0),
                    HTTPServerConfiguration(maxEventStreams: 0)] {
            #expect(throws: HTTPServerError.self) { try HTTPServer(configuration: bad, router: HTTPRouter()).start() }
        }
        #expect(throws: Never.self) { try HTTPServerConfiguration(maxConnectionsPerIP: 0).validate() }
    }
}
