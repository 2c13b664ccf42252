import Foundation
import SecIRCAPI
@testable import SecIRCLauncher
import Testing

/// The pieces of a `Devnet` that need no daemon: configuration text, refusals before anything
/// starts, waits. (Whole networks run in IntegrationTests.)
@Suite struct DevnetPartsTests {
    struct Boom: Error, CustomStringConvertible {
        var description: String { "boom" }
    }

    @Test func missingDaemonsAreRefusedBeforeAnythingIsMade() throws {
        let dir = try ChildProcessTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let devnet = Devnet(options: DevnetOptions(binDirectory: dir, directory: dir + "/net"))
        #expect(throws: DevnetError.missingExecutable(path: dir + "/secirc-relay")) { try devnet.start() }
        #expect(throws: DevnetError.missingExecutable(path: dir + "/secirc-relay")) { try devnet.startRelay("a", trusting: nil) }
        #expect(!FileManager.default.fileExists(atPath: dir + "/net"))
        #expect(DevnetError.missingExecutable(path: "/b/secirc-client").description
            == "/b/secirc-client not found: build it (swift build --product secirc-client) or pass --bin-dir")
    }

    @Test func waitsEndOnTheirDeadlineOrAnInterruption() throws {
        var options = DevnetOptions(binDirectory: "/nonexistent")
        options.stageTimeout = 0.1
        let devnet = Devnet(options: options)
        #expect(throws: DevnetError.timedOut(waitingFor: "nothing", seconds: 0.1, lastProblem: "boom")) {
            try devnet.waitFor("nothing") { () throws -> Bool? in throw Boom() }
        }
        #expect(try devnet.waitFor("a value") { 7 } == 7)
        let interrupted = Devnet(options: options, interrupted: { true })
        #expect(throws: DevnetError.interrupted) { try interrupted.waitFor("anything") { nil as Int? } }
    }

    @Test func processesNotStartedAreNeitherRunningNorRestartable() {
        let devnet = Devnet(options: DevnetOptions(binDirectory: "/nonexistent"))
        #expect(!devnet.isRunning("a") && devnet.pid(of: "a") == nil && devnet.stop("a") == nil)
        #expect(throws: DevnetError.cannotStart(name: "a", reason: "no such process in this devnet")) { try devnet.restart("a") }
    }

    @Test func relayConfiguration() {
        let plain = Devnet(options: DevnetOptions(binDirectory: "/b"))
        #expect(plain.serverYAML("a", data: "/d/a/data") == """
            # secirc devnet: relay a
            relay: {name: 'a', data_dir: '/d/a/data'}
            udp: {listen: "127.0.0.1:0"}
            http: {listen: "127.0.0.1:0"}
            directory: {period_seconds: 10}

            """)
        var options = DevnetOptions(binDirectory: "/b")
        options.directoryPeriodSeconds = 1
        options.keyRotationSeconds = 3
        options.keyGraceSeconds = 2
        options.relayQueuePackets = 65_536
        options.relayLogLevel = "warning"
        options.selfSignedTLS = true
        options.meanDelayMilliseconds = 5
        let tuned = Devnet(options: options)
        #expect(tuned.serverYAML("b", data: "/d") == """
            # secirc devnet: relay b
            relay: {name: 'b', data_dir: '/d'}
            udp: {listen: "127.0.0.1:0", queue_packets: 65536}
            http: {listen: "127.0.0.1:0", tls: self_signed}
            directory: {period_seconds: 1}
            keys: {rotation_seconds: 3, grace_seconds: 2}
            log: {level: 'warning'}

            """)
        #expect(tuned.securityYAML(ring: []) == "# secirc devnet\nfirst_ring:\n  members: []\nnetwork: {mean_delay_ms: 5}\n"
            + "admission: {max_relays_per_address: 16, max_relays_per_prefix: 16, uploads_per_minute: 600, upload_burst: 100, probation_hours: 0}\n")
        let ring = Devnet.Relay(name: "a", http: "http://127.0.0.1:8001", httpPort: 8001, udp: "127.0.0.1:7001", directory: "/d/a",
                                dataDirectory: "/d/a/data", adminTokenFile: "/d/a/data/admin.token", logPath: "/d/a.log",
                                identityKey: String(repeating: "ab", count: 32))
        #expect(plain.securityYAML(ring: [ring]) == """
            # secirc devnet
            first_ring:
              members:
                - {public_key: \(ring.identityKey), udp: '127.0.0.1:7001', http: 'http://127.0.0.1:8001'}
            admission: {max_relays_per_address: 16, max_relays_per_prefix: 16, uploads_per_minute: 600, upload_burst: 100, probation_hours: 0}

            """)
        var second = ring
        second.identityKey = String(repeating: "cd", count: 32)
        second.udp = "127.0.0.1:7002"
        second.http = "http://127.0.0.1:8002"
        #expect(plain.securityYAML(ring: [ring, second]) == """
            # secirc devnet
            first_ring:
              members:
                - {public_key: \(ring.identityKey), udp: '127.0.0.1:7001', http: 'http://127.0.0.1:8001'}
                - {public_key: \(second.identityKey), udp: '127.0.0.1:7002', http: 'http://127.0.0.1:8002'}
            admission: {max_relays_per_address: 16, max_relays_per_prefix: 16, uploads_per_minute: 600, upload_burst: 100, probation_hours: 0}

            """)
    }

    @Test func yamlScalarsAreQuoted() {
        #expect(Devnet.yaml("off") == "'off'")
        #expect(Devnet.yaml("/tmp/it's here") == "'/tmp/it''s here'")
    }
}
