import Foundation
import SecIRCConfig
import SecIRCCore
import SecIRCCrypto
import SecIRCHTTP
import SecIRCLock
import SecIRCNode
import SecIRCRelay
import SecIRCTransport
import Testing
import Yams

/// The relay's HTTP routes without a socket, against a state the test controls and a real
/// relay engine (first ring or not) answering the commands, on a fixed time.
final class RoutesFixture: Sendable {
    let state: RelayState
    let metrics = RelayMetrics()
    let routes: RelayRoutes
    let router: HTTPRouter
    let ring: SigningPrivateKey
    /// With `ringSize` > 1: every member's key (`ring` first; the engine is member 0).
    let members: [SigningPrivateKey]
    let commands = Locked<[String]>([])
    let drained = Locked(false)
    let engine: Locked<RelayEngine>
    static let token = String(repeating: "ab", count: 32)
    static let now = UnixTime(seconds: 50_000)

    /// `ringSize` > 1: the engine is member 0 of a first ring of that many, with a 100 s period
    /// (a round starts at `now`) and started, so its first round runs.
    init(authority: Bool = true, ringSize: Int = 1, admission: AdmissionPolicy = AdmissionPolicy()) throws {
        var rng = SeededRandom(seed: "routes")
        ring = SigningPrivateKey(using: &rng)
        var memberKeys = SeededRandom(seed: "routes ring")
        members = [ring] + (1..<max(ringSize, 1)).map { _ in SigningPrivateKey(using: &memberKeys) }
        let roster = Roster(members: members.enumerated().map { i, key in
            Roster.Member(identityKey: key.publicKey, udp: "127.0.0.1:\(6690 + 10 * i)", http: "http://127.0.0.1:\(6691 + 10 * i)")
        })
        state = RelayState(relayID: ring.publicKey.id, trustedRoster: roster, isAuthority: authority, tlsFingerprint: nil)
        // A first ring signs with the roster's key; a member relay has a key of its own.
        let identity = authority ? ring : SigningPrivateKey(using: &rng)
        var configuration = RelayEngine.Configuration(
            identity: identity, linkKey: AgreementPrivateKey(using: &rng), roster: roster,
            network: NetworkParameters(coverRate: 2, meanDelayMs: 50), directoryPeriod: .seconds(ringSize > 1 ? 100 : 60),
            advertisedUDP: "127.0.0.1:6690", advertisedHTTP: "http://127.0.0.1:6691",
            mailbox: MailboxStore.Limits(ttl: .seconds(60), maxMessagesPerQueue: 10, maxMailboxes: 10, maxTotalBytes: 1 << 20),
            keyPeriod: .seconds(3_600), keyGrace: .seconds(60))
        configuration.admission = admission
        var relayEngine = RelayEngine(configuration: configuration, now: Self.now, rng: &rng)
        if ringSize > 1 {
            var effects = NodeEffects<RelayEngine.Event>()
            relayEngine.start(now: Self.now, rng: &rng, effects: &effects)
        }
        let engine = Locked(relayEngine)
        self.engine = engine
        let settings = try RelaySettings.load(serverPath: nil, securityPath: nil, environment: [:])
        let commands = self.commands
        let drained = self.drained
        routes = RelayRoutes(
            state: state, metrics: metrics, settings: settings, adminToken: HTTPBearerToken(SecureBytes(Array(Self.token.utf8))),
            logLevel: LogLevelControl(.info),
            perform: { command in
                commands.update { $0.append("\(command)") }
                var rng = SeededRandom(seed: "commands")
                var effects = NodeEffects<RelayEngine.Event>()
                return engine.modify { $0.handle(command, now: Self.now, rng: &rng, effects: &effects) }
            },
            clock: ManualClock(Self.now), drain: { drained.update { $0 = true } })
        router = routes.router()
    }

