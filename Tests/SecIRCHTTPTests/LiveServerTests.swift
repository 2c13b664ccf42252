import Glibc
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import SecIRCCrypto
@testable import SecIRCHTTP
import SecIRCLock
import Testing

/// libmicrohttpd on 127.0.0.1:0, driven by URLSession and by a raw socket client.
@Suite("Live server", .serialized)
struct LiveServerTests {
    struct Greeting: Codable, Equatable { var hello: String; var count: Int }

    static func makeRouter() -> HTTPRouter {
        let router = HTTPRouter()
        router.get("/v1/greeting") { _ in .json(Greeting(hello: "world", count: 2)) }
        router.post("/v1/echo") { request in
            let greeting = try request.decodeJSON(Greeting.self)
            return .json(Greeting(hello: greeting.hello.uppercased(), count: greeting.count + 1), status: 201)
        }
        router.post("/v1/size") { request in .text("\(request.body.count)") }
        router.get("/v1/query") { request in .json(request.query) }
        router.get("/v1/peers/:id") { request in .text(request.pathParameters["id"] ?? "") }
        router.get("/v1/headers") { _ in
            HTTPResponse(status: 200, headers: [("Content-Length", "1"), ("connection", "close"), ("X-Split", "a\r\nX-Injected: 1"),
                                                ("Bad Name", "x"), ("X-Fine", "yes")], body: Array("hello".utf8))
        }
        return router
    }

    @Test("GET JSON through URLSession")
    func getJSON() async throws {
        let server = try startServer(Self.makeRouter())
        defer { server.stop() }
        let url = URL(string: "http://127.0.0.1:\(server.boundPort)/v1/greeting")!
        let (data, response) = try await URLSession.shared.data(from: url)
        let http = try #require(response as? HTTPURLResponse)
        #expect(http.statusCode == 200)
        #expect(http.value(forHTTPHeaderField: "Content-Type") == "application/json")
        #expect(try JSONDecoder().decode(Greeting.self, from: data) == Greeting(hello: "world", count: 2))
    }

    @Test("POST with a JSON body through URLSession")
    func postJSON() async throws {
        let server = try startServer(Self.makeRouter())
        defer { server.stop() }
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(server.boundPort)/v1/echo")!)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = Data(#"{"hello":"abc","count":41}"#.utf8)
        let (data, response) = try await URLSession.shared.data(for: request)
        #expect((response as? HTTPURLResponse)?.statusCode == 201)
        #expect(try JSONDecoder().decode(Greeting.self, from: data) == Greeting(hello: "ABC", count: 42))
    }

    @Test("a body in many TCP segments is collected whole; invalid JSON is a 400 JSON error")
    func segmentedBody() throws {
        let server = try startServer(Self.makeRouter())
        defer { server.stop() }
        let connection = try RawHTTPConnection(port: server.boundPort)
        let body = [UInt8](repeating: UInt8(ascii: "x"), count: 60_000)
        try connection.send("POST /v1/size HTTP/1.1\r\nHost: x\r\nContent-Length: \(body.count)\r\n\r\n")
        for start in stride(from: 0, to: body.count, by: 7_000) {
            try connection.send(Array(body[start..<min(start + 7_000, body.count)]))
        }
        let response = try connection.readResponse()
        #expect(response.status == 200)
        #expect(response.text == "60000")
        // Same connection (keep-alive): malformed JSON.
        try connection.send("POST /v1/echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5\r\n\r\n{\"a\":")
        let bad = try connection.readResponse()
        #expect(bad.status == 400)
        #expect(bad.text.hasPrefix(#"{"error":{"code":"invalid_json","message":"#))
    }

