import Foundation
@testable import SecIRCClient
@testable import SecIRCNode
import SecIRCConfig
import SecIRCCore
import SecIRCCrypto
import Testing

@Suite struct ClientSettingsTests {
    static let ring = "[{public_key: \(String(repeating: "ab", count: 32)), udp: '127.0.0.1:7001', http: 'http://127.0.0.1:8001'}]"

    @Test func aClientWithoutTrustAnchorsIsRefused() {
        do {
            _ = try ClientSettings.load(configPath: nil, securityPath: nil, environment: [:])
            Issue.record("accepted an empty first ring")
        } catch {
            #expect("\(error)".contains("first_ring.members"))
        }
    }

    @Test func flagsOverrideAndTheAPIStaysOnLoopback() throws {
        let env = ["SECIRC_SECURITY_FIRST_RING_MEMBERS": Self.ring, "SECIRC_CLIENT_NETWORK_POLL_INTERVAL_MS": "100"]
        let settings = try ClientSettings.load(configPath: nil, securityPath: nil, dataDirectory: "/tmp/x", apiListen: "127.0.0.1:7777",
                                               environment: env)
        #expect(settings.client.dataDirectory == "/tmp/x" && settings.client.api.listen.port == 7777)
        #expect(settings.client.network.pollIntervalMilliseconds == 100)
        #expect(try settings.trustedRoster().members.count == 1)
        #expect(throws: ConfigError.self) {
            try ClientSettings.load(configPath: nil, securityPath: nil, apiListen: "0.0.0.0:7777", environment: env)
        }
        #expect(throws: ConfigError.self) {
            try ClientSettings.load(configPath: nil, securityPath: nil, dataDirectory: "", environment: env)
        }
    }
}

@Suite struct ClientConfigKeyTests {
    @Test(arguments: [
        ("network:\n  poll_interval_ms: 10", "client.yaml: network.poll_interval_ms"),
        ("network:\n  poll_interval_ms: fast", "client.yaml: network.poll_interval_ms"),
        ("client:\n  display_name: \(String(repeating: "x", count: 65))", "client.yaml: client.display_name"),
        ("client:\n  display_nam: bob", "client.yaml: client.display_nam"),
    ])
    func badValuesNameTheFileAndKey(yaml: String, prefix: String) {
        do {
            _ = try ClientConfig.parse(yaml: yaml)
            Issue.record("accepted \(yaml)")
        } catch {
            #expect("\(error)".hasPrefix(prefix), "\(error)")
        }
    }

    @Test func theNewKeysHaveWorkingDefaults() throws {
        let config = try ClientConfig.parse(yaml: "client:\n  display_name: carol\nnetwork:\n  poll_interval_ms: 250")
        #expect(config.displayName == "carol" && config.network.pollIntervalMilliseconds == 250)
        #expect(ClientConfig().network.pollIntervalMilliseconds == 1000 && ClientConfig().displayName.isEmpty)
    }
}

