import Foundation
import SecIRCCore
import SecIRCCrypto
import SecIRCNode
import Testing

/// `POST /v1/ring/votes`, `POST /v1/ring/shares` and `GET /v1/ring/status` against a real
/// engine that is member 0 of a first ring of three, in its first round.
@Suite struct RingRoutesTests {
    /// Member `i`'s vote for the fixture's round (serial 500: 50,000 s with a 100 s period).
    static func vote(_ f: RoutesFixture, member i: Int, serial: UInt64 = 500) throws -> String {
        let round = try RingRound(serial: serial, roster: f.state.trustedRoster, identity: f.members[i], previous: nil,
                                  validAfter: Int64(serial) * 100, validUntil: Int64(serial) * 100 + 86_400,
                                  network: NetworkParameters(coverRate: 2, meanDelayMs: 50), relays: [])
        return String(decoding: round.ownVote.jsonBytes(), as: UTF8.self)
    }

    @Test func aMemberTakesVotesAndSaysWhatItDidWithThem() throws {
        let f = try RoutesFixture(ringSize: 3)
        let vote = try Self.vote(f, member: 1)
        let counted = f.handle(.post, "/v1/ring/votes", body: vote)
        #expect(counted.status == 202 && counted.object["status"] as? String == "counted")
        #expect(f.handle(.post, "/v1/ring/votes", body: vote).object["status"] as? String == "duplicate")
        #expect(f.handle(.post, "/v1/ring/votes", body: try Self.vote(f, member: 2, serial: 501)).object["status"] as? String == "held",
                "the next round's vote is kept for it")
        let otherRound = f.handle(.post, "/v1/ring/votes", body: try Self.vote(f, member: 2, serial: 503))
        #expect(otherRound.status == 409 && otherRound.errorCode == "other_round")

        var forged = try SignedDocument.decode(json: Array(vote.utf8))
        forged.body[forged.body.count - 3] ^= 1
        let invalid = f.handle(.post, "/v1/ring/votes", body: String(decoding: forged.jsonBytes(), as: UTF8.self))
        #expect(invalid.status == 422 && invalid.errorCode == "invalid_vote")
        let share = f.handle(.post, "/v1/ring/shares", body: String(decoding: forged.jsonBytes(), as: UTF8.self))
        #expect(share.status == 422 && share.errorCode == "invalid_share")
        #expect(f.handle(.post, "/v1/ring/votes", body: "{\"type\":1}").status == 400)

        f.state.setRingStatus(f.engine.withLock { $0.ringStatus })
        let status = f.handle(.get, "/v1/ring/status")
        #expect(status.status == 200)
        #expect(status.object["round"] as? Int == 500 && status.object["votes"] as? Int == 2, "\(status.object)")
        #expect(status.object["votes_refused"] as? Int == 2 && status.object["shares_refused"] as? Int == 1, "\(status.object)")
        #expect((status.object["equivocations"] as? [Any])?.isEmpty == true)
        let metrics = f.metrics
        var counters = f.engine.withLock { $0.counters }
        counters.ring = f.engine.withLock { $0.ringStatus }
        metrics.publish(counters)
        #expect(metrics.render().contains("secirc_ring_refused_total{what=\"vote\"} 2\n"))
    }

    /// A member that votes twice in one round is shown with its proof.
    @Test func aSecondVoteOfOneMemberIsKeptAsAProof() throws {
        let f = try RoutesFixture(ringSize: 3)
        _ = f.handle(.post, "/v1/ring/votes", body: try Self.vote(f, member: 1))
        let second = try RingRound(serial: 500, roster: f.state.trustedRoster, identity: f.members[1], previous: nil,
                                   validAfter: 50_000, validUntil: 60_000, network: NetworkParameters(coverRate: 9, meanDelayMs: 50),
                                   relays: [])
        let answer = f.handle(.post, "/v1/ring/votes", body: String(decoding: second.ownVote.jsonBytes(), as: UTF8.self))
        #expect(answer.status == 202 && answer.object["status"] as? String == "equivocation")
        f.state.setRingStatus(f.engine.withLock { $0.ringStatus })
        let status = f.handle(.get, "/v1/ring/status")
        let proofs = try #require(status.object["equivocations"] as? [[String: Any]])
        #expect(proofs.count == 1 && proofs[0]["kind"] as? String == "vote" && proofs[0]["member"] as? String == f.members[1].publicKey.rawValue.hex)
        #expect(status.object["equivocation_count"] as? Int == 1)
    }

    @Test func aRelayOutsideARingOfSeveralSaysSo() throws {
        let f = try RoutesFixture()
        let vote = try Self.vote(try RoutesFixture(ringSize: 3), member: 1)
        let refused = f.handle(.post, "/v1/ring/votes", body: vote)
        #expect(refused.status == 409 && refused.errorCode == "not_ring_member")
        #expect(f.handle(.post, "/v1/ring/shares", body: vote).errorCode == "not_ring_member")
        let status = f.handle(.get, "/v1/ring/status")
        #expect(status.status == 404 && status.errorCode == "not_ring_member")
    }
}
