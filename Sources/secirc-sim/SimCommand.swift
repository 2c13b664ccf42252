// secirc-sim: a whole secIRC network in one process on virtual time. Thin: flags → SecIRCSim.
import ArgumentParser
import Foundation
import SecIRCSim

@main
struct SimCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "secirc-sim",
        abstract: "Simulates a secIRC network (the real relay and client engines) in one process on virtual time.",
        discussion: """
            Prints one figure per line (sent, delivered, lost, duplicated, latency percentiles in virtual \
            milliseconds, packets per message, drops by reason). The same seed and flags print the same \
            bytes. Wall time goes to standard error. Durations: 250ms, 60s, 30m, 1h.
            """)

    @Option(help: "Relays (relays 0..<ring are the first ring).") var relays = 5
    @Option(help: "Members of the first ring (threshold: a majority); more than one vote each directory period.") var ring = 1
    @Option(help: "Client daemons.") var clients = 10
    @Option(help: "How long clients send (virtual time).") var duration = "10m"
    @Option(help: "Seed of every random choice.") var seed = "secirc"
    @Option(name: .customLong("message-interval"), help: "Each client's mean time between messages.") var messageInterval = "60s"
    @Option(help: "Contacts each client adds.") var contacts = 3
    @Option(help: "Client cover traffic: off, balanced or strong.") var cover = "off"
    @Option(help: "Probability that a datagram is lost.") var loss = 0.0
    @Option(help: "Probability that a datagram arrives twice.") var duplicate = 0.0
    @Option(help: "Probability that a datagram is held back behind later ones.") var reorder = 0.0
    @Option(help: "One-way link latency.") var latency = "20ms"
    @Option(help: "Uniform jitter added to the latency.") var jitter = "10ms"
    @Option(help: "AT:RELAY[:DOWNTIME]: relay RELAY (a number, or 'mailbox' for the busiest mailbox relay) crashes AT after the workload starts and restarts DOWNTIME later (default 5m). Repeatable.")
    var crash: [String] = []
    @Option(help: "FROM-UNTIL: the network is cut in two halves between these times. Repeatable.") var partition: [String] = []
    @Option(name: .customLong("poll-interval"), help: "Clients' mailbox poll interval.") var pollInterval = "1s"
    @Option(name: .customLong("mean-delay-ms"), help: "Mean per-hop mixing delay μ.") var meanDelayMs = 50
    @Option(name: .customLong("cover-rate"), help: "Payload-stream rate λ per client (packets/s, balanced profile).") var coverRate = 2.0
    @Option(name: .customLong("loop-rate"), help: "Loop-stream rate λ_L per client (packets/s, balanced profile).") var loopRate = 0.5
    @Option(name: .customLong("relay-cover-rate"), help: "Each relay's own cover stream λ_R (packets/s).") var relayCoverRate = 0.0
    @Option(name: .customLong("directory-period"), help: "First ring's directory period.") var directoryPeriod = "1h"
    @Option(help: "Longest run after the workload to deliver what is on its way.") var drain = "30m"
    @Option(name: .customLong("group-size"), help: "Members of one group (client 0 its admin) made when the workload starts; 0: no group.")
    var groupSize = 0
    @Option(name: .customLong("group-post-interval"), help: "Each group member's mean time between posts.") var groupPostInterval = "60s"
    @Option(name: .customLong("group-removals"), help: "Members the admin removes during the workload.") var groupRemovals = 0
    @Option(name: .customLong("group-joins"), help: "Clients the admin adds during the workload (beyond --group-size).") var groupJoins = 0
    @Option(name: .customLong("group-leaves"), help: "Members that leave on their own during the workload.") var groupLeaves = 0
    @Option(name: .customLong("group-drain"), help: "How long a run with a group goes on after the workload at least (its last posts, catching up).")
    var groupDrain = "120s"
    @Option(help: "Threads (the output is the same for any number; default: the processors).")
    var threads = ProcessInfo.processInfo.activeProcessorCount
    @Option(help: "Print the virtual time reached to standard error at this virtual interval (a long run's progress); off by default.")
    var progress: String?

    func run() throws {
        DeterministicHashing.ensure()
        let options = try makeOptions()
        let started = ContinuousClock.now
        let simulation = Simulation(options: options)
        if let progress {
            simulation.progressEvery = try duration(progress, "--progress")
            guard simulation.progressEvery >= .seconds(1) else { throw ValidationError("--progress must be at least 1s") }
            simulation.progress = { virtual in
                let wall = ContinuousClock.now - started
                FileHandle.standardError.write(Data("progress virtual_seconds \(virtual.components.seconds) wall_seconds \(wall.components.seconds)\n".utf8))
            }
        }
        let report = simulation.run()
        let elapsed = ContinuousClock.now - started
        print(report.description)
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        FileHandle.standardError.write(Data(String(format: "wall_seconds %.1f\n", seconds).utf8))
        if report["lost"] != "0" || report["duplicated"] != "0" { throw ExitCode(2) }
    }

    private func makeOptions() throws -> SimulationOptions {
        var o = SimulationOptions()
        guard relays >= 1, relays <= 10_000, clients >= 2, clients <= 100_000 else {
            throw ValidationError("--relays must be 1...10000 and --clients 2...100000")
        }
        o.relays = relays
        guard (1...min(relays, 64)).contains(ring) else { throw ValidationError("--ring must be 1...min(--relays, 64)") }
        o.ringSize = ring
        o.clients = clients
        o.seed = seed
        o.contacts = max(1, min(contacts, clients - 1))
        guard let profile = SimulationOptions.Cover(rawValue: cover) else { throw ValidationError("--cover is off, balanced or strong") }
        o.cover = profile
        for (name, p) in [("--loss", loss), ("--duplicate", duplicate), ("--reorder", reorder)] where !(0..<1).contains(p) {
            throw ValidationError("\(name) is a probability in 0..<1")
        }
        o.loss = loss
        o.duplicate = duplicate
        o.reorder = reorder
        o.duration = try duration(duration, "--duration")
        o.messageInterval = try duration(messageInterval, "--message-interval")
        o.latency = try duration(latency, "--latency")
        guard o.latency >= .milliseconds(1) else { throw ValidationError("--latency must be at least 1ms") }
        guard (1...64).contains(threads) else { throw ValidationError("--threads is 1...64") }
        o.threads = threads
        o.jitter = try duration(jitter, "--jitter")
        o.pollInterval = try duration(pollInterval, "--poll-interval")
        o.directoryPeriod = try duration(directoryPeriod, "--directory-period")
        o.drain = try duration(drain, "--drain")
        guard o.messageInterval > .zero, o.pollInterval >= .milliseconds(10), o.directoryPeriod >= .seconds(10) else {
            throw ValidationError("--message-interval must be positive, --poll-interval at least 10ms, --directory-period at least 10s")
        }
        guard (0...60_000).contains(meanDelayMs), (0...1_000).contains(coverRate), (0...1_000).contains(loopRate),
              (0...1_000).contains(relayCoverRate) else {
            throw ValidationError("--mean-delay-ms is 0...60000, --cover-rate, --loop-rate and --relay-cover-rate 0...1000")
        }
        o.meanDelayMilliseconds = meanDelayMs
        o.coverRate = coverRate
        o.loopRate = loopRate
        o.relayCoverRate = relayCoverRate
        guard groupSize == 0 || (2...1_000).contains(groupSize), groupSize + groupJoins <= clients, groupRemovals >= 0, groupJoins >= 0,
              groupLeaves >= 0, groupRemovals + groupLeaves < max(groupSize - 1, 1) else {
            throw ValidationError("--group-size is 0 or 2...1000, --group-size + --group-joins at most --clients, "
                                  + "--group-removals + --group-leaves below --group-size - 1")
        }
        o.groupSize = groupSize
        o.groupPostInterval = try duration(groupPostInterval, "--group-post-interval")
        guard o.groupPostInterval > .zero else { throw ValidationError("--group-post-interval must be positive") }
        o.groupRemovals = groupRemovals
        o.groupJoins = groupJoins
        o.groupLeaves = groupLeaves
        o.groupDrain = try duration(groupDrain, "--group-drain")
        guard o.groupDrain <= o.drain else { throw ValidationError("--group-drain must not be longer than --drain") }
        o.crashes = try crash.map(parseCrash)
        o.partitions = try partition.map(parsePartition)
        return o
    }

    private func duration(_ text: String, _ flag: String) throws -> Duration {
        guard let value = DurationParsing.parse(text) else { throw ValidationError("\(flag): \"\(text)\" is not a duration (250ms, 60s, 30m, 1h)") }
        return value
    }

    private func parseCrash(_ text: String) throws -> SimulationOptions.Crash {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard (2...3).contains(parts.count) else { throw ValidationError("--crash \"\(text)\": expected AT:RELAY[:DOWNTIME]") }
        let at = try duration(parts[0], "--crash")
        let relay: SimulationOptions.Crash.Relay
        if parts[1] == "mailbox" {
            relay = .busiestMailbox
        } else if let index = Int(parts[1]), (0..<relays).contains(index) {
            relay = .index(index)
        } else {
            throw ValidationError("--crash \"\(text)\": RELAY is 0..<\(relays) or 'mailbox'")
        }
        let downtime = parts.count == 3 ? try duration(parts[2], "--crash") : .seconds(300)
        return SimulationOptions.Crash(relay: relay, at: at, downtime: downtime)
    }

    private func parsePartition(_ text: String) throws -> SimulationOptions.Partition {
        let parts = text.split(separator: "-").map(String.init)
        guard parts.count == 2 else { throw ValidationError("--partition \"\(text)\": expected FROM-UNTIL") }
        let from = try duration(parts[0], "--partition"), until = try duration(parts[1], "--partition")
        guard until > from else { throw ValidationError("--partition \"\(text)\": UNTIL must be after FROM") }
        return SimulationOptions.Partition(from: from, until: until)
    }
}