@Suite struct PathSelectorTests {
    @Test func pathsAreDistinctAndEndAtTheMailboxRelay() throws {
        let relays = try FakeRelays.make(5)
        var rng = SeededRandom(seed: "paths")
        for _ in 0..<100 {
            let path = try PathSelector.path(to: relays[2].id, relays: relays, length: 3, rng: &rng)
            #expect(path.count == 3 && path.last?.id == relays[2].id && Set(path.map(\.id)).count == 3)
        }
        #expect(try PathSelector.path(to: relays[0].id, relays: Array(relays.prefix(2)), length: 3, rng: &rng).count == 2)
        #expect(throws: PathSelector.PathError.self) {
            try PathSelector.path(to: ID(rawValue: .zero), relays: relays, length: 3, rng: &rng)
        }
        // Relays that did not answer are left out while others remain, and used when nothing else is left.
        let down: Set<ID> = [relays[0].id, relays[1].id]
        for _ in 0..<50 {
            let path = try PathSelector.path(to: relays[4].id, relays: relays, length: 3, avoiding: down, rng: &rng)
            #expect(path.allSatisfy { !down.contains($0.id) })
        }
        let squeezed = try PathSelector.path(to: relays[4].id, relays: Array(relays[0...2]) + [relays[4]], length: 3,
                                             avoiding: down, rng: &rng)
        #expect(squeezed.count == 3, "fewer live relays than hops: the path still has its length")
        let packet = try PathSelector.packet(path: Array(relays.prefix(3)), mailbox: .zero, body: [1, 2, 3], meanDelayMs: 50,
                                             now: .t0, rng: &rng)
        #expect(packet.count == PacketGeometry.standard.sphinxPacketLength)
    }

    /// Paths are drawn by the first ring's weights: a relay weighing 98 of 100 is a hop of
    /// nearly every path; equal weights draw exactly as the uniform shuffle does.
    @Test func hopsAreDrawnByTheirWeights() throws {
        let relays = try FakeRelays.make(4)
        let ratings: [ID: RelayRating] = [relays[0].id: .init(weight: 1), relays[1].id: .init(weight: 1), relays[2].id: .init(weight: 98)]
        var rng = SeededRandom(seed: "weighted paths")
        var heavy = 0
        let draws = 10_000
        for _ in 0..<draws {
            let path = try PathSelector.path(to: relays[3].id, relays: relays, length: 2, ratings: ratings, rng: &rng)
            #expect(path.count == 2 && path.last?.id == relays[3].id)
            if path[0].id == relays[2].id { heavy += 1 }
        }
        #expect(abs(Double(heavy) / Double(draws) - 0.98) < 0.01, "\(heavy) of \(draws)")
        // Without replacement: two hops out of three relays are distinct whatever the weights.
        for _ in 0..<200 {
            let path = try PathSelector.path(to: relays[3].id, relays: relays, length: 3, ratings: ratings, rng: &rng)
            #expect(Set(path.map(\.id)).count == 3)
        }
        var a = SeededRandom(seed: "equal"), b = SeededRandom(seed: "equal")
        let equal = Dictionary(uniqueKeysWithValues: relays.map { ($0.id, RelayRating(weight: 7)) })
        for _ in 0..<50 {
            let weighted = try PathSelector.path(to: relays[3].id, relays: relays, length: 3, ratings: equal, rng: &a)
            let plain = try PathSelector.path(to: relays[3].id, relays: relays, length: 3, rng: &b)
            #expect(weighted.map(\.id) == plain.map(\.id))
        }
    }

    @Test func delaysAndCoverCountsHaveTheirMeans() {
        var rng = SeededRandom(seed: "distributions")
        let delays = (0..<20_000).map { _ in Double(PathSelector.exponential(mean: 50, rng: &rng)) }
        let meanDelay = delays.reduce(0, +) / Double(delays.count)
        #expect(abs(meanDelay - 49.5) < 2, "mean \(meanDelay) (whole milliseconds, so about 0.5 below μ)")
        #expect(PathSelector.exponential(mean: 0, rng: &rng) == 0)
        // Cover slots: exponential gaps of mean 1/λ, so λ = 2/s gives 0.5 s on average.
        let gaps = (0..<20_000).map { _ in ClientEngine.exponentialGap(rate: 2, rng: &rng) }
        let meanGap = gaps.reduce(Duration.zero, +) / gaps.count
        #expect(abs(Double(meanGap.components.attoseconds) / 1e18 - 0.5) < 0.02 && meanGap.components.seconds == 0)
    }
}

@Suite struct StorageKeyTests {
    @Test func aKeyFileIsMadeOnceWith0600() throws {
        let dir = TemporaryDirectory()
        let first = try StorageKey.loadOrCreate(dataDirectory: dir.path, passphraseFile: "")
        #expect(try KeyFile.permissions(of: dir.path + "/" + StorageKey.keyFileName) == 0o600)
        #expect(try StorageKey.loadOrCreate(dataDirectory: dir.path, passphraseFile: "") == first)
    }

    @Test func aPassphraseDerivesTheSameKeyAndAWrongOneIsCaught() throws {
        let dir = TemporaryDirectory()
        let cheap = Argon2id.Cost(operations: 1, memoryBytes: 8 << 20)
        let file = dir.path + "/pass"
        try KeyFile.write(text: "correct horse\n", to: file)
        let key = try StorageKey.loadOrCreate(dataDirectory: dir.path, passphraseFile: file, cost: cheap)
        #expect(try StorageKey.loadOrCreate(dataDirectory: dir.path, passphraseFile: file, cost: cheap) == key)
        _ = try SQLiteMessengerStore(path: dir.path + "/db.sqlite", key: key)
        try KeyFile.write(text: "wrong horse\n", to: file, replace: true)
        let wrong = try StorageKey.loadOrCreate(dataDirectory: dir.path, passphraseFile: file, cost: cheap)
        #expect(throws: ClientError.self) { try SQLiteMessengerStore(path: dir.path + "/db.sqlite", key: wrong) }
    }
}
