import Foundation
import SecIRCCore
import SecIRCCrypto
import SecIRCLauncher

/// Three relay processes, A (first ring), B and C, started by the launcher from the release
/// build, each with a 65536-packet UDP queue and warnings-only logs (debug logs, kept with
/// their data, under `SECIRC_BENCH_DEBUG`).
final class BenchMesh {
    let devnet: Devnet
    private let debug = ProcessInfo.processInfo.environment["SECIRC_BENCH_DEBUG"] != nil

    /// The relays, A first.
    var relays: [Devnet.Relay] { devnet.relays }
    /// Their HTTP ports, A's first.
    var httpPorts: [UInt16] { devnet.relays.map(\.httpPort) }

    /// `binary` is the `secirc-relay` to run; with `cpus`, each relay runs under `taskset -c cpus`.
    /// `count` relays (A is the first ring), each with `workers` peel threads (nil: one per core).
    init(binary: String, cpus: String?, count: Int = 3, workers: Int? = nil) throws {
        var options = DevnetOptions(binDirectory: (binary as NSString).deletingLastPathComponent,
                                    directory: FileManager.default.temporaryDirectory.appendingPathComponent("secirc-bench-\(getpid())").path)
        options.directoryPeriodSeconds = 1
        options.relayQueuePackets = 65_536
        options.relayLogLevel = debug ? "debug" : "warning"
        options.relayWorkers = workers
        if let cpus { options.commandPrefix = ["/usr/bin/taskset", "-c", cpus] }
        devnet = Devnet(options: options)
        let a = try devnet.startRelay("a", trusting: nil)
        for name in ["b", "c", "d", "e"].prefix(count - 1) { try devnet.startRelay(name, trusting: a) }
        try devnet.waitForDirectory()
    }

    /// Waits until every relay is ready and lists `count` relays (the three, and a sink).
    func waitForRelays(_ count: Int) throws {
        try devnet.waitForDirectory(listing: count)
    }

    /// The process id of `relay` (0 once it has stopped).
    func pid(of relay: Devnet.Relay) -> Int32 {
        devnet.pid(of: relay.name) ?? 0
    }

    func descriptor(of relay: Devnet.Relay) throws -> RelayDescriptor {
        guard let object = BlockingHTTP.json(relay.http + "/v1/relay"),
              let document = object["descriptor"],
              let data = try? JSONSerialization.data(withJSONObject: document)
        else { throw BenchError("no descriptor") }
        return try Unverified<RelayDescriptor>(json: Array(data)).verified()
    }

    func stop() {
        devnet.stop()
        if !debug { devnet.removeDirectory() }
    }
}
