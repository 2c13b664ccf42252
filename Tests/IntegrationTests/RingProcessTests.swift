import Foundation
import SecIRCAPI
import SecIRCCore
import SecIRCCrypto
import Testing

/// A first ring of three real relay processes (threshold two) and an ordinary relay, over real
/// UDP and HTTP on 127.0.0.1, with a 4 s directory period: directories voted and signed by the
/// members; one member killed changes nothing; two killed stop new directories while the last
/// one serves; a member back makes the ring publish again; a fourth member added by a roster
/// change its operators propose and approve with the admin API is followed by a running client.
@Suite(.serialized) struct RingProcessTests {
    @Test func aRingOfThreeKeepsPublishingWithOneMemberDown() async throws {
        let network = try TestNetwork { $0.directoryPeriodSeconds = 4 }
        defer { network.stop() }
        let members = try network.devnet.startRing(["a", "b", "c"]).map { try RelayProcess($0, in: network.devnet) }
        let d = try network.startRelay("d", trustingRing: members)
        let (a, b, c) = (members[0], members[1], members[2])
        let roster = Roster(members: members.map { Roster.Member(identityKey: $0.identityKey, udp: $0.udp, http: $0.http) })
        func served(_ relay: RelayProcess) throws -> RelayDirectory {
            try RestartTests.directory(api: relay.api, roster: roster).0
        }
        func status(_ relay: RelayProcess) throws -> [String: Any] { try relay.json("/v1/ring/status") }

        // Every relay listed, in a directory at least two members signed.
        try await eventually("a directory of the four relays at d", within: 60) {
            (try? served(d))?.relays.count == 4
        }
        let first = try served(d)
        #expect(first.roster.members.count == 3 && first.roster.threshold == 2)

        // b killed: a and c go on publishing, and d follows.
        b.stop(signal: SIGKILL)
        let afterKill = try status(a)["last_published"] as? Int ?? 0
        try await eventually("two more directories from a and c", within: 60) {
            let published = try status(a)["last_published"] as? Int ?? 0
            return try published >= afterKill + 2 && served(d).serial >= UInt64(afterKill + 2)
        }
        // Each publishes once the shares reach it: c may be a few milliseconds behind a.
        try await eventually("a and c publish the same", within: 20) {
            try status(c)["last_published"] as? Int == (try status(a)["last_published"] as? Int)
        }
        #expect(try d.request("/readyz").status == 200)

        // c killed too: a alone cannot publish; the last directory still serves.
        c.stop(signal: SIGKILL)
        let failedBefore = try status(a)["rounds_failed"] as? Int ?? 0
        try await eventually("a's rounds fail without c", within: 60) { (try status(a)["rounds_failed"] as? Int ?? 0) >= failedBefore + 2 }
        let held = try served(d)
        #expect(try d.request("/readyz").status == 200, "d keeps the last directory")

        // c back: a and c publish again, and continue the chain d holds. (Counted from a's own
        // rounds: d may still have held an older directory than a's last when c went down.)
        let published = "secirc_ring_rounds_total{result=\"published\"}"
        let publishedBefore = try a.metric(published)
        try c.restart()
        try await eventually("a new directory once c is back", within: 60) {
            try a.metric(published) > publishedBefore && served(d).serial > held.serial
        }
        let resumed = try served(d)
        #expect(resumed.linkedHash(serial: held.serial) != nil, "the new directory names the one d held")
        #expect(try a.metric("secirc_ring_equivocations_total") == 0)
        #expect(try a.metric(published) >= 2)
    }

    @Test func aFourthMemberJoinsByProposalAndARunningClientFollows() async throws {
        let network = try TestNetwork { $0.directoryPeriodSeconds = 4 }
        defer { network.stop() }
        let members = try network.devnet.startRing(["a", "b", "c"]).map { try RelayProcess($0, in: network.devnet) }
        let d = try network.startRelay("d", trustingRing: members)
        let (a, b) = (members[0], members[1])
        let first = Roster(members: members.map { Roster.Member(identityKey: $0.identityKey, udp: $0.udp, http: $0.http) })
        try await eventually("a directory of the four relays at d", within: 60) {
            (try? RestartTests.directory(api: d.api, roster: first))?.0.relays.count == 4
        }
        let alice = try network.startClient("alice")
        defer { _ = alice.stop() }
        try alice.waitReady()
        func aliceDirectory() throws -> [String: Any] {
            let body = try alice.request("/v1/network").body
            return ((try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])?["directory"] as? [String: Any]) ?? [:]
        }
        try await eventually("alice holds a directory", within: 30) { (try aliceDirectory())["serial"] != nil }
        #expect(try aliceDirectory()["roster_epoch"] as? Int == 0)

