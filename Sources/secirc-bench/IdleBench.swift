import ArgumentParser
import Foundation
import SecIRCAPI
import SecIRCCore
import SecIRCCrypto
import SecIRCLauncher

/// What an idle client costs: a `Devnet` (relays a, b, c, clients alice and bob, release
/// builds) on the default client configuration — balanced cover traffic, push delivery, the
/// default poll intervals — where nobody sends anything. After `--settle` seconds it reads, from
/// /proc, every thread of alice (and of relay a) at the start and the end of `--seconds`:
/// CPU time (each thread's `/proc/<pid>/task/*/schedstat`, nanoseconds)
/// and context switches (voluntary + nonvoluntary of each `/proc/<pid>/task/*/status`: each is
/// a wake-up). It prints them per thread and in all; the last line is
/// `client_idle_cpu_percent <x>`.
///
/// With `--relay-clients N`: one relay alone (release build), measured the same way first on
/// its own and then with N idle clients linked to it (``IdleClientSwarm``: real client engines
/// in this process); the last line is `relay_<N>_clients_cpu_percent <x>`.
struct IdleBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "idle",
        abstract: "CPU and wake-ups of an idle client (and a relay) on a devnet; last line: client_idle_cpu_percent <x>.")

    @Option(help: "Seconds to measure.")
    var seconds = 60

    @Option(help: "Seconds to wait after the devnet is up before measuring.")
    var settle = 15

    @Option(help: "The clients' cover traffic: off, balanced (the default configuration's) or strong.")
    var cover = "balanced"

    @Option(name: .customLong("cover-rate"), help: "The network's payload-stream rate λ, packets/s per client (default: security.yaml's, 2).")
    var coverRate: Double?

    @Option(name: .customLong("loop-rate"), help: "The network's loop-stream rate λ_L, packets/s per client (default: security.yaml's, 0.5).")
    var loopRate: Double?

    @Option(help: "Instead: one relay with this many idle clients linked to it (from this process).")
    var relayClients = 0

    @Option(help: "With --relay-clients: the source addresses the clients are spread over (127.0.0.2 on).")
    var relayHosts = 10

    @Option(help: "With --relay-clients: clients started per second (each makes a handshake).")
    var ramp = 40.0

    func validate() throws {
        guard seconds >= 1, settle >= 0 else { throw ValidationError("--seconds must be positive, --settle not negative") }
        guard ["off", "balanced", "strong"].contains(cover) else { throw ValidationError("--cover must be off, balanced or strong") }
        if let coverRate, !(coverRate > 0 && coverRate <= 1_000) { throw ValidationError("--cover-rate must be above 0, at most 1000") }
        if let loopRate, !(0...1_000).contains(loopRate) { throw ValidationError("--loop-rate must be 0...1000") }
        guard relayClients >= 0, (1...250).contains(relayHosts), ramp > 0 else {
            throw ValidationError("--relay-clients must not be negative, --relay-hosts 1...250, --ramp positive")
        }
    }

    func run() throws {
        if relayClients > 0 { return try runRelayLoad() }
        let binaries = try MessagesBench.buildDaemons()
        var options = DevnetOptions(binDirectory: binaries)
        options.coverTraffic = cover
        options.coverRatePerSecond = coverRate
        options.loopRatePerSecond = loopRate
        // The client's defaults (client.yaml), not the devnet's quick ones.
        options.pollIntervalMilliseconds = 1000
        options.retryInitialSeconds = 2
        options.retryMaxSeconds = 300
        options.directoryPeriodSeconds = 600
        try withBenchDevnet(options) { devnet in
            guard let alice = devnet.pid(of: "alice"), let relay = devnet.pid(of: "a") else { throw BenchError("no alice or relay a") }
            FileHandle.standardError.write(Data("settling \(settle) s, then measuring \(seconds) s\n".utf8))
            Thread.sleep(forTimeInterval: Double(settle))
            let coverBefore = Self.coverSent(devnet)
            let startClient = ProcessSample(pid: alice), startRelay = ProcessSample(pid: relay)
            let start = ContinuousClock.now
            Thread.sleep(forTimeInterval: Double(seconds))
            let endClient = ProcessSample(pid: alice), endRelay = ProcessSample(pid: relay)
            let elapsed = MessagesBench.milliseconds(ContinuousClock.now - start) / 1000
            try devnet.checkChildren()
            let coverAfter = Self.coverSent(devnet)

            print("idle \(seconds) s after \(settle) s, cover traffic \(cover), push delivery, poll 1000 ms, release daemons")
            for (name, start, end) in [("relay_a", startRelay, endRelay), ("client", startClient, endClient)] {
                end.printWakeups(since: start, name: name, elapsed: elapsed)
                if name == "client", let before = coverBefore, let after = coverAfter, after > before {
                    print(String(format: "client_cover_packets_per_s %.2f", Double(after - before) / elapsed))
                    // What one packet out (and its share of the loops back) costs: comparable between runs
                    // whose Poisson draws sent more or fewer packets.
                    print(String(format: "client_cpu_us_per_cover_packet %.1f", end.cpuSeconds(since: start) / Double(after - before) * 1e6))
                }
                print(String(format: "%@_idle_cpu_percent %.3f", name, end.cpuSeconds(since: start) / elapsed * 100))
            }
        }
    }

    /// One relay (a devnet of one, the first ring, directory period 600 s), measured alone for
    /// `seconds`, then with `relayClients` idle clients: ramped in at `ramp` a second, settled
    /// for `settle` seconds, measured for `seconds`.
    func runRelayLoad() throws {
        let binaries = try MessagesBench.buildDaemons()
        var options = DevnetOptions(binDirectory: binaries)
        options.relayNames = ["a"]
        options.clientNames = []
        options.directoryPeriodSeconds = 600
        try withBenchDevnet(options) { devnet in
            guard let relay = devnet.relay("a"), let pid = devnet.pid(of: "a") else { throw BenchError("no relay a") }
            let roster = Roster(members: [Roster.Member(identityKey: try SigningPublicKey(bytes: Hex.decode(relay.identityKey)),
                                                        udp: relay.udp, http: relay.http)])
            let alone = measure(pid: pid)

            let swarm = try IdleClientSwarm(count: relayClients, relayUDP: relay.udp, relayHTTP: relay.http, roster: roster,
                                            hosts: relayHosts, rampPerSecond: ramp)
            let rampSeconds = Double(relayClients) / ramp
            FileHandle.standardError.write(Data("starting \(relayClients) clients over \(relayHosts) addresses in \(Int(rampSeconds.rounded(.up))) s, settling \(settle) s, measuring \(seconds) s\n".utf8))
            swarm.start()
            defer { swarm.stop() }
            Thread.sleep(forTimeInterval: rampSeconds + Double(settle))
            let before = swarm.counters.withLock { $0 }
            let loaded = measure(pid: pid)
            let after = swarm.counters.withLock { $0 }
            try devnet.checkChildren()
            let metrics = Self.metrics(relay.http)
            swarm.stop()

            print("relay alone \(seconds) s, then with \(relayClients) idle clients (cover off, push on, push poll 10 s) over \(relayHosts) addresses, \(settle) s after the ramp, release relay")
            alone.end.printWakeups(since: alone.start, name: "relay_0_clients", elapsed: alone.elapsed)
            print(String(format: "relay_0_clients_cpu_percent %.3f", alone.end.cpuSeconds(since: alone.start) / alone.elapsed * 100))
            print("clients_started \(after.started) clients_linked \(swarm.linkedCount) problems \(after.problems)")
            for name in ["secirc_link_sessions", "secirc_mailbox_subscriptions", "secirc_mailboxes"] {
                print("relay_\(name) \(metrics[name].map(String.init) ?? "?")")
            }
            let elapsed = loaded.elapsed
            print(String(format: "clients_datagrams_sent_per_s %.1f", Double(after.datagramsSent - before.datagramsSent) / elapsed))
            print(String(format: "clients_datagrams_received_per_s %.1f", Double(after.datagramsReceived - before.datagramsReceived) / elapsed))
            print(String(format: "clients_directory_fetches_per_s %.1f", Double(after.directoryFetches - before.directoryFetches) / elapsed))
            print(String(format: "relay_peak_rss_mib %.1f", residentMiB(pid: pid, peak: true)))
            loaded.end.printWakeups(since: loaded.start, name: "relay_\(relayClients)_clients", elapsed: elapsed)
            print(String(format: "relay_\(relayClients)_clients_cpu_percent %.3f", loaded.end.cpuSeconds(since: loaded.start) / elapsed * 100))
        }
    }

    /// The process `pid` sampled at the start and the end of `seconds`.
    private func measure(pid: Int32) -> (start: ProcessSample, end: ProcessSample, elapsed: Double) {
        let start = ProcessSample(pid: pid)
        let began = ContinuousClock.now
        Thread.sleep(forTimeInterval: Double(seconds))
        let end = ProcessSample(pid: pid)
        return (start, end, MessagesBench.milliseconds(ContinuousClock.now - began) / 1000)
    }

    /// The relay's gauges and counters without labels (`name value` lines of `/metrics`).
    static func metrics(_ base: String) -> [String: Int] {
        guard let (status, body) = BlockingHTTP.request(base + "/metrics"), status == 200 else { return [:] }
        var values: [String: Int] = [:]
        for line in String(decoding: body, as: UTF8.self).split(separator: "\n") where !line.hasPrefix("#") {
            let parts = line.split(separator: " ")
            if parts.count == 2, let value = Double(parts[1]) { values[String(parts[0])] = Int(value) }
        }
        return values
    }

    /// Cover packets alice has sent (`GET /v1/network`), nil when unreadable.
    static func coverSent(_ devnet: Devnet) -> Int? {
        try? devnet.client("alice")?.api.decode(NetworkStatus.self, "/v1/network").coverPacketsSent
    }
}

