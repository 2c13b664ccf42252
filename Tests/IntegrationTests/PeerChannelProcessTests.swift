import Foundation
import SecIRCCore
import SecIRCRuntime
import Testing

/// The peer channel with real processes (docs/PROTOCOL.md §3.7): a relay restarted while the
/// first ring is unreachable — its only configured source — starts from its cached directory,
/// then takes the newer one an ordinary relay it knows from that directory serves (channel
/// `peer`), verified by the ring's signatures like any other.
@Suite struct PeerChannelProcessTests {
    @Test func aRelayThatCannotReachTheRingTakesTheNewerDirectoryFromAPeer() async throws {
        // A 10 s period: a ring of one signs directories valid for three periods, so the one a
        // holds when the ring dies stays valid for b to take 20 s or more later.
        let network = try TestNetwork { $0.directoryPeriodSeconds = 10 }
        defer { network.stop() }
        let ring = try network.startRelay("r", trusting: nil)
        let a = try network.startRelay("a", trusting: ring)
        let b = try network.startRelay("b", trusting: ring)
        let roster = Roster(members: [Roster.Member(identityKey: ring.identityKey, udp: ring.udp, http: ring.http)])
        func served(_ relay: RelayProcess) throws -> RelayDirectory {
            try RestartTests.directory(api: relay.api, roster: roster).0
        }
        func channel(_ relay: RelayProcess) throws -> String? {
            (try relay.json("/v1/relay")["directory_source"] as? [String: Any])?["channel"] as? String
        }

        try await eventually("b holds a directory of the three relays", within: 60) { (try? served(b))?.relays.count == 3 }
        #expect(try channel(b) == "http")

        // b down with what it cached; the ring publishes on (a directory each period) and a follows.
        b.stop()
        let cached = try #require(try DirectoryCacheFile(dataDirectory: b.relay.dataDirectory).load(), "b cached its directory")
        let cachedSerial = try Unverified<RelayDirectory>(cached).verifiedAtAnyTime(trusting: roster).directory.serial
        try await eventually("a holds a newer directory than b cached", within: 30) { try served(a).serial > cachedSerial }

        // The ring gone: b's only configured source refuses, so b asks the relays it cached.
        ring.stop(signal: SIGKILL)
        let newest = try served(a)
        try b.restart()
        try await eventually("b takes a's directory by the peer channel", within: 30) {
            try channel(b) == "peer" && served(b).serial == newest.serial
        }
        #expect(try served(b).relays.count == 3)
        #expect(try b.request("/readyz").status == 200)
    }
}
