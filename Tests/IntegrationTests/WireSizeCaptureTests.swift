import Foundation
import SecIRCLauncher
import Testing

/// One size on the wire (docs/PROTOCOL.md §4, "One size on the wire"): tshark captures the
/// loopback's UDP while `secirc devnet --smoke` runs (five relays, a ring of three, two clients,
/// messages both ways); every datagram to or from a devnet relay is 1,232 bytes — link
/// handshakes, responses and cookie replies as much as transport packets.
@Suite struct WireSizeCaptureTests {
    static let tshark = "/usr/bin/tshark"

    @Test func everyDatagramOfASmokeRunIsOneSize() async throws {
        guard FileManager.default.isExecutableFile(atPath: Self.tshark) else {
            Issue.record("tshark is not installed (scripts/install-deps.sh installs it)")
            return
        }
        let dir = try Processes.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let pcap = dir + "/lo.pcap"
        let capture = try ChildProcess(name: "tshark", executable: Self.tshark, arguments: ["-i", "lo", "-f", "udp", "-q", "-w", pcap],
                                       environment: Processes.environment(), logPath: dir + "/tshark.log")
        defer { capture.stop(timeout: 10) }
        try await eventually("tshark capturing", within: 30) { capture.log.contains("Capturing on") }

        let devnet = try ChildProcess(name: "secirc devnet", executable: Processes.product("secirc"),
                                      arguments: ["devnet", "--smoke", "--dir", dir + "/net", "--bin-dir", Processes.productsDirectory.path],
                                      environment: Processes.environment(), logPath: dir + "/secirc.log")
        defer { devnet.stop(timeout: 30) }
        try await eventually("secirc devnet --smoke to finish", within: 400, interval: .milliseconds(200)) { !devnet.isRunning }
        #expect(devnet.termination == .exited(0), "secirc devnet --smoke:\n\(devnet.log)")
        capture.stop(signal: SIGINT, timeout: 10)

        let manifest = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/net/devnet.json"))) as? [String: Any])
        let relays = try #require(manifest["relays"] as? [[String: Any]])
        let ports = Set(relays.compactMap { ($0["udp"] as? String)?.split(separator: ":").last.map(String.init) })
        #expect(ports.count == 5)

        // Each datagram: source port, destination port, UDP length (8 + payload), payload's type byte.
        let read = try ChildProcess(name: "tshark -r", executable: Self.tshark,
                                    arguments: ["-r", pcap, "-T", "fields", "-E", "separator=,", "-e", "udp.srcport", "-e", "udp.dstport",
                                                "-e", "udp.length", "-e", "data.data"],
                                    environment: Processes.environment(), logPath: dir + "/fields.txt", errorLogPath: dir + "/fields.err")
        try await eventually("tshark -r to finish", within: 60) { !read.isRunning }
        let lines = try String(contentsOfFile: dir + "/fields.txt", encoding: .utf8).split(separator: "\n")
        var sizes: [Int: Int] = [:]
        var types: [String: Int] = [:]
        for line in lines {
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            guard fields.count == 4, ports.contains(fields[0]) || ports.contains(fields[1]), let length = Int(fields[2]) else { continue }
            sizes[length - 8, default: 0] += 1
            types[String(fields[3].prefix(2)), default: 0] += 1
        }
        let total = sizes.values.reduce(0, +)
        #expect(total >= 100, "\(total) devnet datagrams captured")
        #expect(sizes.keys.sorted() == [1232], "datagram sizes (bytes: count): \(sizes)")
        // Handshakes were among them: initiations (IK relay to relay, NK client to relay) and responses.
        #expect(types["01", default: 0] > 0 && types["02", default: 0] > 0 && types["03", default: 0] > 0,
                "message types seen: \(types)")
    }
}