/// CPU time and context switches of a process and each of its threads, from /proc.
struct ProcessSample {
    let pid: Int32
    /// utime + stime of the whole process, clock ticks (ended threads included).
    var ticks = 0
    /// Voluntary context switches of the live threads: each is a wake-up (the thread slept
    /// and something woke it).
    var switches = 0
    /// Nonvoluntary context switches: preemptions while running (other load on the machine),
    /// reported apart: they are not wake-ups.
    var preemptions = 0
    /// Per thread (`name/tid`): voluntary context switches.
    var threads: [String: Int] = [:]
    /// Per thread (`tid`): time on a CPU, nanoseconds (`/proc/<pid>/task/<tid>/schedstat`, exact,
    /// where utime + stime count whole clock ticks of 10 ms: ±1 tick is ±5% of a 0.3% load over 60 s).
    var runNanoseconds: [String: Int] = [:]

    init(pid: Int32) {
        self.pid = pid
        ticks = Self.ticks(path: "/proc/\(pid)/stat")
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
        for tid in tasks {
            guard let status = try? String(contentsOfFile: "/proc/\(pid)/task/\(tid)/status", encoding: .utf8) else { continue }
            var name = tid, count = 0
            for line in status.split(separator: "\n") {
                let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                guard parts.count == 2 else { continue }
                if parts[0] == "Name" { name = parts[1] }
                if parts[0] == "voluntary_ctxt_switches" { count += Int(parts[1]) ?? 0 }
                if parts[0] == "nonvoluntary_ctxt_switches" { preemptions += Int(parts[1]) ?? 0 }
            }
            threads["\(name)/\(tid)"] = count
            switches += count
            if let schedstat = try? String(contentsOfFile: "/proc/\(pid)/task/\(tid)/schedstat", encoding: .utf8),
               let first = schedstat.split(separator: " ").first, let ns = Int(first) {
                runNanoseconds[tid] = ns
            }
        }
    }

