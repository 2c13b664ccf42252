import Foundation
import SecIRCCrypto
@testable import SecIRCAPI
import Testing

/// `text/event-stream` as the daemon's `/v1/events` sends it, split anywhere.
@Suite struct ServerSentEventParserTests {
    static func parse(_ text: String, step: Int = .max) throws -> [ServerSentEvent] {
        var parser = ServerSentEventParser()
        let bytes = Array(text.utf8)
        var events: [ServerSentEvent] = []
        var offset = 0
        while offset < bytes.count {
            let end = offset + min(step, bytes.count - offset)
            events += try parser.consume(bytes[offset..<end])
            offset = end
        }
        return events
    }

    static let stream = ": ping\n\nevent: message\ndata: {\"id\":\"01\",\"text\":\"hi\"}\n\nevent: receipt\ndata: {\"id\":\"01\"}\n\n"

    @Test(arguments: [1, 2, 3, 10, 1000])
    func eventsAndHeartbeats(step: Int) throws {
        #expect(try Self.parse(Self.stream, step: step) == [
            ServerSentEvent(event: "message", data: "{\"id\":\"01\",\"text\":\"hi\"}"),
            ServerSentEvent(event: "receipt", data: "{\"id\":\"01\"}"),
        ])
        var parser = ServerSentEventParser()
        _ = try parser.consume(Array(Self.stream.utf8))
        #expect(parser.comments == 1)
    }

    @Test(arguments: ["\r\n", "\r", "\n"])
    func everyLineEnding(_ end: String) throws {
        let text = "event: contact\(end)data: a\(end)data: b\(end)\(end)data:c\(end)\(end)"
        for step in [1, 2, 100] {
            #expect(try Self.parse(text, step: step) == [
                ServerSentEvent(event: "contact", data: "a\nb"),
                ServerSentEvent(event: "message", data: "c"),
            ])
        }
    }

    @Test func fieldsWithoutDataAreNotDispatchedAndTypeResets() throws {
        #expect(try Self.parse("event: receipt\n\ndata: x\n\n") == [ServerSentEvent(event: "message", data: "x")])
        #expect(try Self.parse("event: message\ndata: no blank line yet\n").isEmpty)
        #expect(try Self.parse("data\n\n") == [ServerSentEvent(event: "message", data: "")])
    }

    @Test func idPersistsAndUnknownFieldsAreIgnored() throws {
        let events = try Self.parse("id: 7\nretry: 100\nfoo: bar\ndata: a\n\ndata: b\n\n")
        #expect(events.map(\.id) == ["7", "7"])
        #expect(events.map(\.data) == ["a", "b"])
    }

    @Test func byteOrderMarkAndOneSpaceAreStripped() throws {
        #expect(try Self.parse("\u{FEFF}data:  two spaces\n\n") == [ServerSentEvent(event: "message", data: " two spaces")])
    }

    @Test func overlongLineIsAnError() {
        var parser = ServerSentEventParser()
        #expect(throws: ServerSentEventParser.LineTooLong.self) {
            _ = try parser.consume([UInt8](repeating: 65, count: ServerSentEventParser.maxLineBytes + 1))
        }
    }

    @Test func randomInputNeverTraps() {
        let seed = ProcessInfo.processInfo.environment["SECIRC_TEST_SEED"] ?? String(UInt64.random(in: 0...UInt64.max))
        print("ServerSentEventParserTests: random input seed \(seed) (rerun with SECIRC_TEST_SEED=\(seed))")
        var generator = SeededRandom(seed: seed)
        for _ in 0..<2_000 {
            var parser = ServerSentEventParser()
            let input = (0..<Int.random(in: 0..<300, using: &generator)).map { _ in
                Bool.random(using: &generator) ? Array("\r\n: data event id".utf8)[Int.random(in: 0..<17, using: &generator)]
                    : UInt8.random(in: 0...255, using: &generator)
            }
            _ = try? parser.consume(input)
        }
    }
}