    @Test("a JSON route answers 415 JSON to a form-encoded body, and takes the same bytes as JSON")
    func mediaType() throws {
        let server = try startServer(Self.makeRouter())
        defer { server.stop() }
        let body = Array(#"{"hello":"abc","count":1}"#.utf8)
        let form = try rawRequest(port: server.boundPort, "POST", "/v1/echo",
                                  headers: ["Content-Type": "application/x-www-form-urlencoded"], body: body)
        #expect(form.status == 415)
        #expect(form.headers["content-type"] == "application/json")
        #expect(form.text.hasPrefix(#"{"error":{"code":"unsupported_media_type","message":"#))
        let json = try rawRequest(port: server.boundPort, "POST", "/v1/echo",
                                  headers: ["Content-Type": "application/json; charset=utf-8"], body: body)
        #expect(json.status == 201)
    }

    @Test("Content-Length over the limit: 413 JSON before the body is sent")
    func declaredTooLarge() throws {
        let server = try startServer(Self.makeRouter(), maxBodyBytes: 1000)
        defer { server.stop() }
        let connection = try RawHTTPConnection(port: server.boundPort)
        try connection.send("POST /v1/size HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n")
        let response = try connection.readResponse()
        #expect(response.status == 413)
        #expect(response.text == #"{"error":{"code":"payload_too_large","message":"request body larger than 1000 bytes"}}"#)
    }

    @Test("a body at the limit is accepted; one byte more is 413")
    func limitEdge() throws {
        let server = try startServer(Self.makeRouter(), maxBodyBytes: 1000)
        defer { server.stop() }
        let atLimit = try rawRequest(port: server.boundPort, "POST", "/v1/size", body: [UInt8](repeating: 1, count: 1000))
        #expect(atLimit.status == 200)
        #expect(atLimit.text == "1000")
        let over = try rawRequest(port: server.boundPort, "POST", "/v1/size", body: [UInt8](repeating: 1, count: 1001))
        #expect(over.status == 413)
    }

    @Test("a path with a larger limit takes a larger declared body; others keep the server's")
    func pathBodyLimits() throws {
        var configuration = HTTPServerConfiguration(host: "127.0.0.1", port: 0, maxBodyBytes: 1000)
        configuration.bodyLimits = ["/v1/size": 200_000]
        let router = Self.makeRouter()
        router.post("/v1/other") { request in .text("\(request.body.count)") }
        let server = HTTPServer(configuration: configuration, router: router)
        try server.start()
        defer { server.stop() }
        let large = try rawRequest(port: server.boundPort, "POST", "/v1/size", body: [UInt8](repeating: 1, count: 200_000))
        #expect(large.status == 200 && large.text == "200000")
        let over = try rawRequest(port: server.boundPort, "POST", "/v1/size", body: [UInt8](repeating: 1, count: 200_001))
        #expect(over.status == 413 && over.text.contains("larger than 200000 bytes"))
        let other = try rawRequest(port: server.boundPort, "POST", "/v1/other", body: [UInt8](repeating: 1, count: 1001))
        #expect(other.status == 413 && other.text.contains("larger than 1000 bytes"))
        // Chunked, the larger limit does not apply (a large body must declare its length).
        let connection = try RawHTTPConnection(port: server.boundPort)
        try connection.send("POST /v1/size HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        let chunk = String(repeating: "y", count: 600)
        try connection.send("258\r\n\(chunk)\r\n258\r\n\(chunk)\r\n0\r\n\r\n")
        #expect(try connection.readResponse().status == 413)
    }

    @Test("large bodies arriving at once are bounded: one more is 503 busy before its body")
    func largeBodySlots() throws {
        var configuration = HTTPServerConfiguration(host: "127.0.0.1", port: 0, maxBodyBytes: 1000)
        configuration.bodyLimits = ["/v1/size": 200_000]
        configuration.largeBodySlots = 1
        let server = HTTPServer(configuration: configuration, router: Self.makeRouter())
        try server.start()
        defer { server.stop() }
        // The first holds the one slot while its body trickles in.
        let slow = try RawHTTPConnection(port: server.boundPort)
        try slow.send("POST /v1/size HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n" + String(repeating: "a", count: 10))
        // Its headers are read on a server thread of their own: wait until it holds the slot
        // (a probe sent earlier could take the slot first and leave the first one refused).
        try #require(awaitCondition { server.largeBodySlotsInUse == 1 }, "the first large body holds the slot")
        let busy = try rawRequest(port: server.boundPort, "POST", "/v1/size", body: [UInt8](repeating: 1, count: 5000))
        #expect(busy.status == 503, "the second large body is refused while the first holds the slot")
        #expect(busy.text.contains(#""code":"busy""#) && busy.headers["retry-after"] == "1")
        // A small body needs no slot.
        #expect(try rawRequest(port: server.boundPort, "POST", "/v1/size", body: [1, 2, 3]).status == 200)
        // The first completes; its slot is given back.
        try slow.send(String(repeating: "a", count: 100_000 - 10))
        #expect(try slow.readResponse().text == "100000")
        #expect(try awaitCondition {
            try rawRequest(port: server.boundPort, "POST", "/v1/size", body: [UInt8](repeating: 1, count: 5000)).status == 200
        })
    }

