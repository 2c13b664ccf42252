import Foundation
import SecIRCAPI
import SecIRCCore
import SecIRCCrypto
import Testing

/// A first ring of three real relay processes (threshold two) and an ordinary relay, over real
/// UDP and HTTP on 127.0.0.1, with a 4 s directory period: directories voted and signed by the
/// members; one member killed changes nothing; two killed stop new directories while the last
/// one serves; a member back makes the ring publish again.
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
        #expect(try status(c)["last_published"] as? Int == (try status(a)["last_published"] as? Int), "a and c publish the same")
        #expect(try d.request("/readyz").status == 200)

        // c killed too: a alone cannot publish; the last directory still serves.
        c.stop(signal: SIGKILL)
        let failedBefore = try status(a)["rounds_failed"] as? Int ?? 0
        try await eventually("a's rounds fail without c", within: 60) { (try status(a)["rounds_failed"] as? Int ?? 0) >= failedBefore + 2 }
        let held = try served(d)
        #expect(try d.request("/readyz").status == 200, "d keeps the last directory")

        // c back: a and c publish again, and continue the chain d holds.
        try c.restart()
        try await eventually("a new directory once c is back", within: 60) { (try served(d)).serial > held.serial }
        let resumed = try served(d)
        #expect(resumed.linkedHash(serial: held.serial) != nil, "the new directory names the one d held")
        #expect(try a.metric("secirc_ring_equivocations_total") == 0)
        #expect(try a.metric("secirc_ring_rounds_total{result=\"published\"}") >= 3)
    }
}
