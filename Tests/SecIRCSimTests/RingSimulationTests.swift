import SecIRCCore
import SecIRCSim
import Testing

/// A first ring of three (threshold two) in the simulator, running the relays' real engines:
/// each period's directory is voted, signed by the members and published; one member down
/// changes nothing users see; two down stop new directories while clients keep messaging on the
/// last one, and the ring publishes again once they return; a fourth member added by a roster
/// change is followed by every relay and client.
@Suite struct RingSimulationTests {
    static func ring(seed: String) -> SimulationOptions {
        var options = SimulationOptions()
        options.relays = 5
        options.ringSize = 3
        options.clients = 4
        options.duration = .seconds(150)
        options.messageInterval = .seconds(20)
        options.directoryPeriod = .seconds(10)
        options.seed = seed
        options.retryMax = .seconds(20)
        return options
    }

    static func numbers(_ report: SimulationReport, _ key: String) -> [Int] {
        (report[key] ?? "").split(separator: ",").compactMap { Int($0) }
    }

    @Test func threeMembersPublishEveryPeriodAndMessagesArrive() {
        let report = Simulation(options: Self.ring(seed: "ring")).run()
        #expect(Int(report["sent"] ?? "") ?? 0 > 10 && report["lost"] == "0" && report["duplicated"] == "0", "\(report)")
        let published = Self.numbers(report, "ring_published")
        #expect(published.count == 3 && published.allSatisfy { $0 >= 15 }, "a directory each 10 s period: \(report)")
        #expect(Set(Self.numbers(report, "ring_last_serial")).count == 1, "the same last directory: \(report)")
        #expect(report["ring_equivocations"] == "0", "\(report)")
    }

    @Test func oneMemberDownChangesNothing() {
        var options = Self.ring(seed: "ring, one down")
        options.crashes = [SimulationOptions.Crash(relay: .index(1), at: .seconds(30), downtime: .seconds(3_600))]
        let report = Simulation(options: options).run()
        #expect(Int(report["sent"] ?? "") ?? 0 > 10 && report["lost"] == "0", "\(report)")
        let published = Self.numbers(report, "ring_published")
        #expect(published.count == 3 && published[0] >= 15 && published[2] >= 15, "the two left publish on: \(report)")
        let last = Self.numbers(report, "ring_last_serial")
        #expect(last.count == 3 && last[0] == last[2] && last[0] > last[1] + 10, "\(report)")
    }

    @Test func twoMembersDownStopNewDirectoriesButNotMessagesUntilTheyReturn() {
        var options = Self.ring(seed: "ring, two down")
        options.crashes = [SimulationOptions.Crash(relay: .index(1), at: .seconds(30), downtime: .seconds(60)),
                           SimulationOptions.Crash(relay: .index(2), at: .seconds(30), downtime: .seconds(60))]
        let report = Simulation(options: options).run()
        #expect(Int(report["sent"] ?? "") ?? 0 > 10 && report["lost"] == "0", "the last directory still serves: \(report)")
        let failed = Self.numbers(report, "ring_failed")
        #expect(failed.count == 3 && failed[0] >= 5, "member 0 alone cannot publish for a minute: \(report)")
        let last = Self.numbers(report, "ring_last_serial")
        #expect(last.count == 3 && Set(last).count == 1, "back together once the two return: \(report)")
        #expect(Self.numbers(report, "ring_published").first ?? 0 >= 12, "\(report)")
    }

    @Test func aFourthMemberAddedByProposalIsFollowedByEveryRelayAndClient() {
        var options = Self.ring(seed: "ring, a fourth member")
        options.rosterChanges = [SimulationOptions.RosterChangeAt(addRelay: 3, at: .seconds(20))]
        let report = Simulation(options: options).run()
        #expect(Int(report["sent"] ?? "") ?? 0 > 10 && report["lost"] == "0" && report["duplicated"] == "0", "\(report)")
        #expect(Self.numbers(report, "roster_epochs") == [1, 1, 1, 1, 1], "every relay follows the change: \(report)")
        #expect(Self.numbers(report, "client_roster_epochs").allSatisfy { $0 == 1 }, "and every client: \(report)")
        let published = Self.numbers(report, "relay_ring_published")
        #expect(published.count == 5 && published[3] >= 8 && published[4] == 0, "the new member signs and publishes: \(report)")
        // Directories of the roster of four need three signatures.
        #expect(Self.numbers(report, "directory_signers").allSatisfy { $0 >= 3 }, "\(report)")
        #expect(report["ring_equivocations"] == "0", "\(report)")
    }

    /// The ring sets the cover rate by a roster change: every directory after it carries the
    /// governed rate, whatever the members' security.yaml says.
    @Test func aNetworkParameterSetByARosterChangeReachesEveryDirectory() {
        var options = Self.ring(seed: "ring, governed cover rate")
        options.coverRate = 2
        options.rosterChanges = [SimulationOptions.RosterChangeAt(network: GovernedParameters(coverRate: 0.5), at: .seconds(20))]
        let report = Simulation(options: options).run()
        #expect(Int(report["sent"] ?? "") ?? 0 > 10 && report["lost"] == "0", "\(report)")
        #expect(Self.numbers(report, "roster_epochs") == [1, 1, 1, 1, 1], "\(report)")
        #expect((report["directory_cover_rates"] ?? "") == "0.5,0.5,0.5,0.5,0.5", "\(report)")
    }
}
