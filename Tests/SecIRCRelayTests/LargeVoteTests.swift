import Foundation
import Logging
import SecIRCConfig
import SecIRCCore
import SecIRCCrypto
import SecIRCNode
import SecIRCRelay
import SecIRCRuntime
import Testing

/// A ring member's vote carries every descriptor it accepts, so votes of a network of more than
/// about sixty relays are over the HTTP API's 64 KiB body limit: `POST /v1/ring/votes` takes
/// bodies up to a directory's size, over real HTTP, while every other route keeps 64 KiB.
@Suite struct LargeVoteTests {
    @Test func aVoteListingHundredsOfRelaysIsTakenOverHTTP() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("secirc-large-vote-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let identity = try RelayIdentity.loadOrCreate(dataDirectory: directory)
        var rng = SeededRandom(seed: "large vote")
        let others = (0..<2).map { _ in SigningPrivateKey(using: &rng) }
        let members = [identity.signingKey.publicKey] + others.map(\.publicKey)
        let list = members.enumerated().map { i, key in
            "{public_key: \(key.rawValue.hex), udp: '127.0.0.1:\(7100 + i)', http: 'http://127.0.0.1:\(7200 + i)'}"
        }.joined(separator: ", ")
        let settings = try RelaySettings.load(
            serverPath: nil, securityPath: nil, dataDirectory: directory, udpListen: "127.0.0.1:0", httpListen: "127.0.0.1:0",
            environment: ["SECIRC_SERVER_DIRECTORY_PERIOD_SECONDS": "100", "SECIRC_SECURITY_FIRST_RING_MEMBERS": "[\(list)]"])
        let node = try RelayNode(settings: settings, logLevel: LogLevelControl(.warning), logger: Logger(label: "test"))
        try node.start()
        let base = "http://127.0.0.1:\(node.httpPort)"

        // Member 1's vote for the round in progress, listing 300 relays (about 330 KB).
        let descriptors = try (0..<300).map { i in
            let key = SigningPrivateKey(using: &rng)
            return try RelayDescriptor(
                identityKey: key.publicKey, linkKey: AgreementPrivateKey(using: &rng).publicKey, udp: "10.0.\(i / 250).\(i % 250 + 1):6690",
                http: "http://10.0.\(i / 250).\(i % 250 + 1):6691",
                onionKeys: [.init(epoch: 1, key: AgreementPrivateKey(using: &rng).publicKey, validAfter: 0, validUntil: .max)],
                capacity: 1, flags: ["mailbox"], published: SystemClock().now().seconds).signed(by: key)
        }
        let serial = UInt64(SystemClock().now().seconds / 100)
        let roster = Roster(members: members.enumerated().map { i, key in
            Roster.Member(identityKey: key, udp: "127.0.0.1:\(7100 + i)", http: "http://127.0.0.1:\(7200 + i)")
        })
        let round = try RingRound(serial: serial, roster: roster, identity: others[0], previous: nil,
                                  validAfter: Int64(serial) * 100, validUntil: Int64(serial) * 100 + 86_400,
                                  network: NetworkParameters(coverRate: 2, meanDelayMs: 50), relays: descriptors)
        let vote = round.ownVote.jsonBytes()
        #expect(vote.count > 300_000)
        let headers = ["Content-Type": "application/json"]
        let answer = HTTPFetcher.exchange(FetchRequest(id: 1, method: .post, url: base + "/v1/ring/votes", headers: headers, body: vote))
        // Taken, or refused by the ring's rules (this member sits out the round it started in):
        // either way read and judged, not cut off at 64 KiB.
        #expect(answer.status == 202 || answer.status == 409, "\(answer.status.map(String.init) ?? "none"): \(String(decoding: answer.body, as: UTF8.self))")
        #expect(!String(decoding: answer.body, as: UTF8.self).contains("payload_too_large"))
        // Other routes keep the server's limit.
        let upload = HTTPFetcher.exchange(FetchRequest(id: 2, method: .post, url: base + "/v1/descriptors", headers: headers, body: vote))
        #expect(upload.status == 413)
        node.shutdown()
        await node.waitUntilStopped()
    }
}