    func descriptor(_ key: SigningPrivateKey, port: Int, rng: inout SeededRandom) throws -> SignedDocument {
        try RelayDescriptor(
            identityKey: key.publicKey, linkKey: AgreementPrivateKey(using: &rng).publicKey, udp: "127.0.0.1:\(port)",
            http: "http://127.0.0.1:\(port + 1)",
            onionKeys: [.init(epoch: 1, key: AgreementPrivateKey(using: &rng).publicKey, validAfter: 50_000, validUntil: 60_000)],
            capacity: 5, flags: ["mailbox"], published: Self.now.seconds).signed(by: key)
    }

    /// Signs and installs a directory with the own descriptor and `others`.
    func installDirectory(others: Int) throws {
        var rng = SeededRandom(seed: "routes directory")
        var authority = DirectoryAuthority(identity: ring, roster: state.trustedRoster,
                                           network: NetworkParameters(coverRate: 2, meanDelayMs: 50), period: .seconds(60))
        let own = try descriptor(ring, port: 6690, rng: &rng)
        state.setDescriptor(own)
        try authority.setOwn(own)
        for i in 0..<others {
            let id = try authority.accept(descriptor(SigningPrivateKey(using: &rng), port: 7000 + 10 * i, rng: &rng), now: Self.now).id
            authority.admit(id, now: Self.now) // as if it answered the handshake challenge
        }
        let (document, directory) = authority.sign(now: Self.now)
        state.install(document: document, directory: directory, descriptors: try directory.descriptors())
        state.setUDPReady()
    }

    func handle(_ method: HTTPMethod, _ path: String, query: [String: String] = [:], headers: [String: String] = [:],
                body: String = "", token: String? = nil) -> HTTPResponse {
        var headers = headers
        if let token { headers["authorization"] = "Bearer \(token)" }
        if !body.isEmpty && headers["content-type"] == nil { headers["content-type"] = "application/json" }
        return router.handle(HTTPRequest(method: method, path: path, query: query, headers: headers, body: Array(body.utf8)))
    }
}

/// A value shared with `@Sendable` closures.
extension Locked where Value: Sendable {
    var value: Value { withLock { $0 } }
    func update(_ body: (inout Value) -> Void) { withLock { body(&$0) } }
    func modify<R: Sendable>(_ body: (inout Value) -> R) -> R { withLock { body(&$0) } }
}

extension HTTPResponse {
    var bytes: [UInt8] {
        if case let .bytes(bytes) = body { return bytes }
        return []
    }
    var object: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any]) ?? [:] }
    var errorCode: String? { (object["error"] as? [String: Any])?["code"] as? String }
    func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }
}

@Suite struct RelayRoutesTests {
    @Test func healthAndReadiness() throws {
        let f = try RoutesFixture()
        #expect(f.handle(.get, "/healthz").status == 200)
        let notReady = f.handle(.get, "/readyz")
        #expect(notReady.status == 503 && notReady.errorCode == "not_ready")
        try f.installDirectory(others: 0)
        #expect(f.handle(.get, "/readyz").status == 200)
        f.state.setDraining()
        #expect(f.handle(.get, "/readyz").status == 503)
    }

    @Test func directoryHasETagAndAnswers304() throws {
        let f = try RoutesFixture()
        #expect(f.handle(.get, "/v1/directory").status == 503)
        try f.installDirectory(others: 2)
        let response = f.handle(.get, "/v1/directory")
        #expect(response.status == 200)
        let etag = try #require(response.header("ETag"))
        #expect(etag == f.state.directory?.etag)
        #expect(response.bytes == f.state.directory?.json)
        let roster = f.state.trustedRoster
        #expect(try Unverified<RelayDirectory>(json: response.bytes).verified(trusting: roster, now: RoutesFixture.now.seconds).relays.count == 3)
        #expect(f.handle(.get, "/v1/directory", headers: ["if-none-match": etag]).status == 304)
        #expect(f.handle(.get, "/v1/directory", headers: ["if-none-match": "\"other\""]).status == 200)
        // A malformed `since` is 400 whatever the ETag (found by schemathesis: it was 304).
        let badSince = f.handle(.get, "/v1/directory", query: ["since": "R\u{F1}"], headers: ["if-none-match": "*"])
        #expect(badSince.status == 400 && badSince.errorCode == "invalid_parameter")
    }

