import ArgumentParser
import Foundation
import SecIRCAPI
import SecIRCLauncher

/// What an idle client costs: a `Devnet` (relays a, b, c, clients alice and bob, release
/// builds) on the default client configuration — balanced cover traffic, push delivery, the
/// default poll intervals — where nobody sends anything. After `--settle` seconds it reads, from
/// /proc, every thread of alice (and of relay a) at the start and the end of `--seconds`:
/// CPU time (utime + stime of `/proc/<pid>/stat`, which keeps the time of threads that ended)
/// and context switches (voluntary + nonvoluntary of each `/proc/<pid>/task/*/status`: each is
/// a wake-up). It prints them per thread and in all; the last line is
/// `client_idle_cpu_percent <x>`.
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

    func validate() throws {
        guard seconds >= 1, settle >= 0 else { throw ValidationError("--seconds must be positive, --settle not negative") }
        guard ["off", "balanced", "strong"].contains(cover) else { throw ValidationError("--cover must be off, balanced or strong") }
    }

    func run() throws {
        let binaries = try MessagesBench.buildDaemons()
        var options = DevnetOptions(binDirectory: binaries)
        options.coverTraffic = cover
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
                for (thread, wakeups) in end.switchesByThread(since: start).sorted(by: { $0.value > $1.value }) where wakeups > 0 {
                    print(String(format: "%@_thread_wakeups_per_s %.2f %@", name, Double(wakeups) / elapsed, thread))
                }
                print(String(format: "%@_rss_mib %.1f", name, residentMiB(pid: end.pid)))
                print(String(format: "%@_idle_wakeups_per_s %.2f", name, Double(end.switches - start.switches) / elapsed))
                if name == "client", let before = coverBefore, let after = coverAfter {
                    print(String(format: "client_cover_packets_per_s %.2f", Double(after - before) / elapsed))
                }
                print(String(format: "%@_idle_cpu_percent %.3f", name, end.cpuSeconds(since: start) / elapsed * 100))
            }
        }
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
    /// Voluntary + nonvoluntary context switches of the live threads.
    var switches = 0
    /// Per thread (`name/tid`): context switches.
    var threads: [String: Int] = [:]

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
                if parts[0] == "voluntary_ctxt_switches" || parts[0] == "nonvoluntary_ctxt_switches" { count += Int(parts[1]) ?? 0 }
            }
            threads["\(name)/\(tid)"] = count
            switches += count
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

    func cpuSeconds(since start: ProcessSample) -> Double {
        Double(ticks - start.ticks) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// Context switches per thread since `start` (a thread born meanwhile counts from zero).
    func switchesByThread(since start: ProcessSample) -> [String: Int] {
        threads.reduce(into: [:]) { $0[$1.key] = $1.value - (start.threads[$1.key] ?? 0) }
    }
}
