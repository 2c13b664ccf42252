import Foundation
import SecIRCCore
import SecIRCCrypto
import SecIRCTransport
import Testing

/// Three `secirc-relay` processes on loopback, one of them the first ring: the mesh an operator
/// gets from one command each.
@Suite(.serialized) struct MeshTests {
    /// Starts A (first ring), B and C; returns once all are ready, each holds a directory
    /// listing all three, and every packet of A's forwarding probes (through B and C, at their
    /// admission) is back or lost.
    static func startMesh(rotationSeconds: Int = 3_600, graceSeconds: Int = 60, directoryPeriodSeconds: Int = 1) async throws -> TestNetwork {
        let mesh = try TestNetwork { options in
            options.keyRotationSeconds = rotationSeconds
            options.keyGraceSeconds = graceSeconds
            options.directoryPeriodSeconds = directoryPeriodSeconds
        }
        let a = try mesh.startRelay("a", trusting: nil)
        try mesh.startRelay("b", trusting: a)
        try mesh.startRelay("c", trusting: a)
        try mesh.devnet.waitForDirectory()
        try await eventually("A's probes done", within: 30) {
            let sent = try a.metric("secirc_relay_probe_packets_total{result=\"sent\"}")
            let ended = try a.metric("secirc_relay_probe_packets_total{result=\"returned\"}")
                + a.metric("secirc_relay_probe_packets_total{result=\"lost\"}")
            return sent == 16 && ended == sent
        }
        return mesh
    }

    /// The verified directory from `relay`, trusting A alone.
    static func descriptors(from relay: RelayProcess, firstRing a: RelayProcess) throws -> [ID: RelayDescriptor] {
        let data = try relay.request("/v1/directory").body
        let roster = Roster(members: [Roster.Member(identityKey: a.identityKey, udp: a.udp, http: a.http)])
        let directory = try Unverified<RelayDirectory>(json: data).verified(trusting: roster, now: Int64(Date().timeIntervalSince1970))
        return Dictionary(uniqueKeysWithValues: try directory.descriptors().map { ($0.id, $0) })
    }

    /// Fetches (and acknowledges) mail until `expecting` distinct packet numbers (first two body
    /// bytes) have arrived or the deadline passes; returns the numbers seen.
    static func fetchNumbered(from exit: LinkClient, mailbox: SigningPrivateKey, expecting: Int) async throws -> Set<Int> {
        var received = Set<Int>()
        var ack: UInt64 = 0
        try await eventually("all \(expecting) packets at the exit") {
            let (messages, _) = try exit.fetch(mailbox: mailbox, ackThrough: ack)
            for (sequence, body) in messages {
                received.insert(Int(body[0]) << 8 | Int(body[1]))
                ack = max(ack, sequence)
            }
            return received.count == expecting
        }
        return received
    }

    @Test func onionPacketCrossesThreeRelaysToAMailbox() async throws {
        let mesh = try await Self.startMesh()
        defer { mesh.stop() }
        let relays = mesh.relays
        let (a, b, c) = (relays[0], relays[1], relays[2])
        let directory = try Self.descriptors(from: a, firstRing: a)
        let path = [a, b, c].map { directory[$0.id]! }

        var rng = SystemRandom()
        let mailboxKey = SigningPrivateKey(using: &rng)
        let body = Array("hello through the mesh".utf8) + [UInt8](repeating: 0, count: PacketGeometry.standard.bodyLength - 22)
        let forwardedBefore = try b.metric("secirc_packets_forwarded_total")
        let entry = try LinkClient(to: path[0])
        try entry.send(.sphinx(LinkClient.packet(path: path, mailbox: mailboxKey.publicKey.id.rawValue, body: body, delayMilliseconds: 3)))

        let exit = try LinkClient(to: path[2])
        var fetched: [(UInt64, [UInt8])] = []
        try await eventually("mail at C") {
            fetched = try exit.fetch(mailbox: mailboxKey).messages
            return !fetched.isEmpty
        }
        #expect(fetched.count == 1)
        #expect(fetched.first?.1 == body)

        // Acknowledged mail is deleted; a wrong key is refused.
        #expect(try exit.fetch(mailbox: mailboxKey, ackThrough: fetched[0].0).messages.isEmpty)
        let stranger = SigningPrivateKey(using: &rng)
        #expect(try exit.fetch(mailbox: stranger).messages.isEmpty)

        try await eventually("B counts the forwarded packet") { try b.metric("secirc_packets_forwarded_total") == forwardedBefore + 1 }
        for relay in relays {
            #expect(!relay.logText.contains("127.0.0.1:\(entry.transport.localAddress.port)"), "no client address in \(relay.name)'s log")
        }
    }

