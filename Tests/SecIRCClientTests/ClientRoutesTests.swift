import Foundation
import SecIRCAPI
@testable import SecIRCClient
import SecIRCConfig
import SecIRCCore
import SecIRCCrypto
import SecIRCHTTP
import SecIRCLock
import SecIRCNode
import Testing
import Yams

/// The client API's routes without a socket.
final class ClientRoutesFixture {
    static let token = String(repeating: "cd", count: 32)
    let user: User
    let network = NetworkState()
    let events = ClientEvents()
    let router: HTTPRouter
    let pokes = PokeCounter()

    init(mailboxes: Bool = true, policy: ContactPolicy = .autoAccept) throws {
        let relays = try FakeRelays.make(3)
        user = try User("carol", relays: mailboxes ? relays : [], policy: policy)
        let settings = ClientSettings(client: ClientConfig(), security: SecurityConfig())
        let routes = ClientRoutes(messenger: user.messenger, network: network, events: events, settings: settings,
                                  token: HTTPBearerToken(SecureBytes(Array(Self.token.utf8))), clock: { .t0 },
                                  poke: { [pokes] in pokes.add() })
        router = routes.router()
    }

    /// `contentType` is sent with a non-empty body.
    func handle(_ method: HTTPMethod, _ path: String, query: [String: String] = [:], body: String = "",
                contentType: String? = "application/json", token: String? = ClientRoutesFixture.token) -> HTTPResponse {
        var headers: [String: String] = [:]
        if let token { headers["authorization"] = "Bearer \(token)" }
        if let contentType, !body.isEmpty { headers["content-type"] = contentType }
        return router.handle(HTTPRequest(method: method, path: path, query: query, headers: headers, body: Array(body.utf8)))
    }
}

final class PokeCounter: Sendable {
    private let value = Locked(0)
    func add() { value.withLock { $0 += 1 } }
    var count: Int { value.withLock { $0 } }
}

extension HTTPResponse {
    var bytes: [UInt8] {
        if case let .bytes(bytes) = body { return bytes }
        return []
    }
    var object: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any]) ?? [:] }
    var errorCode: String? { (object["error"] as? [String: Any])?["code"] as? String }
}

@Suite struct ClientRoutesTests {
    static let protected: [(HTTPMethod, String)] = [
        (.get, "/v1/identity"), (.get, "/v1/invite"), (.post, "/v1/invites"), (.get, "/v1/contacts"), (.post, "/v1/contacts"),
        (.get, "/v1/contacts/\(String(repeating: "0", count: 64))"), (.put, "/v1/contacts/\(String(repeating: "0", count: 64))"),
        (.delete, "/v1/contacts/\(String(repeating: "0", count: 64))"), (.get, "/v1/conversations"),
        (.get, "/v1/contacts/\(String(repeating: "0", count: 64))/queues"),
        (.post, "/v1/contacts/\(String(repeating: "0", count: 64))/queues/rotate"),
        (.post, "/v1/contacts/\(String(repeating: "0", count: 64))/queues/close"),
        (.post, "/v1/contacts/\(String(repeating: "0", count: 64))/accept"),
        (.post, "/v1/contacts/\(String(repeating: "0", count: 64))/reject"),
        (.get, "/v1/conversations/\(String(repeating: "0", count: 64))/messages"),
        (.post, "/v1/conversations/\(String(repeating: "0", count: 64))/messages"),
        (.get, "/v1/messages/\(String(repeating: "0", count: 32))"), (.get, "/v1/network"), (.get, "/v1/events"),
    ]

    @Test func everyRouteButHealthNeedsTheToken() throws {
        let f = try ClientRoutesFixture()
        #expect(f.handle(.get, "/healthz", token: nil).status == 200)
        for (method, path) in Self.protected {
            for token in [nil, "", "wrong", String(repeating: "cd", count: 31) + "ce"] as [String?] {
                let response = f.handle(method, path, body: "{}", token: token)
                #expect(response.status == 401, "\(method) \(path) with token \(token ?? "none")")
                #expect(response.errorCode == "unauthorized")
            }
        }
    }

