import ArgumentParser
import Foundation
import SecIRCAPI
import SecIRCLauncher
import SecIRCLock

/// End-to-end messaging through the real daemons: a `Devnet` (relays a, b, c and client
/// daemons alice and bob, release builds, cover traffic `--cover` (off by default), path
/// length 3, push delivery, mailbox polling every 100 ms while a mailbox is not subscribed)
/// and text messages alice → bob. A message's latency runs from just before
/// alice's `POST /v1/conversations/{bob}/messages` to its `message` event on bob's
/// `/v1/events`; it includes the per-hop mixing delays of the network (exponential, mean
/// `--mean-delay-ms`, 50 by default: security.yaml's).
///
/// Two phases of `--count` messages each: latency, one message at a time (p50, p99: the
/// latency of an unloaded network), then throughput, `--window` in flight (messages/s, and the
/// latency under that load, which queueing dominates).
struct MessagesBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "messages",
        abstract: "Text message latency alice → bob through 3 relays and 2 client daemons; last line: message_latency_p50_ms <x>.")

    @Option(help: "Messages to measure in each phase.")
    var count = 200

    @Option(help: "Messages in flight at most in the throughput phase (sent, not yet at bob).")
    var window = 32

    @Option(help: "Unmeasured messages first (the first messages of a session also set it up).")
    var warmup = 5

    @Option(name: .customLong("mean-delay-ms"), help: "Mean per-hop mixing delay of the network (default: security.yaml's, 50).")
    var meanDelay: Int?

    @Option(name: .customLong("cover-rate"), help: "The network's payload-stream rate λ, packets/s per client (default: security.yaml's, 2).")
    var coverRate: Double?

    @Option(name: .customLong("loop-rate"), help: "The network's loop-stream rate λ_L, packets/s per client (default: security.yaml's, 0.5).")
    var loopRate: Double?

    @Option(help: "Seconds a message may take before the run fails.")
    var timeout: Double = 60

    @Option(help: "The clients' cover traffic: off, balanced (the directory's λ) or strong (2λ, twice the mean delay).")
    var cover = "off"

    @Flag(inversion: .prefixedNo, help: "Push delivery (client.yaml network.push) on the clients.")
    var push = true

    func validate() throws {
        guard count >= 1, window >= 1, warmup >= 0, timeout > 0 else {
            throw ValidationError("--count and --window must be positive, --warmup not negative")
        }
        guard ["off", "balanced", "strong"].contains(cover) else { throw ValidationError("--cover must be off, balanced or strong") }
        if let meanDelay, !(0...60_000).contains(meanDelay) { throw ValidationError("--mean-delay-ms must be 0...60000") }
        if let coverRate, !(coverRate > 0 && coverRate <= 1_000) { throw ValidationError("--cover-rate must be above 0, at most 1000") }
        if let loopRate, !(0...1_000).contains(loopRate) { throw ValidationError("--loop-rate must be 0...1000") }
    }

    func run() throws {
        let binaries = try Self.buildDaemons()
        var options = DevnetOptions(binDirectory: binaries)
        options.meanDelayMilliseconds = meanDelay
        options.coverRatePerSecond = coverRate
        options.loopRatePerSecond = loopRate
        options.coverTraffic = cover
        options.push = push
        try withBenchDevnet(options) { devnet in
            guard let alice = devnet.client("alice"), let bob = devnet.client("bob") else { throw BenchError("no alice and bob") }

            let arrivals = Arrivals()
            let slots = Slots()
            let stream = try bob.api.events()
            let readerDone = DispatchSemaphore(value: 0)
            let tag = UUID().uuidString.prefix(8).lowercased()
            Thread {
                while let event = try? stream.next() {
                    guard case let .message(message)? = APIEvent(event), message.text.hasPrefix("bench \(tag) ") else { continue }
                    if arrivals.record(message.text) { slots.release() }
                }
                readerDone.signal()
            }.start()
            defer {
                stream.cancel()
                readerDone.wait()
            }

            /// Sends `count` messages with at most `window` in flight; their latencies (sorted, ms)
            /// and the rate from the first send to the last arrival.
            func phase(_ name: String, count: Int, window: Int) throws -> (latencies: [Double], rate: Double) {
                slots.reset(to: window)
                let start = ContinuousClock.now
                var sent: [(text: String, at: ContinuousClock.Instant)] = []
                for index in 0..<count {
                    guard slots.acquire(timeout: timeout) else { throw BenchError("a message took longer than \(Int(timeout)) s to reach bob") }
                    try devnet.checkChildren()
                    let text = "bench \(tag) \(name) \(index)"
                    let at = ContinuousClock.now
                    try alice.api.call("POST", "/v1/conversations/\(bob.id)/messages", json: SendTextRequest(text: text))
                    sent.append((text, at))
                }
                let deadline = ContinuousClock.now.advanced(by: .milliseconds(Int64(timeout * 1000)))
                while !arrivals.containsAll(sent.map(\.text)) {
                    guard ContinuousClock.now < deadline else { throw BenchError("messages missing at bob after \(Int(timeout)) s") }
                    try devnet.checkChildren()
                    usleep(2_000)
                }
                let latencies = sent.map { message in
                    arrivals.time(of: message.text).map { Self.milliseconds($0 - message.at) } ?? 0
                }.sorted()
                let last = sent.compactMap { arrivals.time(of: $0.text) }.max() ?? start
                return (latencies, Double(count) / max(Self.milliseconds(last - start) / 1000, 1e-9))
            }

            if warmup > 0 { _ = try phase("warmup", count: warmup, window: 1) }
            FileHandle.standardError.write(Data("latency: \(count) messages, one at a time\n".utf8))
            let latency = try phase("latency", count: count, window: 1)
            FileHandle.standardError.write(Data("throughput: \(count) messages, \(window) in flight at most\n".utf8))
            let throughput = try phase("throughput", count: count, window: window)

            print("messages \(count) per phase, path length 3, cover traffic \(cover), push delivery \(push ? "on" : "off"), poll 100 ms, mean per-hop delay "
                  + (meanDelay.map { "\($0) ms" } ?? "50 ms (default)") + ", cover rate " + (coverRate.map { "\($0)/s" } ?? "2/s (default)")
                  + ", loop rate " + (loopRate.map { "\($0)/s" } ?? "0.5/s (default)"))
            print(String(format: "loaded_latency_p50_ms %.1f (\(window) in flight)", percentile(throughput.latencies, 0.5)))
            print(String(format: "messages_per_s %.1f (\(window) in flight)", throughput.rate))
            print(String(format: "message_latency_max_ms %.1f", latency.latencies.last ?? 0))
            print(String(format: "message_latency_p99_ms %.1f", percentile(latency.latencies, 0.99)))
            print(String(format: "message_latency_p50_ms %.1f", percentile(latency.latencies, 0.5)))
        }
    }

    static func milliseconds(_ duration: Duration) -> Double {
        let c = duration.components
        return Double(c.seconds) * 1000 + Double(c.attoseconds) * 1e-15
    }

    /// Release builds of the daemons (swift build is quick when they are up to date).
    static func buildDaemons() throws -> String {
        for product in ["secirc-relay", "secirc-client"] {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["swift", "build", "-c", "release", "--product", product, "--package-path", packageRoot.path]
            process.standardOutput = FileHandle.standardError
            try process.run()
            process.waitUntilExit()
            guard process.terminationStatus == 0 else { throw BenchError("swift build -c release --product \(product) failed") }
        }
        return packageRoot.appendingPathComponent(".build/release").path
    }
}

