import Foundation
import SecIRCAPI
import SecIRCLauncher
import Testing

/// The POSIX HTTP client against a real socket: a tiny server on 127.0.0.1:0.
@Suite struct APIClientTests {
    static let contactJSON = #"{"id":"\#(String(repeating: "ab", count: 32))","name":"bob","identity_key":"\#(String(repeating: "cd", count: 32))","added_ms":1700000000000,"session":"initiated"}"#

    @Test func jsonRequestWithTokenAndBody() throws {
        let server = try TestHTTPServer { request in
            [Reply.json(201, APIClientTests.contactJSON, reason: "Created")]
        }
        defer { server.stop() }
        let client = try APIClient(baseURL: server.url, token: "s3cret")
        let contact = try client.decode(Contact.self, "/v1/contacts", method: "POST", json: ["invite": "secirc:x", "name": "bob"])
        #expect(contact.name == "bob" && contact.session == "initiated" && contact.addedMilliseconds == 1_700_000_000_000)

        let request = try #require(server.received.first)
        #expect(request.method == "POST" && request.path == "/v1/contacts")
        #expect(request.headers["authorization"] == "Bearer s3cret")
        #expect(request.headers["content-type"] == "application/json")
        #expect(request.headers["host"] == "127.0.0.1:\(server.port)")
        let sent = try JSONSerialization.jsonObject(with: Data(request.body)) as? [String: String]
        #expect(sent == ["invite": "secirc:x", "name": "bob"])
    }

