import Foundation
import SecIRCAPI
import SecIRCCore
import SecIRCCrypto
import SecIRCLauncher
import SecIRCNode
import SecIRCTransport
import Testing

/// Issue 11's upload flood, staged against running relay processes: hundreds of descriptors with
/// fresh keys from one host (127.0.0.2, the daemons use 127.0.0.1). Worse than the issue's
/// unreachable addresses, every fake relay here answers its admission challenge (a link
/// responder with its own key on its own UDP socket, on 127.0.0.2 or on 127.x.y.1 across many
/// /24s), so only the admission policy stands in the way: the per-host upload rate, the caps
/// per address and /24, and new relays per period. The directory must stay within them; the
/// operator bans what got in with the admin route; alice and bob message throughout.
@Suite(.serialized) struct DescriptorFloodTests {
    static let period = 5
    static let newPerPeriod = 4

    @Test func aFloodOfFreshKeysFromOneHostStaysWithinTheCaps() async throws {
        let mesh = try TestNetwork { options in
            options.directoryPeriodSeconds = Self.period
            // The honest relays share 127.0.0.1; the attacker's host keeps security.yaml's
            // default upload rate (30 a minute, bursts of 10).
            options.admission = [("max_relays_per_address", "8"), ("max_relays_per_prefix", "8"),
                                 ("new_relays_per_period", "\(Self.newPerPeriod)"), ("probation_hours", "0")]
        }
        defer { mesh.stop() }
        let a = try mesh.startRelay("a", trusting: nil)
        try mesh.startRelay("b", trusting: a)
        try mesh.startRelay("c", trusting: a)
        try mesh.devnet.waitForDirectory()
        let honest = Set(mesh.relays.map(\.id.hex))
        let alice = try mesh.startClient("alice"), bob = try mesh.startClient("bob")
        try alice.waitReady()
        try bob.waitReady()
        try mesh.devnet.introduce(alice.client, to: bob.client)
        let bobID = try #require(try alice.contacts().first?.id), aliceID = try #require(try bob.contacts().first?.id)
        func delivered(_ id: String, by sender: ClientProcess) throws -> Bool {
            try sender.get(Message.self, "/v1/messages/\(id)").state == "delivered"
        }
        let before = try alice.send("before the flood", to: bobID)
        try await eventually("a message before the flood") { try delivered(before, by: alice) }

        // The flood: 300 uploads, each a fresh identity at a fresh UDP endpoint that answers.
        let farm = SybilFarm()
        defer { farm.stop() }
        let started = ContinuousClock.now
        var statuses: [Int: Int] = [:]
        for i in 0..<300 {
            let host = i % 2 == 0 ? "127.0.0.2" : "127.\(20 + i % 200).\(i / 200).1"
            let document = try farm.add(host: host)
            let status = LoopbackTCP.post(from: "127.0.0.2", to: a.relay.httpPort, path: "/v1/descriptors", body: document.jsonBytes()) ?? 0
            statuses[status, default: 0] += 1
            if status != 202 { farm.dropLast() }
        }
        let floodSeconds = Double((ContinuousClock.now - started).components.seconds) + 1
        let during = try alice.send("during the flood", to: bobID), back = try bob.send("during the flood, back", to: aliceID)

        // Watch the first ring's directory for two periods while the fakes answer their challenges.
        var most = 0
        let watchEnd = ContinuousClock.now.advanced(by: .seconds(2 * Self.period))
        while ContinuousClock.now < watchEnd {
            most = max(most, try Self.listed(by: a).count)
            try await Task.sleep(for: .milliseconds(100))
        }
        let accepted = statuses[202, default: 0]
        // Per host: a burst of 10 and one every 2 s; new relays: 4 per 5 s period.
        #expect(accepted <= 10 + Int(floodSeconds / 2) + 1, "\(statuses)")
        #expect(statuses[429, default: 0] >= 250, "\(statuses)")
        let windows = Int((floodSeconds + 2 * Double(Self.period)) / Double(Self.period)) + 1
        #expect(most <= 3 + min(accepted, Self.newPerPeriod * windows), "directory of \(most) relays, \(accepted) uploads taken")
        #expect(try a.metric("secirc_relay_uploads_total{result=\"rate_limited\"}") == statuses[429, default: 0])
        print("descriptor flood: \(statuses) in \(floodSeconds) s; directory at most \(most) relays (3 honest)")

        // The operator bans whatever got in (and whatever still waited for room and gets in
        // next); the next directory leaves them out.
        var banned: Set<String> = []
        try await eventually("every relay's directory back to the 3 honest ones", within: 30, interval: .milliseconds(200)) {
            for id in try Self.listed(by: a).subtracting(honest).subtracting(banned) {
                let body = Array(#"{"id":"\#(id)"}"#.utf8)
                #expect(try a.request("/v1/admin/admission/ban", method: "POST", body: body, token: a.adminToken).status == 200)
                banned.insert(id)
            }
            return try mesh.relays.allSatisfy { try Self.listed(by: $0) == honest }
        }
        farm.stop()
        #expect(banned.count <= statuses[202, default: 0])
        try await eventually("the messages sent during the flood arrive", within: 90) {
            try delivered(during, by: alice) && delivered(back, by: bob)
        }
        let after = try alice.send("after the flood", to: bobID)
        try await eventually("a message after the flood") { try delivered(after, by: alice) }
    }

    /// The relay IDs in `relay`'s directory (`GET /v1/relays`).
    static func listed(by relay: RelayProcess) throws -> Set<String> {
        let object = try relay.json("/v1/relays")
        return Set((object["relays"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String })
    }
}

/// Fake relays that answer link handshakes (each its own identity, link key and UDP socket) and
/// do nothing else: a thread reads every socket and lets each one's link manager answer.
final class SybilFarm: @unchecked Sendable {
    private struct Fake {
        let transport: UDPTransport
        var links: LinkManager
    }

    private let lock = NSLock()
    private var fakes: [Fake] = []
    private var stopped = false
    private var thread: Thread?

    /// A new fake relay on `host` (a fresh port): its signed descriptor.
    func add(host: String) throws -> SignedDocument {
        var rng = SystemRandom()
        let identity = SigningPrivateKey(using: &rng), linkKey = AgreementPrivateKey(using: &rng)
        let transport = try UDPTransport(bind: SocketAddress(host: host, port: 0))
        let now = LinkClient.now()
        let links = LinkManager(configuration: LinkManager.Configuration(localStatic: linkKey), now: now, rng: &rng)
        lock.withLock { fakes.append(Fake(transport: transport, links: links)) }
        if thread == nil {
            let thread = Thread { [self] in serve() }
            self.thread = thread
            thread.start()
        }
        return try RelayDescriptor(
            identityKey: identity.publicKey, linkKey: linkKey.publicKey, udp: transport.localAddress.description, http: "http://\(host):9",
            onionKeys: [.init(epoch: 1, key: AgreementPrivateKey(using: &rng).publicKey, validAfter: now.seconds - 60,
                              validUntil: now.seconds + 86_400)],
            capacity: 100_000, flags: ["mailbox"], published: now.seconds).signed(by: identity)
    }

    /// Forgets the last one added (its upload was refused).
    func dropLast() {
        lock.withLock { fakes.popLast() }?.transport.close()
    }

    func stop() {
        let all = lock.withLock {
            stopped = true
            defer { fakes.removeAll() }
            return fakes
        }
        for fake in all { fake.transport.close() }
    }

    private func serve() {
        var rng = SystemRandom()
        let batch = DatagramBatch(capacity: 8, maxDatagramSize: 2048)
        while !lock.withLock({ stopped }) {
            lock.withLock {
                for index in fakes.indices {
                    var out: [Datagram] = []
                    let now = LinkClient.now()
                    while let n = try? fakes[index].transport.receive(into: batch, timeout: .zero), n > 0 {
                        for i in 0..<n {
                            _ = fakes[index].links.receive(batch.withDatagram(i) { Array($0) }, from: batch.address(i), now: now, rng: &rng,
                                                           out: &out)
                        }
                    }
                    _ = fakes[index].links.tick(now: now, rng: &rng, out: &out)
                    for datagram in out { try? fakes[index].transport.send(datagram.bytes, to: datagram.address) }
                }
            }
            usleep(2_000)
        }
    }
}