        // a's operator proposes d; b's approves: two of three, in force.
        let proposal = #"{"add":[{"identity_key":"\#(d.identityKey.rawValue.hex)","udp":"\#(d.udp)","http":"\#(d.http)"}],"note":"d joins"}"#
        let proposed = try a.request("/v1/admin/ring/proposals", method: "POST", body: Array(proposal.utf8), token: a.adminToken)
        #expect(proposed.status == 201, "\(String(decoding: proposed.body, as: UTF8.self))")
        let id = try #require(((try JSONSerialization.jsonObject(with: Data(proposed.body)) as? [String: Any])?["proposal"]
                as? [String: Any])?["id"] as? String)
        try await eventually("b holds the proposal", within: 20) {
            let list = try b.json("/v1/admin/ring/proposals", token: b.adminToken)
            return (list["proposals"] as? [[String: Any]])?.contains { $0["id"] as? String == id } == true
        }
        let approved = try b.request("/v1/admin/ring/proposals/\(id)/approve", method: "POST", token: b.adminToken)
        #expect(approved.status == 201 && String(decoding: approved.body, as: UTF8.self).contains("\"in_force\":true"),
                "\(String(decoding: approved.body, as: UTF8.self))")

        // d votes and signs from the next round; every relay serves directories of the roster of four.
        var next = first
        next.members.append(Roster.Member(identityKey: d.identityKey, udp: d.udp, http: d.http))
        next.threshold = 3
        next.epoch = 1
        try await eventually("d publishes as a member", within: 60) {
            (try? d.json("/v1/ring/status"))?["last_published"] as? Int ?? 0 > 0
        }
        for relay in [a, b, members[2], d] {
            try await eventually("\(relay.name) serves a directory of the roster of four", within: 30) {
                (try? RestartTests.directory(api: relay.api, roster: next))?.0.roster == next
            }
            let chain = try relay.json("/v1/ring/roster")
            #expect(chain["epoch"] as? Int == 1 && (chain["changes"] as? [Any])?.count == 1)
        }
        // The client, configured with the roster of three, followed the change.
        try await eventually("alice follows the roster change", within: 60) {
            let directory = try aliceDirectory()
            return directory["roster_epoch"] as? Int == 1 && directory["ring_members"] as? Int == 4
        }
        #expect(try a.metric("secirc_ring_equivocations_total") == 0)
        #expect(d.logText.contains("the first ring changed"))
        #expect(try d.metric("secirc_ring_roster_epoch") == 1 && a.metric("secirc_ring_proposals_pending") == 0)
    }

    /// The ring's three members stop answering (SIGSTOP: their ports take connections and
    /// datagrams and answer nothing, as blocked addresses would); a client started then, whose
    /// bootstrap URLs are the members and the ordinary relay d, gets the directory from d — a
    /// mirror is only a channel: its signatures are the ring's.
    @Test func aClientBootstrapsFromAnOrdinaryRelayWhileTheRingIsUnreachable() async throws {
        let network = try TestNetwork { $0.directoryPeriodSeconds = 4 }
        defer { network.stop() }
        let members = try network.devnet.startRing(["a", "b", "c"]).map { try RelayProcess($0, in: network.devnet) }
        let d = try network.startRelay("d", trustingRing: members)
        let roster = Roster(members: members.map { Roster.Member(identityKey: $0.identityKey, udp: $0.udp, http: $0.http) })
        try await eventually("a directory of the four relays at d", within: 60) {
            (try? RestartTests.directory(api: d.api, roster: roster))?.0.relays.count == 4
        }
        let stopped = members.compactMap { network.devnet.pid(of: $0.name) }
        #expect(stopped.count == 3)
        for pid in stopped { kill(pid, SIGSTOP) }
        defer { for pid in stopped { kill(pid, SIGCONT) } }

        let alice = try network.startClient("alice")
        defer { _ = alice.stop() }
        try alice.waitReady()
        func directory() throws -> [String: Any] {
            let body = try alice.request("/v1/network").body
            return ((try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])?["directory"] as? [String: Any]) ?? [:]
        }
        try await eventually("alice verifies a directory fetched from d", within: 90) { (try directory())["relays"] as? Int == 4 }
        #expect(try directory()["channel"] as? String == "http")
    }
}
