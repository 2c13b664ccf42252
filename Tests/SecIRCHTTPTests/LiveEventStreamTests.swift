import Foundation
@testable import SecIRCHTTP
import SecIRCLock
import Testing

/// Server-Sent Events over libmicrohttpd: suspended while idle, resumed by `send`, ended by
/// `close` or `stop()`.
@Suite("Live event streams", .serialized)
struct LiveEventStreamTests {
    /// The streams handlers created, in order.
    final class Streams: Sendable {
        let made = Locked<[HTTPEventStream]>([])
        var last: HTTPEventStream? { made.withLock { $0.last } }
    }

    static func makeRouter(_ streams: Streams) -> HTTPRouter {
        let router = HTTPRouter()
        router.get("/v1/events") { _ in
            let stream = HTTPEventStream(capacity: 16)
            streams.made.withLock { $0.append(stream) }
            return .eventStream(stream)
        }
        router.get("/v1/plain") { _ in .text("plain") }
        return router
    }

    static func eventCount(_ bytes: [UInt8]) -> Int {
        String(decoding: bytes, as: UTF8.self).components(separatedBy: "\n\n").count - 1
    }

    @Test("two events arrive in order, then stop() ends the response cleanly and promptly")
    func twoEventsThenStop() throws {
        let streams = Streams()
        let server = try startServer(Self.makeRouter(streams))
        let connection = try RawHTTPConnection(port: server.boundPort)
        try connection.send("GET /v1/events HTTP/1.1\r\nHost: x\r\n\r\n")
        let (status, headers) = try connection.readHead()
        #expect(status == 200)
        #expect(headers["content-type"] == "text/event-stream")
        #expect(headers["transfer-encoding"]?.lowercased() == "chunked")
        let stream = try #require(streams.last)

        stream.send(event: "message", data: "one", id: "1")
        stream.send(event: nil, data: "two\nlines")
        let received = try connection.readChunks { Self.eventCount($0) >= 2 }
        #expect(String(decoding: received, as: UTF8.self)
            == "id: 1\nevent: message\ndata: one\n\ndata: two\ndata: lines\n\n")

