import Foundation
import SecIRCCore
import SecIRCCrypto
import SecIRCHTTP
import SecIRCNode
import Testing

/// Governance over the relay's routes (docs/PROTOCOL.md §3.5), against a real engine that is
/// member 0 of a first ring of three: an operator proposes, another member's signature comes
/// in over `POST /v1/ring/proposals`, the change is in force and served at `GET /v1/ring/roster`.
@Suite struct GovernanceRoutesTests {
    static let newcomer: SigningPrivateKey = {
        var rng = SeededRandom(seed: "newcomer")
        return SigningPrivateKey(using: &rng)
    }()

    static let addNewcomer = """
        {"add":[{"identity_key":"\(newcomer.publicKey.rawValue.hex)","udp":"127.0.0.1:6720","http":"http://127.0.0.1:6721"}],
         "note":"a fourth member"}
        """

    /// Publishes the engine's governance into the state, as the relay's loop does after a turn.
    static func publish(_ f: RoutesFixture) {
        let (status, chain) = f.engine.withLock { ($0.governanceStatus, $0.rosterChain) }
        f.state.setGovernance(status, chain: chain)
    }

    @Test func aProposalSignedByTheThresholdComesIntoForceAndIsServed() throws {
        let f = try RoutesFixture(ringSize: 3)
        #expect(f.handle(.get, "/v1/admin/ring/proposals").status == 401)
        let before = f.handle(.get, "/v1/admin/ring/proposals", token: RoutesFixture.token)
        #expect(before.status == 200 && before.object["epoch"] as? Int == 0 && before.object["member"] as? Bool == true)

        let proposed = f.handle(.post, "/v1/admin/ring/proposals", body: Self.addNewcomer, token: RoutesFixture.token)
        #expect(proposed.status == 201 && proposed.object["in_force"] as? Bool == false, "\(proposed.object)")
        let proposal = try #require(proposed.object["proposal"] as? [String: Any])
        let id = try #require(proposal["id"] as? String)
        #expect(proposal["signers"] as? [String] == [f.members[0].publicKey.id.hex] && proposal["needed"] as? Int == 2)
        #expect((proposal["roster"] as? [String: Any])?["epoch"] as? Int == 1)
        Self.publish(f)
        let listed = f.handle(.get, "/v1/admin/ring/proposals", token: RoutesFixture.token)
        #expect((listed.object["proposals"] as? [[String: Any]])?.map { $0["id"] as? String } == [id])
        #expect((listed.object["signed"] as? [String: Any])?["id"] as? String == id)

        // One proposal per epoch from this member.
        let rival = Self.addNewcomer.replacingOccurrences(of: "a fourth member", with: "another")
        let again = f.handle(.post, "/v1/admin/ring/proposals", body: rival, token: RoutesFixture.token)
        #expect(again.status == 409 && again.errorCode == "already_signed")

        // Member 1 signs the same body: in force.
        var document = try SignedDocument.decode(json: try JSONSerialization.data(withJSONObject: proposal["document"]!).map { $0 })
        document.signatures = []
        document.sign(with: f.members[1])
        let taken = f.handle(.post, "/v1/ring/proposals", body: String(decoding: document.jsonBytes(), as: UTF8.self))
        #expect(taken.status == 202 && taken.object["status"] as? String == "in_force", "\(taken.object)")
        #expect(f.handle(.post, "/v1/ring/proposals", body: String(decoding: document.jsonBytes(), as: UTF8.self))
            .object["status"] as? String == "duplicate")
        Self.publish(f)
        let roster = f.handle(.get, "/v1/ring/roster")
        #expect(roster.status == 200 && roster.object["epoch"] as? Int == 1)
        let changes = try #require(roster.object["changes"] as? [[String: Any]])
        #expect(changes.count == 1 && changes[0]["type"] as? String == "secirc-roster-change-v1")
        #expect((f.handle(.get, "/v1/ring/roster", query: ["since": "1"]).object["changes"] as? [Any])?.isEmpty == true)
        let members = try #require((roster.object["roster"] as? [String: Any])?["members"] as? [[String: Any]])
        #expect(members.count == 4 && (roster.object["roster"] as? [String: Any])?["threshold"] as? Int == 3)
        // The answer is what a tracker reads.
        let answer = try RosterChainAnswer.decode(json: roster.bytes)
        var chain = RosterChain(genesis: f.state.trustedRoster)
        for change in answer.changes { try chain.append(change) }
        #expect(chain.current.keys.contains(Self.newcomer.publicKey))
    }

    @Test func badGovernanceRequestsGetClearErrors() throws {
        let f = try RoutesFixture(ringSize: 3)
        let token = RoutesFixture.token
        func propose(_ body: String) -> HTTPResponse { f.handle(.post, "/v1/admin/ring/proposals", body: body, token: token) }
        #expect(propose(#"{"add":[{"identity_key":"xyz","udp":"127.0.0.1:1","http":"http://a"}]}"#).errorCode == "invalid_request")
        #expect(propose(#"{"add":[{"identity_key":"\#(String(repeating: "a", count: 64))","udp":"relay.example:1","http":"http://a"}]}"#)
            .errorCode == "invalid_request")
        #expect(propose(#"{"remove":["nothex"]}"#).errorCode == "invalid_request")
        let notMember = propose(#"{"remove":["\#(String(repeating: "0", count: 64))"]}"#)
        #expect(notMember.status == 422 && notMember.errorCode == "invalid_proposal")
        #expect(propose(#"{"threshold":1}"#).status == 422, "a minority threshold")
        #expect(propose(#"{}"#).status == 422, "a change of nothing")
        #expect(propose(#"{"network":{"cover_rate":0}}"#).status == 422)
        #expect(propose(#"{"remove":["\#(f.members[0].publicKey.id.hex)","\#(f.members[1].publicKey.id.hex)","\#(f.members[2].publicKey.id.hex)"]}"#)
            .status == 422, "an empty roster")
        #expect(propose("[1,2").status == 400)
        // What the schema forbids in a note or a member's URL is refused, never signed.
        let add = #"{"identity_key":"\#(Self.newcomer.publicKey.rawValue.hex)","udp":"127.0.0.1:1","#
        #expect(propose(#"{"threshold":3,"note":"bell\u0007"}"#).errorCode == "invalid_proposal")
        #expect(propose(#"{"threshold":3,"note":"\#(String(repeating: "é", count: 141))"}"#).errorCode == "invalid_proposal")
        #expect(propose(#"{"add":[\#(add)"http":"http://a\u00df"}]}"#).errorCode == "invalid_proposal")
        #expect(propose(#"{"add":[\#(add)"http":"http://"}]}"#).errorCode == "invalid_proposal")
        #expect(propose(#"{"add":[\#(add)"http":"https://a\u0000"}]}"#).errorCode == "invalid_json")

        #expect(f.handle(.post, "/v1/admin/ring/proposals/zz/approve", token: token).status == 400)
        let unknown = f.handle(.post, "/v1/admin/ring/proposals/\(String(repeating: "ab", count: 32))/approve", token: token)
        #expect(unknown.status == 404 && unknown.errorCode == "unknown_proposal")

        #expect(f.handle(.post, "/v1/ring/proposals", body: "{\"type\":1}").status == 400)
        var outsider = try RosterChange.following(f.state.trustedRoster, members: f.state.trustedRoster.members, threshold: 3,
                                                  network: nil, proposedAt: 0, note: nil).unsignedDocument()
        outsider.sign(with: Self.newcomer)
        let refused = f.handle(.post, "/v1/ring/proposals", body: String(decoding: outsider.jsonBytes(), as: UTF8.self))
        #expect(refused.status == 422 && refused.errorCode == "invalid_proposal")
        let metrics = f.metrics
        metrics.publish(f.engine.withLock { $0.counters })
        #expect(metrics.render().contains("secirc_ring_proposals_refused_total 1\n"))
        #expect(metrics.render().contains("secirc_ring_roster_epoch 0\n"))
        #expect(f.handle(.get, "/v1/ring/roster", query: ["since": "-1"]).status == 400)
        #expect(f.handle(.get, "/v1/ring/roster", query: ["since": "99999999999999999999999"]).status == 400)
        #expect(f.handle(.get, "/v1/ring/roster", query: ["since": "7"]).status == 200)
    }

    @Test func aRelayOutsideTheRingTakesOnlyChangesInForce() throws {
        let f = try RoutesFixture(authority: false)
        let proposed = f.handle(.post, "/v1/admin/ring/proposals", body: Self.addNewcomer, token: RoutesFixture.token)
        #expect(proposed.status == 409 && proposed.errorCode == "not_ring_member")
        // A proposal signed by the roster's only member is in force at once: taken.
        var change = try RosterChange.following(f.state.trustedRoster, members: f.state.trustedRoster.members + [
            Roster.Member(identityKey: Self.newcomer.publicKey, udp: "127.0.0.1:6720", http: "http://127.0.0.1:6721"),
        ], threshold: nil, network: nil, proposedAt: 0, note: nil).unsignedDocument()
        let half = change
        #expect(f.handle(.post, "/v1/ring/proposals", body: String(decoding: half.jsonBytes(), as: UTF8.self)).status == 409)
        change.sign(with: f.ring)
        let taken = f.handle(.post, "/v1/ring/proposals", body: String(decoding: change.jsonBytes(), as: UTF8.self))
        #expect(taken.status == 202 && taken.object["status"] as? String == "in_force", "\(taken.object)")
        #expect(f.engine.withLock { $0.roster.epoch } == 1)
    }
}
