// secirc-faults: a fault-injecting UDP forwarder for tests on a real network
// (scripts/netns-test.sh). Thin: parses flags and runs SecIRCFaults.UDPForwarder.
import ArgumentParser
import Dispatch
import Foundation
import SecIRCFaults
import SecIRCRuntime
import SecIRCTransport

@main
struct FaultsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "secirc-faults",
        abstract: "Forwards UDP from --listen to --target and back, delaying, reordering, losing or duplicating datagrams.",
        discussion: """
            Each source that sends to --listen gets a socket of its own towards --target (like a NAT), so the \
            target's answers go back to it, through the same faults. Delays are uniform in delay ± jitter, \
            so datagrams overtake one another. Prints "faults listen <address> target <address> seed <seed>", \
            then a line of counters every --report-seconds and a last one ("final ...") on SIGTERM or SIGINT.
            """)

    @Option(help: ArgumentHelp("Address to receive on (port 0: any free port).", valueName: "host:port"))
    var listen: String

    @Option(help: ArgumentHelp("Address to forward to.", valueName: "host:port"))
    var target: String

    @Option(name: .customLong("delay-ms"), help: "Mean delay of each datagram, in milliseconds.")
    var delayMilliseconds: Int = 0

    @Option(name: .customLong("jitter-ms"), help: "Delays are uniform in delay ± jitter, in milliseconds.")
    var jitterMilliseconds: Int = 0

    @Option(help: "Probability that a datagram is lost.")
    var loss: Double = 0

    @Option(help: "Probability that a datagram is sent twice.")
    var duplicate: Double = 0

    @Option(help: "Seed of the fault generator (default: random, printed).")
    var seed: String?

    @Option(name: .customLong("report-seconds"), help: "Seconds between lines of counters (0: only the last).")
    var reportSeconds: Int = 5

    func run() throws {
        let profile: FaultProfile
        let listenAddress: SocketAddress, targetAddress: SocketAddress
        do {
            profile = try FaultProfile(delay: .milliseconds(delayMilliseconds), jitter: .milliseconds(jitterMilliseconds),
                                       loss: loss, duplicate: duplicate)
            listenAddress = try SocketAddress(numeric: listen)
            targetAddress = try SocketAddress(numeric: target)
        } catch {
            throw ValidationError("\(error)")
        }
        let seed = seed ?? String(UInt64.random(in: 0...UInt64.max), radix: 16)
        let forwarder = try UDPForwarder(listen: listenAddress, target: targetAddress, profile: profile, seed: seed,
                                         clock: SystemClock())
        say("faults listen \(forwarder.listenAddress) target \(targetAddress) seed \(seed) \(profile)")
        let signals = [SIGTERM, SIGINT].map { number -> any DispatchSourceSignal in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { forwarder.stop() }
            source.resume()
            return source
        }
        forwarder.run(reportEvery: reportSeconds > 0 ? .seconds(reportSeconds) : nil) { report in
            say("report \(report)")
        }
        signals.forEach { $0.cancel() }
        say("final \(forwarder.report)")
    }

    /// One line on standard output, at once (unbuffered: the test reads it while this runs).
    private func say(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }
}