        let start = Date()
        server.stop()
        #expect(Date().timeIntervalSince(start) < 2)
        _ = try connection.readChunks { _ in false }
        #expect(connection.chunkedEnded)
        #expect(stream.isClosed)
    }

    @Test("stop() with an idle (suspended) stream returns promptly")
    func stopWhileSuspended() throws {
        let streams = Streams()
        let server = try startServer(Self.makeRouter(streams))
        var connections: [RawHTTPConnection] = []
        for _ in 0..<4 {
            let connection = try RawHTTPConnection(port: server.boundPort)
            try connection.send("GET /v1/events HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try connection.readHead().status == 200)
            connections.append(connection)
        }
        let start = Date()
        server.stop()
        #expect(Date().timeIntervalSince(start) < 2)
        for connection in connections {
            _ = try connection.readChunks { _ in false }
            #expect(connection.chunkedEnded)
        }
        #expect(streams.made.withLock { $0.allSatisfy(\.isClosed) })
    }

    @Test("stop() does not wait long for a client that does not read")
    func stopWithStalledClient() throws {
        let streams = Streams()
        let server = try startServer(Self.makeRouter(streams))
        let connection = try RawHTTPConnection(port: server.boundPort)
        try connection.send("GET /v1/events HTTP/1.1\r\nHost: x\r\n\r\n")
        _ = try connection.readHead()
        let stream = try #require(streams.last)
        let payload = String(repeating: "z", count: 16_384)
        for _ in 0..<1_000 { stream.send(event: nil, data: payload) }   // 16 MB: more than the socket buffers
        let start = Date()
        server.stop()
        #expect(Date().timeIntervalSince(start) < HTTPServer.streamDrainSeconds + 2)
        #expect(stream.droppedEvents > 0)
        #expect(stream.isClosed)
    }

    @Test("close() ends one stream; the connection then serves the next request")
    func closeThenReuse() throws {
        let streams = Streams()
        let server = try startServer(Self.makeRouter(streams))
        defer { server.stop() }
        let connection = try RawHTTPConnection(port: server.boundPort)
        try connection.send("GET /v1/events HTTP/1.1\r\nHost: x\r\n\r\n")
        _ = try connection.readHead()
        let stream = try #require(streams.last)
        stream.send(event: "last", data: "bye")
        stream.close()
        stream.send(event: "ignored", data: "after close")
        let received = try connection.readChunks { _ in false }
        #expect(connection.chunkedEnded)
        #expect(String(decoding: received, as: UTF8.self) == "event: last\ndata: bye\n\n")
        try connection.send("GET /v1/plain HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(try connection.readResponse().text == "plain")
    }

    @Test("many events from another thread while the client reads")
    func manyEvents() throws {
        let streams = Streams()
        let server = try startServer(Self.makeRouter(streams))
        defer { server.stop() }
        let connection = try RawHTTPConnection(port: server.boundPort)
        try connection.send("GET /v1/events HTTP/1.1\r\nHost: x\r\n\r\n")
        _ = try connection.readHead()
        let stream = try #require(streams.last)
        // A thread, not a task: this test blocks its own thread on the socket.
        let sender = Thread {
            for i in 0..<2_000 { stream.send(event: nil, data: "\(i)") }
            stream.close()
        }
        sender.start()
        let received = try connection.readChunks { _ in false }
        let events = String(decoding: received, as: UTF8.self).components(separatedBy: "\n\n").dropLast()
        // Slow reading may drop events (counted), never reorder or corrupt them.
        #expect(events.count + stream.droppedEvents == 2_000)
        let numbers = events.compactMap { Int($0.dropFirst("data: ".count)) }
        #expect(numbers.count == events.count)
        #expect(numbers == numbers.sorted())
        #expect(numbers.last == 1_999)
    }

    @Test("a client that went away closes its stream on the next write")
    func clientGone() async throws {
        let streams = Streams()
        let server = try startServer(Self.makeRouter(streams))
        defer { server.stop() }
        do {
            let connection = try RawHTTPConnection(port: server.boundPort)
            try connection.send("GET /v1/events HTTP/1.1\r\nHost: x\r\n\r\n")
            _ = try connection.readHead()
        } // closed here
        let stream = try #require(streams.last)
        let deadline = Date().addingTimeInterval(10)
        while !stream.isClosed && Date() < deadline {
            stream.send(event: nil, data: String(repeating: "x", count: 1000))
            await Task.yield()
        }
        #expect(stream.isClosed)
        #expect(try rawRequest(port: server.boundPort, "GET", "/v1/plain").text == "plain")
    }

    @Test("an idle stream gets heartbeat comments")
    func heartbeat() throws {
        let streams = Streams()
        let server = HTTPServer(configuration: HTTPServerConfiguration(eventStreamHeartbeatSeconds: 1),
                                router: Self.makeRouter(streams))
        try server.start()
        defer { server.stop() }
        let connection = try RawHTTPConnection(port: server.boundPort)
        try connection.send("GET /v1/events HTTP/1.1\r\nHost: x\r\n\r\n")
        _ = try connection.readHead()
        let received = try connection.readChunks { $0.count >= 3 }
        #expect(String(decoding: received, as: UTF8.self) == ":\n\n")
    }

    @Test("HEAD on an event stream route: headers only, stream closed")
    func head() throws {
        let streams = Streams()
        let server = try startServer(Self.makeRouter(streams))
        defer { server.stop() }
        let response = try rawRequest(port: server.boundPort, "HEAD", "/v1/events")
        #expect(response.status == 200)
        #expect(response.headers["content-type"] == "text/event-stream")
        #expect(streams.last?.isClosed == true)
    }
}