    @Test func typedBodiesCustomHeadersAndRawRequests() throws {
        let server = try TestHTTPServer { request in
            request.path == "/v1/directory" ? [Array("HTTP/1.1 304 Not Modified\r\nETag: \"7\"\r\n\r\n".utf8)]
                : [Reply.json(202, #"{"ok":true}"#, reason: "Accepted")]
        }
        defer { server.stop() }
        let client = try APIClient(baseURL: server.url, token: "t")
        try client.call("POST", "/v1/conversations/ab/messages", json: SendTextRequest(text: "a/b"))
        let notModified = try client.send("GET", "/v1/directory", headers: [("If-None-Match", "\"7\"")])
        #expect(notModified.status == 304 && notModified.head.headers["etag"] == "\"7\"" && notModified.body.isEmpty)
        let raw = try client.send(raw: Array("POST /raw HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc".utf8))
        #expect(raw.status == 202 && raw.body == Array(#"{"ok":true}"#.utf8))
        let plain = try client.send("PUT", "/text", body: Array("hi".utf8), contentType: "text/plain")
        #expect(plain.status == 202)

        let requests = server.received
        #expect(requests.count == 4)
        #expect(requests[0].body == Array(#"{"text":"a/b"}"#.utf8), "sorted keys, slashes as they are")
        #expect(requests[0].headers["content-type"] == "application/json")
        #expect(requests[1].headers["if-none-match"] == "\"7\"" && requests[1].headers["authorization"] == "Bearer t")
        #expect(requests[2].method == "POST" && requests[2].body == Array("abc".utf8) && requests[2].headers["authorization"] == nil)
        #expect(requests[3].headers["content-type"] == "text/plain" && requests[3].body == Array("hi".utf8))
    }

    @Test func chunkedResponseSplitAcrossWrites() throws {
        let body = #"{"contacts":[\#(APIClientTests.contactJSON)]}"#
        let server = try TestHTTPServer { _ in
            let half = body.index(body.startIndex, offsetBy: body.count / 2)
            let chunks = Reply.chunk(String(body[..<half])) + Reply.chunk(String(body[half...])) + Reply.lastChunk
            // The head, then the chunks in 7-byte writes.
            return [Reply.chunkedHead()] + stride(from: 0, to: chunks.count, by: 7).map { Array(chunks[$0..<min($0 + 7, chunks.count)]) }
        }
        defer { server.stop() }
        let list = try APIClient(baseURL: server.url).decode(ContactList.self, "/v1/contacts")
        #expect(list.contacts.map(\.name) == ["bob"])
        #expect(server.received.first?.headers["authorization"] == nil, "no token, no header")
    }

    @Test func errorJSONBecomesTheAPIError() throws {
        let server = try TestHTTPServer { request in
            if request.path == "/plain" { return [Array("HTTP/1.1 502 Bad Gateway\r\nContent-Length: 4\r\n\r\noops".utf8)] }
            return [Reply.json(404, #"{"error":{"code":"not_found","message":"no such contact"}}"#, reason: "Not Found")]
        }
        defer { server.stop() }
        let client = try APIClient(baseURL: server.url, token: "t")
        #expect(throws: APIError.api(status: 404, code: "not_found", message: "no such contact")) {
            try client.call("GET", "/v1/contacts/00")
        }
        #expect(throws: APIError.api(status: 502, code: "http_502", message: "oops")) { try client.call("GET", "/plain") }
        // send() hands back any status.
        #expect(try client.send("GET", "/v1/x").status == 404)
    }

    @Test func connectionRefusedMeansTheDaemonIsNotRunning() throws {
        let port = try FreePort.tcp()
        let client = try APIClient(baseURL: "http://127.0.0.1:\(port)")
        #expect(throws: APIError.daemonNotRunning(url: "http://127.0.0.1:\(port)")) { try client.call("GET", "/v1/identity") }
        #expect(APIError.daemonNotRunning(url: "http://127.0.0.1:6692").description
            == "the client daemon is not running at http://127.0.0.1:6692 (start it with secirc-client, or secirc devnet)")
    }

    @Test func aResponseThatIsNotJSONOrNotHTTP() throws {
        let server = try TestHTTPServer { request in
            request.path == "/garbage" ? [Array("SSH-2.0-x\r\n\r\n".utf8)] : [Reply.json(200, "not json")]
        }
        defer { server.stop() }
        let client = try APIClient(baseURL: server.url)
        #expect(throws: APIError.self) { try client.decode(Contact.self, "/x") }
        #expect(throws: APIError.invalidResponse(HTTPParseError.invalidStatusLine("SSH-2.0-x").description)) {
            try client.call("GET", "/garbage")
        }
    }

    @Test func readTimeout() throws {
        let server = try TestHTTPServer(hold: true) { _ in [] }
        defer { server.stop() }
        var client = try APIClient(baseURL: server.url)
        client.timeout = 0.2
        #expect(throws: APIError.timedOut(url: server.url, seconds: 0.2)) { try client.call("GET", "/slow") }
    }

    @Test(arguments: ["http://127.0.0.1:6692", "http://127.0.0.1:6692/", "http://localhost:1", "http://[::1]:80", "HTTP://127.0.0.1:5"])
    func acceptedURLs(_ url: String) throws {
        _ = try APIClient(baseURL: url)
    }

    @Test(arguments: ["https://127.0.0.1:6692", "127.0.0.1:6692", "http://example.com:80", "http://127.0.0.1", "http://127.0.0.1:0",
                      "http://127.0.0.1:70000", "http://127.0.0.1:80/v1", "http://u@127.0.0.1:80", "http://[::1]"])
    func refusedURLs(_ url: String) {
        #expect(throws: APIError.invalidURL(url)) { try APIClient(baseURL: url) }
    }

    // MARK: Event stream

    @Test func eventStreamDeliversEventsAcrossChunksThenEnds() throws {
        let server = try TestHTTPServer { _ in
            [Reply.chunkedHead(contentType: "text/event-stream"), Reply.chunk(": ping\n\nevent: mess"),
             Reply.chunk("age\ndata: {\"id\":\"1\"}\n\nevent: receipt\ndata: {\"id\":\"1\",\"state\":\"delivered\"}\n"),
             Reply.chunk("\n"), Reply.lastChunk]
        }
        defer { server.stop() }
        let stream = try APIClient(baseURL: server.url, token: "t").events()
        #expect(try stream.next() == ServerSentEvent(event: "message", data: #"{"id":"1"}"#))
        #expect(try stream.next()?.event == "receipt")
        #expect(try stream.next() == nil)
        #expect(stream.heartbeats == 1)
        let request = try #require(server.received.first)
        #expect(request.path == "/v1/events" && request.headers["accept"] == "text/event-stream")
    }

    @Test func eventStreamErrorStatusIsTheAPIError() throws {
        let server = try TestHTTPServer { _ in
            [Reply.json(401, #"{"error":{"code":"unauthorized","message":"missing or invalid bearer token"}}"#, reason: "Unauthorized")]
        }
        defer { server.stop() }
        #expect(throws: APIError.api(status: 401, code: "unauthorized", message: "missing or invalid bearer token")) {
            try APIClient(baseURL: server.url).events()
        }
    }

    @Test func cancelWakesAWaitingReader() async throws {
        let server = try TestHTTPServer(hold: true) { _ in
            [Reply.chunkedHead(contentType: "text/event-stream"), Reply.chunk("event: message\ndata: {}\n\n")]
        }
        defer { server.stop() }
        let stream = try APIClient(baseURL: server.url).events()
        #expect(try stream.next()?.event == "message")
        let reader = Task.detached { try stream.next() }
        stream.cancel()
        #expect(try await reader.value == nil)
    }

    @Test func eventStreamIdleTimeout() throws {
        let server = try TestHTTPServer(hold: true) { _ in [Reply.chunkedHead(contentType: "text/event-stream")] }
        defer { server.stop() }
        let stream = try APIClient(baseURL: server.url).events(idleTimeout: 0.2)
        #expect(throws: APIError.timedOut(url: server.url, seconds: 0.2)) { try stream.next() }
    }

    @Test func refusedEventStreamIsTheDaemonNotRunning() throws {
        let port = try FreePort.tcp()
        #expect(throws: APIError.daemonNotRunning(url: "http://127.0.0.1:\(port)")) {
            try APIClient(baseURL: "http://127.0.0.1:\(port)").events()
        }
    }
}
