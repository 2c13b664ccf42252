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

    static func decode<T: Codable>(_ body: String, as type: T.Type = AddPeers.self, maxDepth: Int = 32) throws(HTTPError) -> T {
        try jsonRequest(Array(body.utf8)).decodeJSON(type, maxDepth: maxDepth)
    }

    static func jsonRequest(_ body: [UInt8], contentType: String? = "application/json") -> HTTPRequest {
        HTTPRequest(method: .post, path: "/", headers: contentType.map { ["Content-Type": $0] } ?? [:], body: body)
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
        // Depth 32 exactly passes the depth check (and is then refused for its unknown field).
        #expect(Self.failure(atLimit) == .invalidRequest("unknown field 'x'"))
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
        let request = Self.jsonRequest(body)
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
                _ = try Self.jsonRequest(body).decodeJSON(AddPeers.self, maxDepth: 8)
            } catch {
                #expect(error.status == 400)
            }
        }
    }

    static let validBody = Array(#"{"peers":[]}"#.utf8)

    @Test("Content-Type application/json, any case, with parameters, is decoded",
          arguments: ["application/json", "Application/JSON", "application/json; charset=utf-8", "application/json;charset=\"UTF-8\"",
                      "application/json ; charset=utf8", "application/json; version=2"])
    func jsonMediaTypes(contentType: String) throws {
        #expect(try Self.jsonRequest(Self.validBody, contentType: contentType).decodeJSON(AddPeers.self) == AddPeers(peers: []))
    }

    @Test("a body of another media type, or without one, is 415 unsupported_media_type",
          arguments: [nil, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
                      "application/json-patch+json", "application/jsonx", "application/json; charset=latin1", "application/json;",
                      "application/json; =x", "", "json"] as [String?])
    func otherMediaTypes(contentType: String?) {
        do {
            _ = try Self.jsonRequest(Self.validBody, contentType: contentType).decodeJSON(AddPeers.self)
            Issue.record("accepted Content-Type \(contentType ?? "none")")
        } catch {
            #expect(error.status == 415 && error.code == "unsupported_media_type", "\(contentType ?? "none")")
        }
    }

    @Test("an empty body without Content-Type is 400 invalid_json (nothing to call JSON or not)")
    func emptyBodyWithoutMediaType() {
        do {
            _ = try Self.jsonRequest([], contentType: nil).decodeJSON(AddPeers.self)
            Issue.record("an empty body decoded")
        } catch {
            #expect(error.status == 400 && error.code == "invalid_json")
        }
    }

    @Test("unknown fields and nulls for absent fields are 400 invalid_request naming the field",
          arguments: [(#"{"peers":[],"extra":1}"#, "unknown field 'extra'"),
                      (#"{"peers":[{"host":"a","port":1,"weight":2}]}"#, "unknown field 'peers[0].weight'"),
                      (#"{"peers":[{"host":"a","port":1},{"host":"b","port":2,"tags":[],"x":{}}]}"#, "unknown field 'peers[1].x'"),
                      (#"{"peers":[],"note":null}"#, "field 'note' may not be null; leave it out"),
                      (#"{"peers":[{"host":"a","port":1,"tags":null}]}"#, "field 'peers[0].tags' may not be null; leave it out")])
    func unknownFields(body: String, message: String) {
        let error = Self.failure(body)
        #expect(error == .invalidRequest(message))
    }

    @Test("an unknown field's name is quoted at most 80 characters long")
    func longUnknownField() {
        let name = String(repeating: "k", count: 5000)
        #expect(Self.failure(#"{"peers":[],"\#(name)":1}"#) == .invalidRequest("unknown field '\(name.prefix(80))…'"))
    }

    @Test("every known field, nested, is accepted")
    func knownFields() throws {
        let body = #"{"note":"n","peers":[{"host":"a","port":1,"tags":["x"]},{"host":"b","port":2}]}"#
        #expect(try Self.decode(body).peers.count == 2)
    }
}
