import SecIRCSim
import Testing

/// The simulator runs the real engines: a small network must deliver every message exactly
/// once through loss, duplication, reordering and a mailbox relay's crash, and a run must
/// repeat itself for a seed.
@Suite struct SimulationTests {
    static func faulty(seed: String) -> SimulationOptions {
        var options = SimulationOptions()
        options.relays = 4
        options.clients = 8
        options.duration = .seconds(180)
        options.messageInterval = .seconds(30)
        options.seed = seed
        options.loss = 0.05
        options.duplicate = 0.02
        options.reorder = 0.05
        options.crashes = [SimulationOptions.Crash(relay: .busiestMailbox, at: .seconds(120), downtime: .seconds(60))]
        options.retryMax = .seconds(30)
        return options
    }

    @Test func everyMessageArrivesOnceThroughLossAndAMailboxRelayCrash() {
        let report = Simulation(options: Self.faulty(seed: "faults")).run()
        #expect(Int(report["sent"] ?? "") ?? 0 > 20, "\(report)")
        #expect(report["lost"] == "0", "\(report)")
        #expect(report["engine_spins"] == nil, "no engine stays due right after its tick: \(report)")
        #expect(report["duplicated"] == "0", "\(report)")
        #expect(report["crashes"]?.hasPrefix("relay") == true, "\(report)")
        #expect(report.description.contains("drop network.loss"), "\(report)")
    }

    @Test func theSameSeedGivesTheSameRun() {
        var options = Self.faulty(seed: "repeat")
        options.relays = 3
        options.clients = 5
        options.duration = .seconds(60)
        options.crashes = []
        let first = Simulation(options: options).run().description
        #expect(first == Simulation(options: options).run().description)
        options.threads = 2
        #expect(first == Simulation(options: options).run().description, "the same on two threads")
        options.seed = "another"
        #expect(first != Simulation(options: options).run().description)
    }

    @Test func aPartitionHealsAndEveryMessageStillArrives() {
        var options = SimulationOptions()
        options.relays = 4
        options.clients = 6
        options.duration = .seconds(120)
        options.messageInterval = .seconds(20)
        options.seed = "partition"
        options.partitions = [SimulationOptions.Partition(from: .seconds(20), until: .seconds(60))]
        options.retryMax = .seconds(20)
        let report = Simulation(options: options).run()
        #expect(report["lost"] == "0" && report["duplicated"] == "0", "\(report)")
        #expect(report.description.contains("drop network.partition"), "\(report)")
    }

    @Test func durationsParseAsWritten() {
        #expect(DurationParsing.parse("250ms") == .milliseconds(250))
        #expect(DurationParsing.parse("60s") == .seconds(60))
        #expect(DurationParsing.parse("1.5s") == .milliseconds(1500))
        #expect(DurationParsing.parse("30m") == .seconds(1800))
        #expect(DurationParsing.parse("1h") == .seconds(3600))
        #expect(DurationParsing.parse("7") == .seconds(7))
        for bad in ["", "h", "-1s", "1d", "nan", "inf s", "1e99h"] { #expect(DurationParsing.parse(bad) == nil, "\(bad)") }
    }
}
