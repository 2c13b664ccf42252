import Foundation
import SecIRCCrypto
@testable import SecIRCAPI
import Testing

/// The response decoder: every framing, fed in one piece and byte by byte.
@Suite struct HTTPResponseParserTests {
    /// Feeds `input` in pieces of `step` bytes, then ends the stream; the head and the body.
    static func parse(_ input: String, step: Int = .max) throws -> (HTTPResponseHead?, String) {
        var parser = HTTPResponseParser()
        let bytes = Array(input.utf8)
        var body: [UInt8] = []
        var offset = 0
        while offset < bytes.count, !parser.isComplete {
            let end = offset + min(step, bytes.count - offset)
            body += try parser.consume(bytes[offset..<end])
            offset = end
        }
        try parser.finish()
        return (parser.head, String(decoding: body, as: UTF8.self))
    }

    static let chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nX-Trailer: 1\r\n\r\n"

    @Test(arguments: [1, 2, 3, 7, 1000])
    func contentLength(step: Int) throws {
        let (head, body) = try Self.parse("HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: 9\r\n\r\n{\"a\":\"b\"}", step: step)
        #expect(head?.status == 201)
        #expect(head?.reason == "Created")
        #expect(head?.headers["content-type"] == "application/json")
        #expect(body == "{\"a\":\"b\"}")
    }

    @Test(arguments: [1, 2, 5, 1000])
    func chunkedWithExtensionAndTrailer(step: Int) throws {
        let (head, body) = try Self.parse(Self.chunked, step: step)
        #expect(head?.status == 200)
        #expect(body == "hello, world")
    }

    @Test func untilCloseAndNoBody() throws {
        #expect(try Self.parse("HTTP/1.1 200 OK\r\n\r\nstreamed to the end").1 == "streamed to the end")
        #expect(try Self.parse("HTTP/1.1 204 No Content\r\n\r\n").0?.status == 204)
        #expect(try Self.parse("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n").1 == "")
    }

    @Test func interimResponsesAreSkipped() throws {
        let (head, body) = try Self.parse("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        #expect(head?.status == 200 && body == "ok")
    }

    @Test func repeatedHeadersAreJoined() throws {
        let (head, _) = try Self.parse("HTTP/1.1 200 OK\r\nX-A: 1\r\nx-a: 2\r\nContent-Length: 0\r\n\r\n")
        #expect(head?.headers["x-a"] == "1, 2")
    }

    @Test func bytesAfterTheResponseAreIgnored() throws {
        var parser = HTTPResponseParser()
        let body = try parser.consume(Array("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA".utf8))
        #expect(body == Array("ok".utf8) && parser.isComplete)
    }

    @Test(arguments: [
        ("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nabc", HTTPParseError.truncated),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab", .truncated),
        ("HTTP/1.1 200 OK\r\nContent-Len", .truncated),
        ("", .truncated),
    ])
    func truncatedInput(_ input: String, _ error: HTTPParseError) {
        #expect(throws: error) { try Self.parse(input) }
    }

    @Test(arguments: [
        "SSH-2.0-OpenSSH_9.2\r\n\r\n", "HTTP/1.1 2000 OK\r\n\r\n", "HTTP/1.1 099 X\r\n\r\n", "HTTP/2 200\r\n\r\n",
        "HTTP/1.1 200 OK\r\nno colon\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 1, 2\r\n\r\nab", "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabXY",
    ])
    func malformedInputIsRefused(_ input: String) {
        #expect(throws: HTTPParseError.self) { try Self.parse(input) }
    }

    @Test func limits() {
        let huge = "HTTP/1.1 200 OK\r\nX: " + String(repeating: "a", count: HTTPResponseParser.maxHeadBytes) + "\r\n\r\n"
        #expect(throws: HTTPParseError.headTooLarge) { try Self.parse(huge) }
        var parser = HTTPResponseParser(maxBodyBytes: 4)
        #expect(throws: HTTPParseError.bodyTooLarge(limit: 4)) {
            _ = try parser.consume(Array("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nabcde".utf8))
        }
    }

    @Test func randomInputNeverTraps() {
        let seed = ProcessInfo.processInfo.environment["SECIRC_TEST_SEED"] ?? String(UInt64.random(in: 0...UInt64.max))
        print("HTTPResponseParserTests: random input seed \(seed) (rerun with SECIRC_TEST_SEED=\(seed))")
        var generator = SeededRandom(seed: seed)
        let prefixes = ["", "HTTP/1.1 200 OK\r\n", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
                        "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n"]
        for round in 0..<2_000 {
            var parser = HTTPResponseParser(maxBodyBytes: 1 << 16)
            let noise = (0..<Int.random(in: 0..<300, using: &generator)).map { _ in
                // Mostly bytes that matter to the grammar.
                Bool.random(using: &generator) ? [13, 10, 48, 57, 97, 58, 32, 59][Int.random(in: 0..<8, using: &generator)]
                    : UInt8.random(in: 0...255, using: &generator)
            }
            let input = Array(prefixes[round % prefixes.count].utf8) + noise
            _ = try? parser.consume(input)
            _ = try? parser.finish()
        }
    }
}
