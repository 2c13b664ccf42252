import Foundation
import SecIRCLauncher
import Testing

/// The short version of `secirc-bench attack`: each attack for five seconds from 127.0.0.2
/// against a devnet of the debug daemons while alice and bob message, at rates the debug build
/// and a shared CI machine bear (the full figures are in docs/BENCHMARKS.md). Every message
/// sent during the attack must arrive, and the target must show the defence that answered it.
@Suite(.serialized) struct AttackHarnessTests {
    @Test(arguments: [
        ("handshake-flood", "500", "reason=\"source_unconfirmed\""),
        ("slowloris", "400", "secirc_http_connections_refused_total{limit=\"per_ip\"}"),
        ("delay-queue", "200", "reason=\"no_route\""),
        ("replay", "200", "secirc_sphinx_replays_total"),
        ("garbage", "1000", "reason=\"malformed\""),
        ("mailbox-flood", "1000", "reason=\"unclaimed_link\""),
        ("descriptor-flood", "100", "secirc_relay_uploads_total{result=\"rate_limited\"}"),
    ])
    func aShortAttackStopsNoMessage(kind: String, rate: String, defence: String) async throws {
        let dir = try Processes.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let bench = try ChildProcess(
            name: "secirc-bench attack \(kind)", executable: Processes.product("secirc-bench"),
            arguments: ["attack", kind, "--rate", rate, "--duration", "5", "--quiet", "2", "--timeout", "60", "--require", "99",
                        "--bin-dir", Processes.productsDirectory.path],
            environment: Processes.environment(), logPath: dir + "/stdout", errorLogPath: dir + "/stderr")
        defer { bench.stop(timeout: 30) }
        // Waited for without holding a thread: the other suites keep running meanwhile.
        try await eventually("secirc-bench attack \(kind) to finish", within: 240, interval: .milliseconds(200)) { !bench.isRunning }
        let output = bench.log
        let errors = (try? String(contentsOfFile: dir + "/stderr", encoding: .utf8)) ?? ""
        #expect(bench.termination == .exited(0), "secirc-bench attack \(kind):\n\(output)\n\(errors.suffix(3_000))")
        #expect(output.split(separator: "\n").last?.hasPrefix("delivered_percent ") == true, "\(output)")
        #expect(output.contains(defence), "\(kind): expected \(defence) in\n\(output)")
    }
}