    @Test("chunked body over the limit: 413 JSON")
    func chunkedTooLarge() throws {
        let server = try startServer(Self.makeRouter(), maxBodyBytes: 1000)
        defer { server.stop() }
        let connection = try RawHTTPConnection(port: server.boundPort)
        try connection.send("POST /v1/size HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        let chunk = String(repeating: "y", count: 600)
        try connection.send("258\r\n\(chunk)\r\n")
        try connection.send("258\r\n\(chunk)\r\n0\r\n\r\n")
        let response = try connection.readResponse()
        #expect(response.status == 413)
        #expect(response.text.contains(#""code":"payload_too_large""#))
    }

    @Test("an endless chunked body is cut off: the connection closes without a 200")
    func chunkedEndless() throws {
        let server = try startServer(Self.makeRouter(), maxBodyBytes: 1000)
        defer { server.stop() }
        let connection = try RawHTTPConnection(port: server.boundPort)
        try connection.send("POST /v1/size HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        let chunk = Array("10000\r\n".utf8) + [UInt8](repeating: 0x41, count: 0x10000) + Array("\r\n".utf8)
        for _ in 0..<64 {   // 4 MiB, more than the server drops before closing
            guard (try? connection.send(chunk)) != nil else { break }
        }
        let answer = try connection.receiveAll()
        #expect(!String(decoding: answer, as: UTF8.self).hasPrefix("HTTP/1.1 200"))
        #expect(try rawRequest(port: server.boundPort, "GET", "/v1/greeting").status == 200)
    }

    @Test("chunked body within the limit is accepted")
    func chunkedWithinLimit() throws {
        let server = try startServer(Self.makeRouter(), maxBodyBytes: 1000)
        defer { server.stop() }
        let connection = try RawHTTPConnection(port: server.boundPort)
        try connection.send("POST /v1/size HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        try connection.send("1f4\r\n\(String(repeating: "y", count: 500))\r\n0\r\n\r\n")
        let response = try connection.readResponse()
        #expect(response.status == 200)
        #expect(response.text == "500")
    }

    @Test("unknown route: 404 JSON; wrong method: 405 with Allow; HEAD has no body")
    func notFoundAndMethods() throws {
        let server = try startServer(Self.makeRouter())
        defer { server.stop() }
        let missing = try rawRequest(port: server.boundPort, "GET", "/nope")
        #expect(missing.status == 404)
        #expect(missing.text == #"{"error":{"code":"not_found","message":"no route for GET /nope"}}"#)
        let wrong = try rawRequest(port: server.boundPort, "DELETE", "/v1/greeting")
        #expect(wrong.status == 405)
        #expect(wrong.headers["allow"] == "GET, HEAD")
        let head = try rawRequest(port: server.boundPort, "HEAD", "/v1/greeting")
        #expect(head.status == 200)
        #expect(head.body.isEmpty)
        #expect(head.headers["content-length"] == "\(#"{"count":2,"hello":"world"}"#.utf8.count)")
    }

    @Test("query is percent-decoded, path parameters are raw, keep-alive serves many requests")
    func queryAndParameters() throws {
        let server = try startServer(Self.makeRouter())
        defer { server.stop() }
        let connection = try RawHTTPConnection(port: server.boundPort)
        for _ in 0..<20 {
            try connection.send("GET /v1/query?flag=a%20b&x=1&x=2&plus=c+d&bare HTTP/1.1\r\nHost: x\r\n\r\n")
            let response = try connection.readResponse()
            #expect(response.status == 200)
            #expect(response.text == #"{"bare":"","flag":"a b","plus":"c d","x":"2"}"#)
        }
        try connection.send("GET /v1/peers/ab%2Fcd HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(try connection.readResponse().text == "ab%2Fcd")
    }

    @Test("repeated large bodies: the same array is reused, a new array or header is never confused with it")
    func responseReuse() throws {
        let shared = [UInt8](repeating: UInt8(ascii: "s"), count: 4096)
        let counter = Locked(0)
        let router = HTTPRouter()
        router.get("/v1/shared") { request in
            .jsonBytes(shared, headers: [("X-Version", request.query["v"] ?? "none")])
        }
        router.get("/v1/fresh") { _ in
            let n = counter.withLock { value -> Int in
                value += 1
                return value
            }
            return HTTPResponse(headers: [("X-N", "\(n)")], body: [UInt8](repeating: UInt8(ascii: "a") + UInt8(n % 26), count: 2048))
        }
        let server = try startServer(router)
        defer { server.stop() }
        let connection = try RawHTTPConnection(port: server.boundPort)
        for round in 0..<30 {
            try connection.send("GET /v1/shared?v=\(round % 3) HTTP/1.1\r\nHost: x\r\n\r\n")
            let sharedResponse = try connection.readResponse()
            #expect(sharedResponse.body == shared)
            #expect(sharedResponse.headers["x-version"] == "\(round % 3)")
            try connection.send("GET /v1/fresh HTTP/1.1\r\nHost: x\r\n\r\n")
            let fresh = try connection.readResponse()
            let n = try #require(fresh.headers["x-n"].flatMap(Int.init))
            #expect(fresh.body == [UInt8](repeating: UInt8(ascii: "a") + UInt8(n % 26), count: 2048))
        }
        let head = try rawRequest(port: server.boundPort, "HEAD", "/v1/shared?v=1")
        #expect(head.headers["content-length"] == "4096")
        #expect(head.body.isEmpty)
    }

    @Test("server-owned headers and header injection are not sent")
    func headerSafety() throws {
        let server = try startServer(Self.makeRouter())
        defer { server.stop() }
        let connection = try RawHTTPConnection(port: server.boundPort)
        try connection.send("GET /v1/headers HTTP/1.1\r\nHost: x\r\n\r\n")
        let response = try connection.readResponse()
        #expect(response.text == "hello")
        #expect(response.headers["content-length"] == "5")
        #expect(response.headers["x-fine"] == "yes")
        #expect(response.headers["x-split"] == nil)
        #expect(response.headers["x-injected"] == nil)
        #expect(response.headers["connection"]?.lowercased() != "close")
        // Still open: the handler's "Connection: close" was ignored.
        try connection.send("GET /v1/greeting HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(try connection.readResponse().status == 200)
    }

    @Test("Expect: 100-continue, an empty POST body, HTTP/1.0")
    func protocolCorners() throws {
        let server = try startServer(Self.makeRouter())
        defer { server.stop() }
        let connection = try RawHTTPConnection(port: server.boundPort)
        try connection.send("POST /v1/size HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n")
        #expect(try connection.readHead().status == 100)
        try connection.send("abc")
        #expect(try connection.readResponse().text == "3")
        try connection.send("POST /v1/size HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
        #expect(try connection.readResponse().text == "0")
        let old = try RawHTTPConnection(port: server.boundPort)
        try old.send("GET /v1/greeting HTTP/1.0\r\n\r\n")
        #expect(try old.readResponse().status == 200)
    }

    @Test("metrics hook sees every status")
    func metrics() throws {
        let seen = Locked<[Int]>([])
        let server = try startServer(Self.makeRouter(), maxBodyBytes: 10, metrics: { status in seen.withLock { $0.append(status) } })
        defer { server.stop() }
        _ = try rawRequest(port: server.boundPort, "GET", "/v1/greeting")
        _ = try rawRequest(port: server.boundPort, "GET", "/missing")
        _ = try rawRequest(port: server.boundPort, "POST", "/v1/size", body: [UInt8](repeating: 0, count: 11))
        #expect(seen.withLock { $0 } == [200, 404, 413])
    }

    @Test("garbage, huge headers, invalid UTF-8 and aborted requests do not crash the server")
    func garbage() throws {
        let server = try startServer(Self.makeRouter())
        defer { server.stop() }
        var rng = SeededRandom(seed: "http garbage")
        var inputs: [[UInt8]] = (0..<60).map { i in rng.bytes(1 + i * 37) }
        inputs.append(Array("GET /\u{0}x HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
        inputs.append(Array("GET /".utf8) + [0xff, 0xfe, 0xc3] + Array(" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".utf8))
        inputs.append(Array("GET /v1/greeting HTTP/1.1\r\nHost: x\r\nX-Big: \(String(repeating: "a", count: 200_000))\r\n\r\n".utf8))
        inputs.append(Array("GET \(String(repeating: "/a", count: 50_000)) HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
        inputs.append(Array("POST /v1/size HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n".utf8))
        inputs.append(Array("POST /v1/size HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n".utf8))
        inputs.append(Array("POST /v1/size HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n".utf8))
        inputs.append(Array("POST /v1/size HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nshort".utf8))
        inputs.append(Array("GET /v1/greeting HTTP/9.9\r\n\r\n".utf8))
        inputs.append(Array("\r\n\r\n\r\n".utf8))
        inputs.append(Array("GET /v1/greeting?%zz=%&a=%f HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".utf8))
        for input in inputs {
            let connection = try RawHTTPConnection(port: server.boundPort, timeout: 0.5)
            try? connection.send(input)
            shutdown(connection.descriptor, Int32(SHUT_WR))
            _ = try? connection.receiveAll()   // an answer, a close or the short deadline: all fine
        }
        let invalidPath = try rawRequest(port: server.boundPort, "GET", "/\u{FFFD}caf%C3%A9")
        #expect(invalidPath.status == 404)
        let after = try rawRequest(port: server.boundPort, "GET", "/v1/greeting")
        #expect(after.status == 200)
        #expect(after.text == #"{"count":2,"hello":"world"}"#)
    }

    @Test("start errors: address in use, not an address, bad configuration, started twice")
    func startErrors() throws {
        let first = try startServer(Self.makeRouter())
        defer { first.stop() }
        let clash = HTTPServer(configuration: HTTPServerConfiguration(host: "127.0.0.1", port: first.boundPort), router: HTTPRouter())
        #expect(throws: HTTPServerError.addressInUse(host: "127.0.0.1", port: first.boundPort)) { try clash.start() }
        let name = HTTPServer(configuration: HTTPServerConfiguration(host: "example.org"), router: HTTPRouter())
        #expect(throws: HTTPServerError.invalidAddress("example.org")) { try name.start() }
        let threads = HTTPServer(configuration: HTTPServerConfiguration(threads: 0), router: HTTPRouter())
        #expect(throws: HTTPServerError.self) { try threads.start() }
        #expect(throws: HTTPServerError.alreadyStarted) { try first.start() }
    }

    /// Whether a socket can be bound on `::1` here (skipped, and said so, where it cannot).
    static let ipv6LoopbackAvailable: Bool = {
        let fd = socket(AF_INET6, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in6()
        address.sin6_family = sa_family_t(AF_INET6)
        address.sin6_addr = in6addr_loopback
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
        } == 0
    }()

    @Test("IPv6 loopback", .enabled(if: ipv6LoopbackAvailable, "the kernel has no IPv6 loopback"))
    func ipv6() throws {
        let server = HTTPServer(configuration: HTTPServerConfiguration(host: "::1", port: 0), router: Self.makeRouter())
        try server.start()
        defer { server.stop() }
        #expect(server.boundPort != 0)
        let connection = try RawHTTPConnection(port: server.boundPort, host: "::1")
        try connection.send("GET /v1/greeting HTTP/1.1\r\nHost: [::1]\r\n\r\n")
        #expect(try connection.readResponse().text == #"{"count":2,"hello":"world"}"#)
    }

    @Test("stop is idempotent and the port is closed afterwards")
    func stopTwice() throws {
        let server = try startServer(Self.makeRouter())
        let port = server.boundPort
        server.stop()
        server.stop()
        #expect(throws: (any Error).self) { try RawHTTPConnection(port: port, timeout: 1) }
    }
}
