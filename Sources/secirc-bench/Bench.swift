// secirc-bench: benchmarks of the project against the C references in ../shared/bench, run in
// the same invocation (machines here are noisy: ratios hold, absolute figures drift).
// Run release-built: `swift run -c release secirc-bench sphinx`. The last line is the ratio
// (`messages`, end to end through the daemons, has no C reference: its last line is the p50 latency).
import ArgumentParser

@main
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "secirc-bench",
        abstract: "secIRC benchmarks, each compared with its C reference in the same run (messages: end to end, no reference).",
        subcommands: [SphinxBench.self, DirectoryBench.self, ForwardBench.self, HTTPBench.self, MessagesBench.self, AttackBench.self, IdleBench.self, GroupsBench.self])
}