    @Test func relaysFilterAndLimit() throws {
        let f = try RoutesFixture()
        try f.installDirectory(others: 2)
        #expect((f.handle(.get, "/v1/relays").object["relays"] as? [Any])?.count == 3)
        #expect((f.handle(.get, "/v1/relays", query: ["limit": "2"]).object["relays"] as? [Any])?.count == 2)
        // Flags as the ring granted them: `first_ring` only for the member that signed, whatever descriptors say.
        let ring = f.handle(.get, "/v1/relays", query: ["flag": "first_ring"]).object["relays"] as? [[String: Any]]
        #expect(ring?.count == 1 && ring?.first?["id"] as? String == f.state.trustedRoster.members[0].id.hex)
        #expect((f.handle(.get, "/v1/relays").object["relays"] as? [[String: Any]])?.allSatisfy { ($0["weight"] as? Int ?? 0) >= 1 } == true)
        #expect(f.handle(.get, "/v1/relays", query: ["limit": "0"]).errorCode == "invalid_parameter")
        #expect(f.handle(.get, "/v1/relays", query: ["limit": "x"]).status == 400)
        // flag: 1 to 32 characters (Unicode scalars, as the spec's minLength and maxLength count).
        #expect(f.handle(.get, "/v1/relays", query: ["flag": ""]).errorCode == "invalid_parameter")
        #expect(f.handle(.get, "/v1/relays", query: ["flag": String(repeating: "é", count: 32)]).status == 200)
        #expect(f.handle(.get, "/v1/relays", query: ["flag": String(repeating: "x", count: 33)]).status == 400)
    }

    @Test func descriptorUploadIsVerified() throws {
        let f = try RoutesFixture()
        var rng = SeededRandom(seed: "upload")
        let good = try f.descriptor(SigningPrivateKey(using: &rng), port: 9000, rng: &rng)
        let accepted = f.handle(.post, "/v1/descriptors", body: String(decoding: good.jsonBytes(), as: UTF8.self))
        #expect(accepted.status == 202)
        #expect(accepted.object["status"] as? String == "challenged", "listed once it answers a handshake at its address")
        var forged = good
        forged.body[20] ^= 1
        #expect(f.handle(.post, "/v1/descriptors", body: String(decoding: forged.jsonBytes(), as: UTF8.self)).status == 422)
        #expect(f.handle(.post, "/v1/descriptors", body: "{\"type\":1}").status == 400)
        #expect(f.handle(.post, "/v1/descriptors", body: "not json").status == 400)

        let member = try RoutesFixture(authority: false)
        let refused = member.handle(.post, "/v1/descriptors", body: String(decoding: good.jsonBytes(), as: UTF8.self))
        #expect(refused.status == 409 && refused.errorCode == "not_first_ring")
    }

    @Test(arguments: [
        (HTTPMethod.get, "/v1/admin/status"), (.get, "/v1/admin/peers"), (.post, "/v1/admin/keys/rotate"),
        (.post, "/v1/admin/drain"), (.get, "/v1/admin/log-level"), (.get, "/v1/admin/config"),
        (.delete, "/v1/admin/peers/\(String(repeating: "0", count: 64))"), (.get, "/v1/admin/admission"),
        (.delete, "/v1/admin/admission/ban/\(String(repeating: "0", count: 64))"),
        (.delete, "/v1/admin/admission/allow/\(String(repeating: "0", count: 64))"),
    ])
    func adminNeedsTheToken(method: HTTPMethod, path: String) throws {
        let f = try RoutesFixture()
        #expect(f.handle(method, path).status == 401)
        #expect(f.handle(method, path, token: "wrong").status == 401)
        #expect(f.handle(method, path, token: RoutesFixture.token).status < 300)
    }

