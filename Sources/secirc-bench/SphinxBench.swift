import ArgumentParser
import Foundation
import SecIRCCore
import SecIRCCrypto

/// Sphinx peels per second on one core, against `sphinx_hop_ref bench`.
struct SphinxBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sphinx",
        abstract: "Sphinx peels per second on one core vs the C reference; last line: sphinx_peel_ratio_vs_c <x>.")

    @Option(help: "Seconds per measurement round.")
    var seconds: Double = 2

    @Option(help: "Rounds of each (alternating Swift and C); medians are reported.")
    var rounds: Int = 3

    @Option(help: "Distinct valid packets peeled in turn (the replay filter is reset between passes).")
    var pool: Int = 4_000

    func run() throws {
        let reference = try Reference.locate()
        let refBinary = try reference.compile("sphinx_hop_ref", libraries: ["sodium"])

        var rng = SystemRandom()
        let key = OnionKey(epoch: 1, privateKey: AgreementPrivateKey(using: &rng))
        let next = try Bytes32(rng.bytes(32))
        let builder = SphinxPacketBuilder()
        let packets = try (0..<pool).map { _ in
            try builder.build(path: [SphinxHop(onionKey: key.publicKey, epoch: 1,
                                               command: .forward(to: next, delayMilliseconds: 0, nextEpoch: 1))],
                              body: rng.bytes(64), using: &rng)
        }

        var swiftRates: [Double] = []
        var cRates: [Double] = []
        for _ in 0..<rounds {
            let c = try reference.run(refBinary, ["bench", String(seconds)])
            cRates.append(try Reference.value("ref_sphinx_hop_per_s", in: c.output))
            swiftRates.append(try measure(key: key, packets: packets))
        }
        let swiftRate = median(swiftRates), cRate = median(cRates)
        // What a client pays for each packet it sends (cover traffic included): a 3-hop build.
        let hops = (0..<3).map { _ in SphinxHop(onionKey: AgreementPrivateKey(using: &rng).publicKey, epoch: 1, command: .drop) }
        let builds = try (0..<rounds).map { _ in try measureBuilds(path: hops, rng: &rng) }
        print(String(format: "swift_sphinx_build_3_hops_us %.2f", 1e6 / median(builds)))
        print(String(format: "swift_sphinx_peel_us %.2f", 1e6 / swiftRate))
        print(String(format: "swift_sphinx_peel_per_s %.0f", swiftRate))
        print(String(format: "ref_sphinx_hop_per_s %.0f", cRate))
        print(String(format: "sphinx_peel_ratio_vs_c %.3f", swiftRate / cRate))
    }

    /// Builds packets along `path` for `seconds`: builds per second.
    private func measureBuilds(path: [SphinxHop], rng: inout some RandomSource) throws -> Double {
        let builder = SphinxPacketBuilder()
        let body = rng.bytes(PacketGeometry.standard.bodyLength)
        var built = 0
        let start = monotonicSeconds()
        while monotonicSeconds() - start < seconds {
            for _ in 0..<50 { _ = try builder.build(path: path, body: body, using: &rng) }
            built += 50
        }
        return Double(built) / (monotonicSeconds() - start)
    }

    /// Peels packets from the pool for `seconds`; every peel must succeed.
    private func measure(key: OnionKey, packets: [[UInt8]]) throws -> Double {
        var processor = SphinxProcessor()
        processor.install(key)
        var work = [UInt8](repeating: 0, count: PacketGeometry.standard.sphinxPacketLength)
        for packet in packets.prefix(200) { // warm-up
            work = packet
            _ = processor.peel(&work)
        }
        processor.remove(epoch: key.epoch)
        processor.install(key)

        var peeled = 0
        let start = monotonicSeconds()
        var now = start
        while now - start < seconds {
            for packet in packets {
                work.withUnsafeMutableBytes { w in packet.withUnsafeBytes { w.copyMemory(from: $0) } }
                guard case .forward = processor.peel(&work) else { throw BenchError("a valid packet failed to peel") }
                peeled += 1
                if peeled % 100 == 0 {
                    now = monotonicSeconds()
                    if now - start >= seconds { break }
                }
            }
            processor.remove(epoch: key.epoch)
            processor.install(key)
        }
        return Double(peeled) / (monotonicSeconds() - start)
    }
}