/// When each message reached bob's event stream (written by the reader thread).
final class Arrivals: Sendable {
    private let times = Locked<[String: ContinuousClock.Instant]>([:])

    /// Records the first arrival of `text`; false for a repeat.
    func record(_ text: String) -> Bool {
        let now = ContinuousClock.now
        return times.withLock { times in
            guard times[text] == nil else { return false }
            times[text] = now
            return true
        }
    }

    func time(of text: String) -> ContinuousClock.Instant? { times.withLock { $0[text] } }

    func containsAll(_ texts: [String]) -> Bool { times.withLock { times in texts.allSatisfy { times[$0] != nil } } }
}

/// A counting semaphore whose count can be reset between phases (a message of the last
/// phase can no longer arrive then: every one has).
private final class Slots: Sendable {
    private let free = Locked(0)
    private let signal = DispatchSemaphore(value: 0)

    func reset(to count: Int) {
        free.withLock { $0 = count }
    }

    func release() {
        free.withLock { $0 += 1 }
        signal.signal()
    }

    /// Takes a slot, waiting up to `timeout` seconds for one.
    func acquire(timeout: Double) -> Bool {
        let deadline = DispatchTime.now() + timeout
        while true {
            if free.withLock({ count in
                guard count > 0 else { return false }
                count -= 1
                return true
            }) { return true }
            guard signal.wait(timeout: deadline) == .success else { return false }
        }
    }
}
