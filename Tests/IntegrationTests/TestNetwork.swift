import Foundation
import SecIRCLauncher

/// The launcher's `Devnet` for one test, in a temporary directory, with the settings the tests
/// share (directory period 1 s, mean per-hop delay 5 ms, resends every 1 to 4 s, no relay cover
/// stream: the tests count the packets relays forward). `stop()` ends every process and
/// removes the directory.
final class TestNetwork {
    let devnet: Devnet
    private(set) var relays: [RelayProcess] = []

    init(configure: (inout DevnetOptions) -> Void = { _ in }) throws {
        var options = DevnetOptions(binDirectory: Processes.productsDirectory.path, directory: try Processes.temporaryDirectory())
        options.directoryPeriodSeconds = 1
        options.meanDelayMilliseconds = 5
        options.keyRotationSeconds = 3_600
        options.keyGraceSeconds = 60
        options.retryMaxSeconds = 4
        options.relayCoverRatePerSecond = 0
        configure(&options)
        devnet = Devnet(options: options)
    }

    /// Starts relay `name`: the first ring itself, or trusting `firstRing`.
    @discardableResult
    func startRelay(_ name: String, trusting firstRing: RelayProcess?) throws -> RelayProcess {
        let relay = try RelayProcess(try devnet.startRelay(name, trusting: firstRing?.relay), in: devnet)
        relays.append(relay)
        return relay
    }

    /// Starts relay `name`, trusting the first ring `members`.
    @discardableResult
    func startRelay(_ name: String, trustingRing members: [RelayProcess]) throws -> RelayProcess {
        let relay = try RelayProcess(try devnet.startRelay(name, trustingRing: members.map(\.relay)), in: devnet)
        relays.append(relay)
        return relay
    }

    /// Starts client `name`, bootstrapping from every relay and trusting the first.
    func startClient(_ name: String, coverTraffic: String? = nil) throws -> ClientProcess {
        ClientProcess(try devnet.startClient(name, coverTraffic: coverTraffic), in: devnet)
    }

    func stop() {
        devnet.stop()
        devnet.removeDirectory()
    }
}