    @Test func adminActionsReachTheDataPlane() throws {
        let f = try RoutesFixture()
        let t = RoutesFixture.token
        #expect(f.handle(.post, "/v1/admin/keys/rotate", token: t).status == 202)
        let id = String(repeating: "1", count: 64), key = String(repeating: "2", count: 64)
        let added = f.handle(.post, "/v1/admin/peers", body: "{\"id\":\"\(id)\",\"udp\":\"127.0.0.1:7000\",\"link_key\":\"\(key)\"}", token: t)
        #expect(added.status == 201)
        #expect(f.handle(.post, "/v1/admin/peers", body: "{\"id\":\"zz\",\"udp\":\"127.0.0.1:7000\",\"link_key\":\"\(key)\"}", token: t).status == 400)
        #expect(f.handle(.post, "/v1/admin/peers", body: "{\"id\":\"\(id)\",\"udp\":\"nowhere\",\"link_key\":\"\(key)\"}", token: t).status == 400)
        #expect(f.handle(.delete, "/v1/admin/peers/\(id)", token: t).status == 204)
        #expect(f.handle(.delete, "/v1/admin/peers/xyz", token: t).status == 400)
        let log = f.commands.value
        #expect(log.count == 3)
        #expect(log[0] == "rotateKeys")
        #expect(log[1].hasPrefix("addPeer"))
        #expect(log[2].hasPrefix("removePeer"))
        #expect(f.handle(.post, "/v1/admin/drain", token: t).status == 202)
        #expect(f.drained.value)
    }

    /// `Peer.udp` in openapi/relay.yaml: a numeric address, a plain port 1-65535, no zone, never a
    /// host name (which would ask a resolver on an HTTP thread).
    @Test(arguments: [("127.0.0.1:7000", true), ("192.0.2.1:65535", true), ("[::1]:1", true), ("[2001:DB8::1]:6690", true),
                      ("localhost:7000", false), ("relay.example:7000", false), ("127.0.0.1:0", false), ("127.0.0.1:+80", false),
                      ("127.0.0.1:080", false), ("127.0.0.1:65536", false), ("[fe80::1%lo]:7000", false), ("::1:7000", false),
                      ("256.0.0.1:1", false), ("1.2.3:4", false), ("127.0.0.1", false), ("", false)])
    func peerAddressesAreNumeric(udp: String, accepted: Bool) throws {
        let f = try RoutesFixture()
        let id = String(repeating: "1", count: 64), key = String(repeating: "2", count: 64)
        let body = String(decoding: try JSONSerialization.data(withJSONObject: ["id": id, "udp": udp, "link_key": key]), as: UTF8.self)
        let response = f.handle(.post, "/v1/admin/peers", body: body, token: RoutesFixture.token)
        #expect(response.status == (accepted ? 201 : 400), "\(udp)")
        let pattern = try NSRegularExpression(pattern: try Self.relaySpecUDPPattern())
        #expect((pattern.firstMatch(in: udp, range: NSRange(udp.startIndex..., in: udp)) != nil) == accepted, "the spec agrees on \(udp)")
    }

    static func relaySpecUDPPattern() throws -> String {
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("openapi/relay.yaml")
        let spec = try #require(try Yams.load(yaml: String(contentsOf: file, encoding: .utf8)) as? [String: Any])
        let schemas = try #require((spec["components"] as? [String: Any])?["schemas"] as? [String: Any])
        let peer = try #require((schemas["Peer"] as? [String: Any])?["properties"] as? [String: Any])
        return try #require((peer["udp"] as? [String: Any])?["pattern"] as? String)
    }

