import Foundation
import Testing

/// The short version of `secirc-bench attack`: each attack for five seconds from 127.0.0.2
/// against a devnet of the debug daemons while alice and bob message. Every message sent during
/// the attack must arrive, and the target must show the defence that answered it.
@Suite(.serialized) struct AttackHarnessTests {
    @Test(arguments: [
        ("handshake-flood", "reason=\"source_unconfirmed\""),
        ("slowloris", "secirc_http_connections_refused_total{limit=\"per_ip\"}"),
        ("delay-queue", "reason=\"no_route\""),
        ("replay", "secirc_sphinx_replays_total"),
        ("garbage", "reason=\"malformed\""),
    ])
    func aShortAttackStopsNoMessage(kind: String, defence: String) throws {
        let result = try Processes.run(executable: Processes.product("secirc-bench"),
                                       ["attack", kind, "--duration", "5", "--quiet", "2", "--timeout", "60", "--require", "99",
                                        "--bin-dir", Processes.productsDirectory.path],
                                       environment: Processes.environment(), timeout: 240)
        #expect(result.status == 0, "secirc-bench attack \(kind):\n\(result.stdout)\n\(result.stderr.suffix(3_000))")
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.last?.hasPrefix("delivered_percent ") == true, "\(result.stdout)")
        #expect(result.stdout.contains(defence), "\(kind): expected \(defence) in\n\(result.stdout)")
    }
}
