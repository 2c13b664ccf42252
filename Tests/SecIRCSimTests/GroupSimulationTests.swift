import SecIRCSim
import Testing

/// Groups through the whole network (issue 13): the real client engines and messengers, group
/// mailboxes on the relays, invitations through the pairwise sessions, churn and faults.
@Suite struct GroupSimulationTests {
    static func options(members: Int, clients: Int, seed: String) -> SimulationOptions {
        var options = SimulationOptions()
        options.relays = 4
        options.clients = clients
        options.contacts = 0
        options.messageInterval = .seconds(100_000)
        options.duration = .seconds(240)
        options.seed = seed
        options.groupSize = members
        options.groupPostInterval = .seconds(40)
        options.groupRemovals = 2
        options.groupJoins = 2
        return options
    }

    @Test func aSmallGroupThroughJoinsAndRemovals() {
        let report = Simulation(options: Self.options(members: 5, clients: 7, seed: "group small")).run()
        #expect(Int(report["group_posts"] ?? "") ?? 0 > 10, "\(report)")
        #expect(report["group_members"] == "5", "\(report)")
        #expect(report["group_lost"] == "0", "\(report)")
        #expect(report["group_leaked"] == "0", "\(report)")
        #expect(report["group_duplicated"] == "0", "\(report)")
        #expect(report["group_problems"] == nil, "\(report)")
    }

    /// Ten members, 5% of datagrams lost and the busiest mailbox relay down for a minute while
    /// the admin removes two members and adds two: every post reaches at most once, none reaches
    /// a member after its removal, and all but a few reach every member that had to read it.
    /// Not all yet: a post now and then is missed for good by one member when an epoch changes
    /// just after it (1 of 528, 3 of 537 in runs with other hash seeds; docs/BENCHMARKS.md); the
    /// bound below (1%) catches anything worse until that is found.
    @Test func tenMembersThroughLossChurnAndAMailboxRelayCrash() {
        var options = SimulationOptions()
        options.relays = 4
        options.clients = 12
        options.contacts = 0
        options.messageInterval = .seconds(100_000)
        options.duration = .seconds(240)
        options.seed = "gla"
        options.groupSize = 10
        options.groupPostInterval = .seconds(30)
        options.groupRemovals = 2
        options.groupJoins = 2
        options.loss = 0.05
        options.crashes = [SimulationOptions.Crash(relay: .busiestMailbox, at: .seconds(120), downtime: .seconds(60))]
        let report = Simulation(options: options).run()
        #expect(Int(report["group_owed"] ?? "") ?? 0 > 400, "\(report)")
        #expect(report["group_joined"] == "12", "\(report)")
        let owed = Int(report["group_owed"] ?? "") ?? 0, lost = Int(report["group_lost"] ?? "") ?? .max
        #expect(lost * 100 <= owed, "\(report)")
        #expect(report["group_leaked"] == "0" && report["group_duplicated"] == "0", "\(report)")
        #expect(report["group_packets_per_post"] == "2.0", "\(report)")
        #expect(report["crashes"]?.hasPrefix("relay") == true, "\(report)")
    }
}
