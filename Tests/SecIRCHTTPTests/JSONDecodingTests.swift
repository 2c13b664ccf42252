import SecIRCCrypto
@testable import SecIRCHTTP
import Testing

/// `decodeJSON`: jansson first (strict), then Codable; every failure is a 400 naming the problem.
@Suite("Strict JSON decoding")
struct JSONDecodingTests {
    struct Peer: Codable, Equatable {
        var host: String
        var port: Int
        var tags: [String]?
    }

    struct AddPeers: Codable, Equatable {
        var peers: [Peer]
        var note: String?
    }

    static func decode<T: Decodable>(_ body: String, as type: T.Type = AddPeers.self, maxDepth: Int = 32) throws(HTTPError) -> T {
        try HTTPRequest(method: .post, path: "/", body: Array(body.utf8)).decodeJSON(type, maxDepth: maxDepth)
    }

    static func failure(_ body: String, maxDepth: Int = 32) -> HTTPError? {
        do {
            _ = try decode(body, maxDepth: maxDepth)
            return nil
        } catch {
            return error
        }
    }

    @Test("a valid body decodes")
    func valid() throws {
        let value = try Self.decode(#" {"peers":[{"host":"a","port":1,"tags":["x"]}],"note":"é"} "#)
        #expect(value == AddPeers(peers: [Peer(host: "a", port: 1, tags: ["x"])], note: "é"))
    }

    @Test("duplicate keys are refused, at any depth")
    func duplicates() {
        for body in [#"{"peers":[],"peers":[]}"#, #"{"peers":[{"host":"a","host":"b","port":1}]}"#] {
            let error = Self.failure(body)
            #expect(error?.status == 400)
            #expect(error?.code == "invalid_json")
            #expect(error?.message.contains("duplicate") == true)
        }
    }

    @Test("nesting deeper than the limit is refused before parsing")
    func depth() {
        let deep = String(repeating: "[", count: 33) + String(repeating: "]", count: 33)
        #expect(Self.failure(deep)?.code == "invalid_json")
        #expect(Self.failure(deep)?.message.contains("deeper than 32") == true)
        let atLimit = "{\"peers\":[],\"x\":" + String(repeating: "[", count: 30) + String(repeating: "]", count: 30) + "}"
        #expect(Self.failure(atLimit) == nil)   // depth 32 exactly
        #expect(Self.failure(#"{"peers":[{"host":"a","port":1}]}"#, maxDepth: 2)?.code == "invalid_json")
        // Brackets inside strings do not count.
        #expect(Self.failure(#"{"peers":[],"note":"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}"#, maxDepth: 2) == nil)
        // A very deep input fails fast and does not overflow the stack.
        #expect(Self.failure(String(repeating: "[", count: 1_000_000))?.code == "invalid_json")
    }

    @Test("wrong type: 400 invalid_request naming the field path")
    func wrongType() {
        let error = Self.failure(#"{"peers":[{"host":"a","port":1},{"host":"b","port":"80"}]}"#)
        #expect(error?.status == 400)
        #expect(error?.code == "invalid_request")
        #expect(error?.message == "field 'peers[1].port': expected an integer")
        #expect(Self.failure(#"{"peers":[{"host":"a","port":1,"tags":"x"}]}"#)?.message == "field 'peers[0].tags': expected an array")
        #expect(Self.failure(#"{"peers":{}}"#)?.message == "field 'peers': expected an array")
    }

    @Test("missing field and null: named")
    func missing() {
        #expect(Self.failure(#"{"peers":[{"port":1}]}"#)?.message == "missing field 'peers[0].host'")
        #expect(Self.failure(#"{}"#)?.message == "missing field 'peers'")
        #expect(Self.failure(#"{"peers":null}"#)?.message == "field 'peers': expected an array, found null")
    }

    @Test("trailing bytes, scalars at top level, truncation, empty body and bad UTF-8 are invalid_json",
          arguments: [#"{"peers":[]} x"#, #"{"peers":[]}{}"#, #""peers""#, "42", "null", "true",
                      #"{"peers":["#, "", "   ", #"{"peers":[],"note":"\u0000"}"#, "{'peers':[]}", #"{"peers":[],}"#])
    func invalid(body: String) {
        let error = Self.failure(body)
        #expect(error?.status == 400)
        #expect(error?.code == "invalid_json")
    }

    @Test("invalid UTF-8 inside a string is invalid_json")
    func invalidUTF8() {
        let body = Array(#"{"peers":[],"note":""#.utf8) + [0xff, 0xfe] + Array(#""}"#.utf8)
        let request = HTTPRequest(method: .post, path: "/", body: body)
        #expect(throws: HTTPError.self) { try request.decodeJSON(AddPeers.self) }
    }

    @Test("a top-level array decodes when asked for")
    func array() throws {
        #expect(try Self.decode(#"[1,2,3]"#, as: [Int].self) == [1, 2, 3])
    }

    @Test("10,000 random bodies never trap and fail only with 400")
    func random() {
        var rng = SeededRandom(seed: "json fuzz")
        let alphabet = Array(#"{}[]":,0123456789.-+eEtrufalsn \"\\u"#.utf8)
        for round in 0..<10_000 {
            let count = Int(rng.next() % 96)
            var body: [UInt8]
            if round % 2 == 0 {
                body = rng.bytes(count)
            } else {
                body = (0..<count).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] }
            }
            if round % 5 == 0 { body = Array(#"{"peers":["#.utf8) + body }
            do {
                _ = try HTTPRequest(method: .post, path: "/", body: body).decodeJSON(AddPeers.self, maxDepth: 8)
            } catch {
                #expect(error.status == 400)
            }
        }
    }
}
