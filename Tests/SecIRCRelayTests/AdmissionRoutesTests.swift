import Foundation
import Logging
import SecIRCCore
import SecIRCCrypto
import SecIRCHTTP
import SecIRCNode
import SecIRCRelay
import SecIRCRuntime
import Testing

/// `POST /v1/descriptors` under the admission policy, and the admission admin routes: without a
/// socket (``RoutesFixture``), then over real HTTP against a running relay, restarted.
@Suite struct AdmissionRoutesTests {
    static let attacker = PeerKey.v4(0x0A00_0001)

    func upload(_ f: RoutesFixture, _ document: SignedDocument, from peer: PeerKey = attacker) -> HTTPResponse {
        f.router.handle(HTTPRequest(method: .post, path: "/v1/descriptors", headers: ["content-type": "application/json"],
                                    body: document.jsonBytes(), peer: peer))
    }

    func metric(_ f: RoutesFixture, _ result: String) -> Int? {
        let text = String(decoding: f.handle(.get, "/metrics").bytes, as: UTF8.self)
        let prefix = "secirc_relay_uploads_total{result=\"\(result)\"} "
        return text.split(separator: "\n").first { $0.hasPrefix(prefix) }.flatMap { Int($0.dropFirst(prefix.count)) }
    }

    /// security.yaml's defaults: 30 a minute, bursts of 10, per client host; the clock stands still.
    @Test func uploadsAreRateLimitedPerSource() throws {
        let f = try RoutesFixture()
        var rng = SeededRandom(seed: "rate")
        for i in 0..<10 {
            #expect(upload(f, try f.descriptor(SigningPrivateKey(using: &rng), port: 9000 + 2 * i, rng: &rng)).status == 202)
        }
        let refused = upload(f, try f.descriptor(SigningPrivateKey(using: &rng), port: 9100, rng: &rng))
        #expect(refused.status == 429 && refused.errorCode == "rate_limited")
        #expect(refused.header("Retry-After") == "2", "one upload every 2 s on average")
        #expect(upload(f, try f.descriptor(SigningPrivateKey(using: &rng), port: 9102, rng: &rng), from: .v4(0x0A00_0002)).status == 202,
                "another host has its own budget")
        // An IPv6 host is its /64.
        let v6 = (0..<16).map { UInt8($0 < 8 ? 0x20 : $0) }
        var other = v6
        other[15] ^= 0xff
        for i in 0..<10 { _ = upload(f, try f.descriptor(SigningPrivateKey(using: &rng), port: 9200 + 2 * i, rng: &rng), from: PeerKey(ipv6: v6)) }
        #expect(upload(f, try f.descriptor(SigningPrivateKey(using: &rng), port: 9300, rng: &rng), from: PeerKey(ipv6: other)).status == 429)
        #expect(metric(f, "rate_limited") == 2 && metric(f, "challenged") == 21)
        #expect(f.commands.value.count == 21, "refused before the engine")
    }

    @Test func capsAndListsAnswerClearErrors() throws {
        let f = try RoutesFixture(admission: AdmissionPolicy(maxRelaysPerAddress: 2))
        var rng = SeededRandom(seed: "caps")
        #expect(upload(f, try f.descriptor(SigningPrivateKey(using: &rng), port: 9000, rng: &rng)).status == 202)
        #expect(upload(f, try f.descriptor(SigningPrivateKey(using: &rng), port: 9002, rng: &rng)).status == 202)
        let third = upload(f, try f.descriptor(SigningPrivateKey(using: &rng), port: 9004, rng: &rng))
        #expect(third.status == 409 && third.errorCode == "address_limit")
        #expect(metric(f, "address_limit") == 1)
    }

    @Test func banAndAllowRoutes() throws {
        let f = try RoutesFixture()
        var rng = SeededRandom(seed: "lists")
        let t = RoutesFixture.token
        let banned = SigningPrivateKey(using: &rng)
        let ban = f.handle(.post, "/v1/admin/admission/ban", body: #"{"id":"\#(banned.publicKey.id.hex)"}"#, token: t)
        #expect(ban.status == 200 && ban.object["banned"] as? [String] == [banned.publicKey.id.hex])
        let refused = upload(f, try f.descriptor(banned, port: 9100, rng: &rng), from: .v4(9))
        #expect(refused.status == 403 && refused.errorCode == "banned")
        #expect(f.handle(.delete, "/v1/admin/admission/ban/\(banned.publicKey.id.hex)", token: t).object["banned"] as? [String] == [])
        #expect(upload(f, try f.descriptor(banned, port: 9100, rng: &rng), from: .v4(9)).status == 202, "the ban lifted")
        #expect(f.handle(.post, "/v1/admin/admission/ban", body: #"{"id":"xyz"}"#, token: t).status == 400)
        #expect(f.handle(.post, "/v1/admin/admission/allow", body: #"{"id":"\#(banned.publicKey.id.hex)","x":1}"#, token: t).status == 400)
        #expect(f.handle(.delete, "/v1/admin/admission/allow/nothex", token: t).status == 400)
        let allowed = f.handle(.post, "/v1/admin/admission/allow", body: #"{"id":"\#(banned.publicKey.id.hex)"}"#, token: t)
        #expect(allowed.object["allowed"] as? [String] == [banned.publicKey.id.hex])
        let read = f.handle(.get, "/v1/admin/admission", token: t).object
        #expect(read["mode"] as? String == "open" && read["max_relays_per_address"] as? Int == 0)
        #expect(metric(f, "banned") == 1)

        let member = try RoutesFixture(authority: false)
        #expect(member.handle(.get, "/v1/admin/admission", token: t).errorCode == "not_first_ring")
    }

    @Test func allowListModeRefusesStrangers() throws {
        let f = try RoutesFixture(admission: AdmissionPolicy(mode: .allowlist))
        var rng = SeededRandom(seed: "allow")
        let stranger = upload(f, try f.descriptor(SigningPrivateKey(using: &rng), port: 9000, rng: &rng))
        #expect(stranger.status == 403 && stranger.errorCode == "not_allowed")
        let friend = SigningPrivateKey(using: &rng)
        _ = f.handle(.post, "/v1/admin/admission/allow", body: #"{"id":"\#(friend.publicKey.id.hex)"}"#, token: RoutesFixture.token)
        #expect(upload(f, try f.descriptor(friend, port: 9002, rng: &rng)).status == 202)
    }

    /// Over real HTTP: a flood of uploads from one host is answered 429 with `Retry-After`; the
    /// lists changed through the admin routes are in `admission.json` (0600) and are there
    /// again after a restart.
    @Test func liveUploadsAndAdmissionListsSurviveARestart() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("secirc-admission-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        func start() async throws -> RelayNode {
            let settings = try RelaySettings.load(
                serverPath: nil, securityPath: nil, dataDirectory: directory, udpListen: "127.0.0.1:0", httpListen: "127.0.0.1:0",
                environment: ["SECIRC_SERVER_DIRECTORY_PERIOD_SECONDS": "60"])
            let node = try RelayNode(settings: settings, logLevel: LogLevelControl(.warning), logger: Logger(label: "test"))
            try node.start()
            let deadline = ContinuousClock.now.advanced(by: .seconds(20))
            while node.state.directory == nil, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
            return node
        }
        var node = try await start()
        let base = "http://127.0.0.1:\(node.httpPort)"
        let token = try String(contentsOfFile: directory + "/admin.token", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        func post(_ path: String, _ body: [UInt8], token: String? = nil) -> FetchResponse {
            var headers = ["Content-Type": "application/json"]
            if let token { headers["Authorization"] = "Bearer \(token)" }
            return HTTPFetcher.exchange(FetchRequest(id: 1, method: .post, url: base + path, headers: headers, body: body))
        }

        var rng = SeededRandom(seed: "live flood")
        var statuses: [Int: Int] = [:]
        var retryAfter: String?
        for i in 0..<40 {
            let key = SigningPrivateKey(using: &rng)
            let document = try RelayDescriptor(
                identityKey: key.publicKey, linkKey: AgreementPrivateKey(using: &rng).publicKey, udp: "10.\(i).0.1:6690",
                http: "http://10.\(i).0.1:6691",
                onionKeys: [.init(epoch: 1, key: AgreementPrivateKey(using: &rng).publicKey, validAfter: 0, validUntil: .max)],
                capacity: 1, flags: ["mailbox"], published: SystemClock().now().seconds).signed(by: key)
            let response = post("/v1/descriptors", document.jsonBytes())
            statuses[response.status ?? 0, default: 0] += 1
            if response.status == 429 { retryAfter = response.headers["retry-after"] }
        }
        // A burst of 10 and about one more every 2 s: the test takes far less than 2 s a request.
        #expect((10...12).contains(statuses[202, default: 0]) && statuses[202, default: 0] + statuses[429, default: 0] == 40, "\(statuses)")
        #expect(retryAfter.flatMap(Int.init).map { (1...2).contains($0) } == true, "\(retryAfter ?? "none")")

        let banned = ID(rawValue: try Bytes32(Array(repeating: 7, count: 32)))
        #expect(post("/v1/admin/admission/ban", Array(#"{"id":"\#(banned.hex)"}"#.utf8)).status == 401)
        #expect(post("/v1/admin/admission/ban", Array(#"{"id":"\#(banned.hex)"}"#.utf8), token: token).status == 200)
        let mode = try FileManager.default.attributesOfItem(atPath: directory + "/admission.json")[.posixPermissions] as? Int
        #expect(mode == 0o600)
        node.shutdown()
        await node.waitUntilStopped()

        node = try await start()
        let read = HTTPFetcher.exchange(FetchRequest(id: 2, method: .get, url: "http://127.0.0.1:\(node.httpPort)/v1/admin/admission",
                                                     headers: ["Authorization": "Bearer \(token)"]))
        let object = try JSONSerialization.jsonObject(with: Data(read.body)) as? [String: Any]
        #expect(object?["banned"] as? [String] == [banned.hex], "kept across the restart")
        node.shutdown()
        await node.waitUntilStopped()
    }

    /// `admission.json` from disk: what the relay wrote reads back; anything else stops start-up
    /// with an error naming the file.
    @Test(arguments: [
        #"{"version":1,"allowed":[],"banned":[]"#, #"{"version":1,"allowed":[],"banned":[]} x"#, #"{"version":2,"allowed":[],"banned":[]}"#,
        #"{"version":1,"allowed":["zz"],"banned":[]}"#, #"{"version":1,"allowed":[],"banned":[],"extra":1}"#, #"{"version":1}"#,
        #"{"version":1,"allowed":[],"allowed":[],"banned":[]}"#, "", "[]", "\u{0}",
    ])
    func brokenAdmissionFilesAreRefused(text: String) throws {
        let directory = try RelayStateFilesTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let files = RelayStateFiles(dataDirectory: directory)
        try Data(text.utf8).write(to: URL(fileURLWithPath: files.admissionPath))
        chmod(files.admissionPath, 0o600)
        #expect { try files.loadAdmission() } throws: { ($0 as? StateFileError)?.path == files.admissionPath }
    }

    @Test func admissionFilesRoundTripAndAreBounded() throws {
        let directory = try RelayStateFilesTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let files = RelayStateFiles(dataDirectory: directory)
        #expect(try files.loadAdmission() == AdmissionLists(), "none yet: empty lists")
        let lists = AdmissionLists(allowed: [ID(rawValue: try Bytes32(Array(repeating: 1, count: 32)))],
                                   banned: [ID(rawValue: try Bytes32(Array(repeating: 2, count: 32)))])
        try files.saveAdmission(lists)
        #expect(try files.loadAdmission() == lists)
        // Too many entries, and too many bytes.
        let many = (0...AdmissionLists.maximumEntries).map { "\"\(String(format: "%064x", $0))\"" }.joined(separator: ",")
        try Data(#"{"version":1,"allowed":[\#(many)],"banned":[]}"#.utf8).write(to: URL(fileURLWithPath: files.admissionPath))
        #expect(throws: StateFileError.self) { try files.loadAdmission() }
        try Data(repeating: 0x20, count: RelayStateFiles.maximumAdmissionBytes + 1).write(to: URL(fileURLWithPath: files.admissionPath))
        #expect(throws: StateFileError.self) { try files.loadAdmission() }
    }
}