    /// Fields 14 and 15 of a stat line, counted after the `)` that ends the command name.
    static func ticks(path: String) -> Int {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8), let close = text.lastIndex(of: ")") else { return 0 }
        let fields = text[text.index(after: close)...].split(separator: " ")
        // fields[0] is the state (field 3): utime is field 14, stime field 15.
        guard fields.count > 12 else { return 0 }
        return (Int(fields[11]) ?? 0) + (Int(fields[12]) ?? 0)
    }

    /// CPU time since `start`: from each thread's schedstat (a thread born meanwhile counts from
    /// zero; one that ended meanwhile is not counted), or from the clock ticks where there is none.
    func cpuSeconds(since start: ProcessSample) -> Double {
        guard !runNanoseconds.isEmpty else { return Double(ticks - start.ticks) / Double(sysconf(Int32(_SC_CLK_TCK))) }
        return Double(runNanoseconds.reduce(0) { $0 + $1.value - (start.runNanoseconds[$1.key] ?? 0) }) / 1e9
    }

    /// Context switches per thread since `start` (a thread born meanwhile counts from zero).
    func switchesByThread(since start: ProcessSample) -> [String: Int] {
        threads.reduce(into: [:]) { $0[$1.key] = $1.value - (start.threads[$1.key] ?? 0) }
    }

    /// Prints `<name>_thread_wakeups_per_s` for each thread that woke, then `<name>_rss_mib`,
    /// `<name>_preemptions_per_s` and `<name>_idle_wakeups_per_s`.
    func printWakeups(since start: ProcessSample, name: String, elapsed: Double) {
        for (thread, wakeups) in switchesByThread(since: start).sorted(by: { $0.value > $1.value }) where wakeups > 0 {
            print(String(format: "%@_thread_wakeups_per_s %.2f %@", name, Double(wakeups) / elapsed, thread))
        }
        print(String(format: "%@_rss_mib %.1f", name, residentMiB(pid: pid)))
        print(String(format: "%@_preemptions_per_s %.2f", name, Double(preemptions - start.preemptions) / elapsed))
        print(String(format: "%@_idle_wakeups_per_s %.2f", name, Double(switches - start.switches) / elapsed))
    }
}