    @Test func keyRotationDuringSteadyTrafficLosesNoPacket() async throws {
        let mesh = try await Self.startMesh()
        defer { mesh.stop() }
        let relays = mesh.relays
        let (a, b, c) = (relays[0], relays[1], relays[2])
        let directory = try Self.descriptors(from: a, firstRing: a)
        let path = [a, b, c].map { directory[$0.id]! }
        var rng = SystemRandom()
        let mailboxKey = SigningPrivateKey(using: &rng)
        // A contact's queue (the introduction address is rate-limited): registered by a fetch.
        let queue = Bytes32 { rng.fill($0) }
        #expect(try LinkClient(to: path[2]).fetch(mailbox: mailboxKey, queueOps: [.add(queue)]).status == .ok)
        let entry = try LinkClient(to: path[0])
        let total = 200
        for i in 0..<total {
            if i == total / 3 { #expect(try b.request("/v1/admin/keys/rotate", method: "POST", token: b.adminToken).status == 202) }
            if i == 2 * total / 3 { #expect(try c.request("/v1/admin/keys/rotate", method: "POST", token: c.adminToken).status == 202) }
            var body = [UInt8](repeating: 0, count: PacketGeometry.standard.bodyLength)
            body[0] = UInt8(i >> 8)
            body[1] = UInt8(i & 0xff)
            try entry.send(.sphinx(LinkClient.packet(path: path, mailbox: queue, body: body)))
            if i % 20 == 19 { _ = try entry.receiveFrames(timeout: .milliseconds(20)) { _ in false } } // pace: ~1k packets/s
        }
        let received = try await Self.fetchNumbered(from: LinkClient(to: path[2]), mailbox: mailboxKey, expecting: total)
        #expect(received.count == total)
        let status = try b.json("/v1/admin/status", token: b.adminToken)
        #expect((status["onion_keys"] as? [Any])?.count == 2)
    }

    /// Relays rotate on their own every 3 s (grace 2 s) while a sender keeps its directory fresh
    /// and uses the newest key each descriptor says is valid: nothing is lost across three rotations.
    @Test func scheduledRotationsLoseNoPacket() async throws {
        let mesh = try await Self.startMesh(rotationSeconds: 3, graceSeconds: 2)
        defer { mesh.stop() }
        let relays = mesh.relays
        let (a, b, c) = (relays[0], relays[1], relays[2])
        var directory = try Self.descriptors(from: a, firstRing: a)
        var rng = SystemRandom()
        let mailboxKey = SigningPrivateKey(using: &rng)
        let queue = Bytes32 { rng.fill($0) }
        #expect(try LinkClient(to: directory[c.id]!).fetch(mailbox: mailboxKey, queueOps: [.add(queue)]).status == .ok)
        let entry = try LinkClient(to: directory[a.id]!)
        let start = Date()
        var sent = 0
        var epochsSeen: Set<UInt32> = []
        while Date().timeIntervalSince(start) < 10 {
            if sent % 5 == 0 { directory = try Self.descriptors(from: a, firstRing: a) }
            let path = [a, b, c].map { directory[$0.id]! }
            let now = Int64(Date().timeIntervalSince1970)
            let epochs = path.map { relay in
                relay.onionKeys.filter { $0.validAfter <= now && now < $0.validUntil }.max { $0.validAfter < $1.validAfter }?.epoch
                    ?? relay.onionKeys[0].epoch
            }
            epochsSeen.insert(epochs[1])
            var body = [UInt8](repeating: 0, count: PacketGeometry.standard.bodyLength)
            body[0] = UInt8(sent >> 8)
            body[1] = UInt8(sent & 0xff)
            try entry.send(.sphinx(LinkClient.packet(path: path, mailbox: queue, body: body, epochs: epochs)))
            sent += 1
            _ = try entry.receiveFrames(timeout: .milliseconds(100)) { _ in false } // ~10 packets a second
        }
        #expect(epochsSeen.count >= 3, "B rotated at least twice during the run")
        let received = try await Self.fetchNumbered(from: LinkClient(to: directory[c.id]!), mailbox: mailboxKey, expecting: sent)
        #expect(received.count == sent)
        let metrics = String(decoding: try b.request("/metrics").body, as: UTF8.self)
        #expect(metrics.contains("secirc_packets_dropped_total{layer=\"sphinx\",reason=\"unknown_epoch\"} 0\n"))
    }
}