    @Test func identityAndInvite() throws {
        let f = try ClientRoutesFixture()
        let identity = f.handle(.get, "/v1/identity").object
        #expect(identity["id"] as? String == f.user.id.hex)
        let invite = f.handle(.get, "/v1/invite")
        #expect(invite.status == 200)
        let uri = try #require(invite.object["uri"] as? String)
        #expect(try Invite.parse(uri: uri, now: .t0).identityKey.id == f.user.id)
        #expect((invite.object["mailboxes"] as? [Any])?.count == 2)
        let early = try ClientRoutesFixture(mailboxes: false)
        let unavailable = early.handle(.get, "/v1/invite")
        #expect(unavailable.status == 503 && unavailable.errorCode == "unavailable")
    }

    @Test func contactsCanBeAddedListedRenamedAndRemoved() throws {
        let f = try ClientRoutesFixture()
        let dave = try User("dave", relays: FakeRelays.make(3))
        let uri = try dave.invite(now: .t0).uri
        let added = f.handle(.post, "/v1/contacts", body: #"{"invite":"\#(uri)"}"#)
        #expect(added.status == 201)
        #expect(added.object["name"] as? String == "dave" && added.object["session"] as? String == "initiated")
        #expect(f.pokes.count == 1, "the network thread is woken to send the introduction")
        #expect(f.handle(.post, "/v1/contacts", body: #"{"invite":"\#(uri)"}"#).status == 409)
        let path = "/v1/contacts/\(dave.id.hex)"
        #expect(f.handle(.get, path).object["id"] as? String == dave.id.hex)
        let renamed = f.handle(.put, path, body: #"{"name":"David"}"#)
        #expect(renamed.status == 200 && renamed.object["name"] as? String == "David")
        #expect(f.handle(.put, path, body: #"{"name":""}"#).status == 400)
        #expect((f.handle(.get, "/v1/contacts").object["contacts"] as? [[String: Any]])?.first?["name"] as? String == "David")
        #expect(f.handle(.delete, path).status == 204)
        #expect(f.handle(.get, path).status == 404)
        #expect(f.handle(.delete, path).status == 404)
    }

    @Test func aContactsQueuesAreShownRotatedAndClosed() throws {
        let f = try ClientRoutesFixture()
        let dave = try User("dave", relays: FakeRelays.make(3))
        #expect(f.handle(.post, "/v1/contacts", body: #"{"invite":"\#(try dave.invite(now: .t0).uri)"}"#).status == 201)
        let path = "/v1/contacts/\(dave.id.hex)/queues"
        func states(_ response: HTTPResponse) -> [String] {
            ((response.object["queues"] as? [[String: Any]]) ?? []).compactMap { $0["state"] as? String }.sorted()
        }
        let shown = f.handle(.get, path)
        #expect(shown.status == 200 && states(shown) == ["open", "open"])
        #expect(!String(decoding: shown.bytes, as: UTF8.self).contains(try f.user.messenger.queues(of: dave.id)[0].id.hex),
                "the queue IDs are the contact's capability: not shown")
        let pokes = f.pokes.count
        // No body is read: no Content-Type is needed, and one sent with a body is ignored.
        let rotated = f.handle(.post, path + "/rotate", body: "ignored", contentType: "text/plain")
        #expect(rotated.status == 200 && states(rotated) == ["closing", "closing", "open", "open"])
        #expect(f.pokes.count == pokes + 1, "the network thread is woken to send the card and register the queues")
        let closed = f.handle(.post, path + "/close", body: "ignored", contentType: nil)
        #expect(closed.status == 200 && states(closed) == ["closed", "closed"])
        let unknown = "/v1/contacts/\(String(repeating: "1", count: 64))/queues"
        #expect(f.handle(.get, unknown).status == 404 && f.handle(.post, unknown + "/rotate").status == 404)
        #expect(f.handle(.post, unknown + "/close").errorCode == "not_found")
    }

    @Test func badInvitesAreExplained() throws {
        let f = try ClientRoutesFixture()
        for invite in ["secirc:AAAA", "http://x", "secirc:" + String(repeating: "A", count: 5000)] {
            let response = f.handle(.post, "/v1/contacts", body: #"{"invite":"\#(invite)"}"#)
            #expect(response.status == 422 && response.errorCode == "invalid_invite", "\(invite.prefix(20))")
        }
    }

    @Test func malformedBodiesGetA4xxJSONError() throws {
        let f = try ClientRoutesFixture()
        let dave = try User("dave", relays: FakeRelays.make(3))
        _ = f.handle(.post, "/v1/contacts", body: #"{"invite":"\#(try dave.invite(now: .t0).uri)"}"#)
        let bodies = ["", "{", "[]", "null", "42", #"{"text":5}"#, #"{"text":"a","text":"b"}"#, #"{"txt":"a"}"#,
                      String(repeating: "[", count: 100) + String(repeating: "]", count: 100), #"{"text":""}"#,
                      #"{"text":"\#(String(repeating: "x", count: 16385))"}"#, "\u{FF}\u{FE}"]
        for body in bodies {
            let response = f.handle(.post, "/v1/conversations/\(dave.id.hex)/messages", body: body)
            #expect((400..<500).contains(response.status), "body \(body.prefix(30))")
            #expect(response.errorCode != nil)
        }
        for body in ["", "{}", #"{"invite":7}"#, #"{"invite":"x","name":[]}"#] {
            #expect(f.handle(.post, "/v1/contacts", body: body).status == 400)
        }
        #expect(f.handle(.get, "/v1/conversations/nothex/messages").status == 404)
        #expect(f.handle(.get, "/v1/conversations/\(dave.id.hex)/messages", query: ["limit": "0"]).status == 400)
        #expect(f.handle(.get, "/v1/conversations/\(dave.id.hex)/messages", query: ["before": "x"]).status == 400)
        #expect(f.handle(.get, "/v1/messages/zz").status == 404)
        #expect(f.handle(.post, "/v1/conversations/\(String(repeating: "1", count: 64))/messages", body: #"{"text":"hi"}"#).status == 404)
    }

    @Test func sentMessagesArePagedOldestFirst() throws {
        let f = try ClientRoutesFixture()
        let dave = try User("dave", relays: FakeRelays.make(3))
        _ = f.handle(.post, "/v1/contacts", body: #"{"invite":"\#(try dave.invite(now: .t0).uri)"}"#)
        let path = "/v1/conversations/\(dave.id.hex)/messages"
        for i in 0..<7 {
            let sent = f.handle(.post, path, body: #"{"text":"m\#(i)"}"#)
            #expect(sent.status == 202 && sent.object["state"] as? String == "queued")
        }
        let page = f.handle(.get, path, query: ["limit": "3"]).object
        #expect((page["messages"] as? [[String: Any]])?.map { $0["text"] as? String } == ["m4", "m5", "m6"])
        let before = try #require(page["next_before"] as? Int)
        let older = f.handle(.get, path, query: ["limit": "5", "before": "\(before)"]).object
        #expect((older["messages"] as? [[String: Any]])?.map { $0["text"] as? String } == ["m0", "m1", "m2", "m3"])
        #expect(older["next_before"] is NSNull)
        let id = try #require((page["messages"] as? [[String: Any]])?.first?["id"] as? String)
        #expect(f.handle(.get, "/v1/messages/\(id)").object["text"] as? String == "m4")
        let conversations = f.handle(.get, "/v1/conversations").object["conversations"] as? [[String: Any]]
        #expect(conversations?.first?["count"] as? Int == 7)
        let network = f.handle(.get, "/v1/network").object
        #expect(network["outbox"] as? Int == 8, "seven texts and the introduction")
        #expect(network["drops"] is [String: Any] && network["directory"] is NSNull)
    }

    /// The promise of openapi/client.yaml's 415: every route that reads a body wants it as JSON.
    @Test func bodiesThatAreNotJSONAre415() throws {
        let f = try ClientRoutesFixture()
        let dave = try User("dave", relays: FakeRelays.make(3))
        let add = #"{"invite":"\#(try dave.invite(now: .t0).uri)"}"#
        for contentType in [nil, "text/plain", "application/x-www-form-urlencoded", "application/json; charset=latin1"] as [String?] {
            let response = f.handle(.post, "/v1/contacts", body: add, contentType: contentType)
            #expect(response.status == 415 && response.errorCode == "unsupported_media_type", "\(contentType ?? "none")")
        }
        #expect(f.handle(.post, "/v1/contacts", body: add, contentType: "application/json; charset=utf-8").status == 201)
        let path = "/v1/contacts/\(dave.id.hex)"
        #expect(f.handle(.put, path, body: #"{"name":"D"}"#, contentType: "text/plain").status == 415)
        #expect(f.handle(.post, "/v1/conversations/\(dave.id.hex)/messages", body: #"{"text":"hi"}"#,
                         contentType: "application/x-www-form-urlencoded").status == 415)
        #expect(f.handle(.post, "/v1/conversations/\(dave.id.hex)/messages", body: #"{"text":"hi"}"#).status == 202)
        #expect(f.handle(.get, path).object["name"] as? String == "dave", "nothing changed on a 415")
    }

    /// `Name` in openapi/client.yaml, as the server reads it (before the messenger trims it).
    @Test(arguments: [("bob", true), ("  Bob Smith ", true), ("é", true), ("👍🏽", true), (String(repeating: "x", count: 64), true),
                      ("", false), ("   ", false), ("\u{00A0}\u{3000}", false), (String(repeating: "x", count: 65), false),
                      ("bob\t", false), ("b\u{202E}ob", false), ("bo\u{AD}b", false), ("bob\u{E0020}", false), ("\u{7F}", false)])
    func namesAreCheckedAsTheSpecSays(name: String, accepted: Bool) throws {
        let f = try ClientRoutesFixture()
        let dave = try User("dave", relays: FakeRelays.make(3))
        #expect(f.handle(.post, "/v1/contacts", body: #"{"invite":"\#(try dave.invite(now: .t0).uri)"}"#).status == 201)
        let body = String(decoding: try JSONSerialization.data(withJSONObject: ["name": name]), as: UTF8.self)
        let response = f.handle(.put, "/v1/contacts/\(dave.id.hex)", body: body)
        #expect(response.status == (accepted ? 200 : 400), "\(name.unicodeScalars.map { String($0.value, radix: 16) })")
        let pattern = try NSRegularExpression(pattern: try Self.clientSpecNamePattern())
        let matches = pattern.firstMatch(in: name, range: NSRange(name.startIndex..., in: name)) != nil
        #expect(matches == (accepted || name.unicodeScalars.count > 64), "the spec's pattern agrees (maxLength aside)")
    }

    /// The spec's `Name` pattern is the server's rule written out from this toolchain's Unicode
    /// tables: no Cc or Cf scalar, and one that is neither those nor white space.
    @Test func theSpecsNamePatternIsTheServersRule() throws {
        var excluded: [ClosedRange<UInt32>] = []
        var excludedOrSpace: [ClosedRange<UInt32>] = []
        func add(_ value: UInt32, to ranges: inout [ClosedRange<UInt32>]) {
            if let last = ranges.last, last.upperBound + 1 == value { ranges[ranges.count - 1] = last.lowerBound...value }
            else { ranges.append(value...value) }
        }
        for value in UInt32(0)...0x10FFFF {
            guard let scalar = Unicode.Scalar(value) else { continue }
            let controlOrFormat = ClientRoutes.isControlOrFormat(scalar)
            if controlOrFormat { add(value, to: &excluded) }
            if controlOrFormat || scalar.properties.isWhitespace { add(value, to: &excludedOrSpace) }
        }
        func escaped(_ value: UInt32) -> String {
            value < 0x10000 ? "\\u" + String(format: "%04X", value) : String(Character(Unicode.Scalar(value)!))
        }
        func characterClass(_ ranges: [ClosedRange<UInt32>]) -> String {
            ranges.map { range in
                switch range.count {
                case 1: escaped(range.lowerBound)
                case 2: escaped(range.lowerBound) + escaped(range.upperBound)
                default: escaped(range.lowerBound) + "-" + escaped(range.upperBound)
                }
            }.joined()
        }
        let expected = "^[^\(characterClass(excluded))]*[^\(characterClass(excludedOrSpace))][^\(characterClass(excluded))]*$"
        #expect(try Self.clientSpecNamePattern() == expected)
    }

    static func clientSpec() throws -> [String: Any] {
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("openapi/client.yaml")
        return try #require(try Yams.load(yaml: String(contentsOf: file, encoding: .utf8)) as? [String: Any])
    }

    static func clientSpecNamePattern() throws -> String {
        let schemas = try #require((try clientSpec()["components"] as? [String: Any])?["schemas"] as? [String: Any])
        return try #require((schemas["Name"] as? [String: Any])?["pattern"] as? String)
    }

    /// openapi/client.yaml lists exactly the routes the client serves.
    @Test func openAPIMatchesTheRoutes() throws {
        let f = try ClientRoutesFixture()
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("openapi/client.yaml")
        let spec = try #require(try Yams.load(yaml: String(contentsOf: file, encoding: .utf8)) as? [String: Any])
        let paths = try #require(spec["paths"] as? [String: Any])
        var documented: Set<String> = []
        for (path, item) in paths {
            for method in (item as? [String: Any] ?? [:]).keys where ["get", "post", "put", "delete", "patch"].contains(method) {
                documented.insert("\(method.uppercased()) \(path)")
            }
        }
        #expect(documented == f.router.openAPIOperations)
    }

    /// The spec's `Event` names every event the daemon sends, and each of its examples is an
    /// event the API's own reader takes, written back as the example says.
    @Test func openAPIEventsAreTheEventsSent() throws {
        let spec = try Self.clientSpec()
        let schemas = try #require((spec["components"] as? [String: Any])?["schemas"] as? [String: Any])
        let event = try #require(schemas["Event"] as? [String: Any])
        let properties = try #require(event["properties"] as? [String: Any])
        let names = try #require((properties["event"] as? [String: Any])?["enum"] as? [String])
        let paths = try #require(spec["paths"] as? [String: Any])
        let get = try #require((paths["/v1/events"] as? [String: Any])?["get"] as? [String: Any])
        let ok = try #require((get["responses"] as? [String: Any])?["200"] as? [String: Any])
        let stream = try #require((ok["content"] as? [String: Any])?["text/event-stream"] as? [String: Any])
        let examples = try #require(stream["examples"] as? [String: Any])
        #expect(Set(examples.keys) == Set(names) && names.count == Set(names).count)
        for (key, example) in examples {
            let value = try #require((example as? [String: Any])?["value"] as? [String: String], "\(key)")
            let sent = ServerSentEvent(event: try #require(value["event"]), data: try #require(value["data"]))
            let decoded = try #require(APIEvent(sent), "\(key): the example is not that event's JSON")
            #expect(decoded.name == key && sent.event == key)
            let written = try JSONSerialization.jsonObject(with: Data(decoded.serverSentEvent.data.utf8)) as? NSDictionary
            let documented = try JSONSerialization.jsonObject(with: Data(sent.data.utf8)) as? NSDictionary
            #expect(written == documented, "\(key)")
        }
    }
}