    /// Every route with a body wants JSON (415 otherwise) and refuses fields it does not know.
    @Test func bodiesAreJSONWithKnownFieldsOnly() throws {
        let f = try RoutesFixture()
        let t = RoutesFixture.token
        let id = String(repeating: "1", count: 64), key = String(repeating: "2", count: 64)
        let peer = "{\"id\":\"\(id)\",\"udp\":\"127.0.0.1:7000\",\"link_key\":\"\(key)\""
        for (method, path, body) in [(HTTPMethod.post, "/v1/admin/peers", peer + "}"), (.put, "/v1/admin/log-level", "{\"level\":\"info\"}"),
                                     (.post, "/v1/descriptors", #"{"type":"secirc-descriptor-v1","body":"","signatures":[]}"#)] {
            for contentType in ["text/plain", "application/x-www-form-urlencoded"] {
                let response = f.handle(method, path, headers: ["content-type": contentType], body: body, token: t)
                #expect(response.status == 415 && response.object["error"] != nil, "\(path) as \(contentType)")
            }
        }
        let extra = f.handle(.post, "/v1/admin/peers", body: peer + ",\"weight\":1}", token: t)
        #expect(extra.status == 400 && (extra.object["error"] as? [String: Any])?["message"] as? String == "unknown field 'weight'")
        #expect(f.handle(.put, "/v1/admin/log-level", body: "{\"level\":\"info\",\"x\":\"\u{0}\"}", token: t).status == 400)
        let signature = #"{"key":"\#(key)","sig":"\#(String(repeating: "3", count: 128))","by":"me"}"#
        let nested = f.handle(.post, "/v1/descriptors", body: #"{"type":"secirc-descriptor-v1","body":"","signatures":[\#(signature)]}"#)
        #expect(nested.status == 400 && (nested.object["error"] as? [String: Any])?["message"] as? String == "unknown field 'signatures[0].by'")
        #expect(f.commands.value.isEmpty, "nothing refused reached the relay's engine")
    }

    @Test func logLevelAndConfig() throws {
        let f = try RoutesFixture()
        let t = RoutesFixture.token
        #expect(f.handle(.put, "/v1/admin/log-level", body: "{\"level\":\"debug\"}", token: t).object["level"] as? String == "debug")
        #expect(f.handle(.get, "/v1/admin/log-level", token: t).object["level"] as? String == "debug")
        #expect(f.handle(.put, "/v1/admin/log-level", body: "{\"level\":\"loud\"}", token: t).status == 400)
        let config = f.handle(.get, "/v1/admin/config", token: t).object
        #expect((config["server"] as? [String: Any])?["udp.listen"] as? String == "0.0.0.0:6690")
    }

    @Test func metricsAreTotalsOnly() throws {
        let f = try RoutesFixture()
        var counters = RelayCounters()
        counters.forwarded = 7
        counters.sphinxRejects[.replay] = 2
        f.metrics.publish(counters)
        let text = String(decoding: f.handle(.get, "/metrics").bytes, as: UTF8.self)
        #expect(text.contains("secirc_packets_forwarded_total 7\n"))
        #expect(text.contains("secirc_sphinx_replays_total 2\n"))
        #expect(text.contains("secirc_packets_dropped_total{layer=\"sphinx\",reason=\"replay\"} 2\n"))
        var limits = HTTPLimitCounters()
        limits.refusedPerIP = 3
        limits.closedHeaderTimeout = 4
        f.metrics.readHTTPLimits { [limits] in limits }
        let withLimits = String(decoding: f.handle(.get, "/metrics").bytes, as: UTF8.self)
        #expect(withLimits.contains("secirc_http_connections_refused_total{limit=\"per_ip\"} 3\n"))
        #expect(withLimits.contains("secirc_http_header_timeouts_total 4\n"))
        #expect(withLimits.contains("secirc_http_event_streams_refused_total 0\n"))
        #expect(!text.contains("127.0.0.1"))
    }

    @Test func unknownRoutesAndMethodsAreJSONErrors() throws {
        let f = try RoutesFixture()
        #expect(f.handle(.get, "/nope").errorCode == "not_found")
        #expect(f.handle(.delete, "/v1/directory").status == 405)
    }

    /// openapi/relay.yaml lists exactly the routes the relay serves.
    @Test func openAPIMatchesTheRoutes() throws {
        let f = try RoutesFixture()
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("openapi/relay.yaml")
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
}
