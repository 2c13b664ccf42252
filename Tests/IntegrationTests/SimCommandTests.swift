import Foundation
import Testing

/// `secirc-sim` as a user runs it: the same seed and flags print the same bytes in two
/// separate processes (each with its own hash seed and its own start time), another seed
/// prints other figures, and bad flags are refused with a message.
@Suite struct SimCommandTests {
    static let flags = ["--relays", "3", "--clients", "6", "--duration", "60s", "--message-interval", "20s",
                        "--loss", "0.03", "--duplicate", "0.02", "--reorder", "0.02", "--crash", "30s:mailbox:20s"]

    @Test func theSameSeedPrintsTheSameBytesInAnotherProcess() throws {
        let first = try Processes.run("secirc-sim", Self.flags + ["--seed", "ci"])
        // --progress writes the virtual time reached to standard error, never to the report.
        let second = try Processes.run("secirc-sim", Self.flags + ["--seed", "ci", "--progress", "30s"])
        #expect(first.status == 0, "\(first.stdout)\n\(first.stderr)")
        #expect(first.stdout == second.stdout)
        for line in ["sent ", "delivered ", "lost 0", "duplicated 0", "latency_p50_ms ", "latency_p99_ms ", "latency_max_ms ",
                     "packets_per_message ", "drop network.loss "] {
            #expect(first.stdout.contains("\n" + line), "\(line) in \(first.stdout)")
        }
        #expect(first.stderr.contains("wall_seconds "), "wall time goes to standard error only")
        #expect(!first.stderr.contains("progress ") && second.stderr.contains("progress virtual_seconds 30 wall_seconds "), "\(second.stderr)")
        let other = try Processes.run("secirc-sim", Self.flags + ["--seed", "another"])
        #expect(other.stdout != first.stdout)
    }

    @Test(arguments: [["--loss", "1.5"], ["--duration", "forever"], ["--cover", "loud"], ["--crash", "10s:99"], ["--partition", "5m-1m"],
                            ["--progress", "0s"], ["--group-size", "5", "--group-leaves", "2", "--group-removals", "2"],
                            ["--group-size", "5", "--group-leaves", "-1"], ["--group-size", "5", "--group-drain", "2h"]])
    func badFlagsAreRefused(arguments: [String]) throws {
        let result = try Processes.run("secirc-sim", ["--relays", "3"] + arguments)
        #expect(result.status != 0)
        #expect(result.stderr.contains("Error") || result.stderr.contains("error"), "\(result.stderr)")
    }
}
