import Foundation
import SecIRCCrypto
import SecIRCCore
import Testing

/// TXT answers come from the network (any resolver on the path can forge them): decoding is
/// bounded and never traps.
@Suite struct DNSTXTAnswerTests {
    /// `_secirc.test`, as labels.
    static let name: [UInt8] = [7] + Array("_secirc".utf8) + [4] + Array("test".utf8) + [0]

    /// A response with the question and `records` (each a list of character-strings) as TXT
    /// answers whose names point back at the question's (compression).
    static func response(_ records: [[String]], rcode: UInt8 = 0, extra: [[UInt8]] = []) -> [UInt8] {
        var m: [UInt8] = [0x12, 0x34, 0x81, 0x80 | rcode, 0, 1, 0, UInt8(records.count + extra.count), 0, 0, 0, 0]
        m += name + [0, 16, 0, 1]
        for record in records {
            var rdata: [UInt8] = []
            for string in record { rdata += [UInt8(string.utf8.count)] + Array(string.utf8) }
            m += [0xC0, 12, 0, 16, 0, 1, 0, 0, 0x0E, 0x10, UInt8(rdata.count >> 8), UInt8(rdata.count & 0xFF)] + rdata
        }
        for raw in extra { m += raw }
        return m
    }

    @Test func recordsInOrderWithStringsJoined() throws {
        let message = Self.response([["https://a.example:6691/#spki=abc"], ["http://10.0.0.1", ":6691"], ["v=spf1 -all"]])
        #expect(try DNSTXTAnswer.decode(message) == ["https://a.example:6691/#spki=abc", "http://10.0.0.1:6691", "v=spf1 -all"])
    }

    @Test func otherTypesAreSkipped() throws {
        // A CNAME answer (type 5) before the TXT one.
        let cname: [UInt8] = [0xC0, 12, 0, 5, 0, 1, 0, 0, 0, 60, 0, 2, 0xC0, 12]
        var message = Self.response([], extra: [cname])
        message[7] = 2
        let txt: [UInt8] = [0xC0, 12, 0, 16, 0, 1, 0, 0, 0, 60, 0, 3, 2, 0x68, 0x69]
        message += txt
        #expect(try DNSTXTAnswer.decode(message) == ["hi"])
    }

    @Test func errorsAndQueriesAreRefused() {
        #expect(throws: DecodeError.self) { try DNSTXTAnswer.decode(Self.response([["x"]], rcode: 3)) }
        var query = Self.response([["x"]])
        query[2] = 0x01
        #expect(throws: DecodeError.self) { try DNSTXTAnswer.decode(query) }
        #expect(throws: DecodeError.self) { try DNSTXTAnswer.decode([]) }
    }

    @Test func everyTruncationThrows() {
        let message = Self.response([["https://a.example:6691/"], ["second"]])
        for end in 0..<message.count {
            #expect(throws: DecodeError.self) { try DNSTXTAnswer.decode(Array(message.prefix(end))) }
        }
    }

    @Test func malformedNamesAndStrings() {
        // A pointer to itself, a pointer forwards, an unsupported label type.
        for name: [UInt8] in [[0xC0, 12], [0xC0, 200], [0x40, 1]] {
            var message = Self.response([])
            message.replaceSubrange(12..<(12 + Self.name.count), with: name)
            #expect(throws: DecodeError.self) { try DNSTXTAnswer.decode(message) }
        }
        // A character-string longer than its record; an empty record; a name over 255 bytes.
        var long = Self.response([["abc"]])
        long[long.count - 4] = 9
        #expect(throws: DecodeError.self) { try DNSTXTAnswer.decode(long) }
        var empty: [UInt8] = Self.response([])
        empty[7] = 1
        empty += [0xC0, 12, 0, 16, 0, 1, 0, 0, 0, 60, 0, 0]
        #expect(throws: DecodeError.self) { try DNSTXTAnswer.decode(empty) }
        var huge: [UInt8] = [0, 0, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0]
        for _ in 0..<5 { huge += [63] + [UInt8](repeating: 0x61, count: 63) }
        huge += [0, 0, 16, 0, 1]
        #expect(throws: DecodeError.self) { try DNSTXTAnswer.decode(huge) }
    }

    @Test func oversizedAnswersAreCut() throws {
        let many = (0..<100).map { ["r\($0)"] }
        #expect(try DNSTXTAnswer.decode(Self.response(many)).count == DNSTXTAnswer.maximumRecords)
        // The count field says 200 but only a few are there: refused, not trusted.
        var lying = Self.response([["a"]])
        lying[7] = 200
        #expect(throws: DecodeError.self) { try DNSTXTAnswer.decode(lying) }
    }

    @Test func randomInputNeverTraps() {
        let seed = ProcessInfo.processInfo.environment["SECIRC_TEST_SEED"] ?? String(UInt64.random(in: 0...UInt64.max))
        print("DNSTXTAnswerTests: random input seed \(seed) (rerun with SECIRC_TEST_SEED=\(seed))")
        var generator = SeededRandom(seed: seed)
        let base = Self.response([["https://a.example/"], ["b"]])
        for _ in 0..<20_000 {
            var message = base
            for _ in 0..<Int.random(in: 1...6, using: &generator) {
                message[Int.random(in: 0..<message.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
            }
            _ = try? DNSTXTAnswer.decode(message)
            let noise = (0..<Int.random(in: 0...64, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            _ = try? DNSTXTAnswer.decode(noise)
        }
    }
}
