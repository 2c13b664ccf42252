import SecIRCCore
import SecIRCCrypto
import Testing

/// A path of relays with fixed keys, for building and peeling.
struct SphinxFixture {
    var relays: [(id: Bytes32, key: OnionKey)] = []
    var processors: [SphinxProcessor] = []
    let geometry = PacketGeometry.standard

    init(hops: Int, seed: String = "sphinx fixture", epoch: UInt32 = 7) {
        var rng = SeededRandom(seed: seed)
        for _ in 0..<hops {
            let key = OnionKey(epoch: epoch, privateKey: AgreementPrivateKey(using: &rng))
            let id = try! Bytes32(rng.bytes(32))
            relays.append((id, key))
            var processor = SphinxProcessor(replayCapacity: 1024)
            processor.install(key)
            processors.append(processor)
        }
    }

    /// Forward through every relay, deliver to `mailbox` at the last.
    func path(mailbox: Bytes32, delay: UInt32 = 5) -> [SphinxHop] {
        relays.enumerated().map { i, relay in
            let command: RoutingCommand = i == relays.count - 1
                ? .deliver(to: mailbox)
                : .forward(to: relays[i + 1].id, delayMilliseconds: delay + UInt32(i), nextEpoch: 0)
            return SphinxHop(onionKey: relay.key.publicKey, epoch: relay.key.epoch, command: command)
        }
    }

    /// Peels at each relay in turn; returns each result and the α seen by each hop.
    mutating func send(_ packet: [UInt8]) -> (results: [SphinxPeelResult], alphas: [[UInt8]], final: [UInt8]) {
        var packet = packet
        var results: [SphinxPeelResult] = []
        var alphas: [[UInt8]] = []
        for i in processors.indices {
            alphas.append(Array(packet[geometry.alphaOffset..<geometry.betaOffset]))
            let result = processors[i].peel(&packet)
            results.append(result)
            guard case .forward = result else { break }
        }
        return (results, alphas, packet)
    }
}

@Suite struct SphinxTests {
    static let mailbox = try! Bytes32(Array(repeating: 0xAB, count: 32))

    @Test(arguments: 1...5)
    func packetForNHopsComesOutIntactAfterNPeels(hops: Int) throws {
        var fixture = SphinxFixture(hops: hops)
        var rng = SeededRandom(seed: "build \(hops)")
        let body = Array("hello through \(hops) hops".utf8)
        let packet = try SphinxPacketBuilder().build(path: fixture.path(mailbox: Self.mailbox), body: body, using: &rng)
        #expect(packet.count == PacketGeometry.standard.sphinxPacketLength)

        let (results, alphas, final) = fixture.send(packet)
        #expect(results.count == hops)
        for i in 0..<(hops - 1) {
            #expect(results[i] == .forward(relay: fixture.relays[i + 1].id, delayMilliseconds: 5 + UInt32(i)))
        }
        #expect(results.last == .deliver(mailbox: Self.mailbox))
        let delivered = fixture.processors[hops - 1].body(ofDelivered: final)
        #expect(Array(delivered.prefix(body.count)) == body)
        #expect(delivered.dropFirst(body.count).allSatisfy { $0 == 0 })
        #expect(Set(alphas).count == hops, "α differs at every hop")
    }

    @Test func maximumBodyFitsAndLongerIsRefused() throws {
        var fixture = SphinxFixture(hops: 3)
        var rng = SeededRandom(seed: "max body")
        let body = rng.bytes(PacketGeometry.standard.bodyLength)
        let packet = try SphinxPacketBuilder().build(path: fixture.path(mailbox: Self.mailbox), body: body, using: &rng)
        let (_, _, final) = fixture.send(packet)
        #expect(fixture.processors[2].body(ofDelivered: final) == body)
        #expect(throws: SphinxBuildError.bodyTooLong(body.count + 1, max: body.count)) {
            try SphinxPacketBuilder().build(path: fixture.path(mailbox: Self.mailbox), body: body + [1], using: &rng)
        }
    }

    @Test func pathLengthIsChecked() {
        var rng = SeededRandom(seed: "path")
        let fixture = SphinxFixture(hops: 5)
        #expect(throws: SphinxBuildError.pathLength(0, max: 5)) { try SphinxPacketBuilder().build(path: [], body: [], using: &rng) }
        let six = fixture.path(mailbox: Self.mailbox) + [fixture.path(mailbox: Self.mailbox)[0]]
        #expect(throws: SphinxBuildError.pathLength(6, max: 5)) { try SphinxPacketBuilder().build(path: six, body: [], using: &rng) }
    }

    @Test func replayWithinAnEpochIsRejected() throws {
        var fixture = SphinxFixture(hops: 2)
        var rng = SeededRandom(seed: "replay")
        let packet = try SphinxPacketBuilder().build(path: fixture.path(mailbox: Self.mailbox), body: [1, 2, 3], using: &rng)
        var first = packet, second = packet
        #expect(fixture.processors[0].peel(&first) != .reject(.replay))
        #expect(fixture.processors[0].peel(&second) == .reject(.replay))
        // Another fresh packet on the same path still passes.
        var other = try SphinxPacketBuilder().build(path: fixture.path(mailbox: Self.mailbox), body: [1, 2, 3], using: &rng)
        #expect(fixture.processors[0].peel(&other) == .forward(relay: fixture.relays[1].id, delayMilliseconds: 5))
    }

    @Test func dropCommandEndsThePacket() throws {
        var fixture = SphinxFixture(hops: 2)
        var path = fixture.path(mailbox: Self.mailbox)
        path[1].command = .drop
        var rng = SeededRandom(seed: "drop")
        let (results, _, _) = fixture.send(try SphinxPacketBuilder().build(path: path, body: [], using: &rng))
        #expect(results.last == .drop)
    }

    @Test func unknownCommandIsRejected() throws {
        var fixture = SphinxFixture(hops: 1)
        var path = fixture.path(mailbox: Self.mailbox)
        path[0].command = RoutingCommand(action: RoutingAction(rawValue: 99), address: .zero)
        var rng = SeededRandom(seed: "unknown")
        let (results, _, _) = fixture.send(try SphinxPacketBuilder().build(path: path, body: [], using: &rng))
        #expect(results == [.reject(.unknownCommand)])
        #expect(RoutingAction(rawValue: 99).description == "unknown(99)")
    }

    @Test func epochsSelectTheKeyAndUnknownEpochsAreRejected() throws {
        var rng = SeededRandom(seed: "epochs")
        let old = OnionKey(epoch: 1, privateKey: AgreementPrivateKey(using: &rng))
        let new = OnionKey(epoch: 2, privateKey: AgreementPrivateKey(using: &rng))
        var processor = SphinxProcessor(replayCapacity: 16)
        processor.install(old)
        processor.install(new)
        #expect(processor.epochs == [1, 2])
        for key in [old, new] {
            var packet = try SphinxPacketBuilder().build(
                path: [SphinxHop(onionKey: key.publicKey, epoch: key.epoch, command: .deliver(to: Self.mailbox))],
                body: [9], using: &rng)
            #expect(processor.peel(&packet) == .deliver(mailbox: Self.mailbox))
        }
        processor.remove(epoch: 1)
        var late = try SphinxPacketBuilder().build(
            path: [SphinxHop(onionKey: old.publicKey, epoch: 1, command: .deliver(to: Self.mailbox))], body: [9], using: &rng)
        #expect(processor.peel(&late) == .reject(.unknownEpoch))
    }

    @Test func nextEpochIsWrittenForTheNextHop() throws {
        var rng = SeededRandom(seed: "next epoch")
        let a = OnionKey(epoch: 10, privateKey: AgreementPrivateKey(using: &rng))
        let b = OnionKey(epoch: 20, privateKey: AgreementPrivateKey(using: &rng))
        var pa = SphinxProcessor(replayCapacity: 16), pb = SphinxProcessor(replayCapacity: 16)
        pa.install(a)
        pb.install(b)
        let relayB = try Bytes32(rng.bytes(32))
        var packet = try SphinxPacketBuilder().build(path: [
            SphinxHop(onionKey: a.publicKey, epoch: 10, command: .forward(to: relayB, delayMilliseconds: 0, nextEpoch: 0)),
            SphinxHop(onionKey: b.publicKey, epoch: 20, command: .deliver(to: Self.mailbox)),
        ], body: [1], using: &rng)
        #expect(Array(packet[0..<4]) == [0, 0, 0, 10])
        #expect(pa.peel(&packet) == .forward(relay: relayB, delayMilliseconds: 0))
        #expect(Array(packet[0..<4]) == [0, 0, 0, 20])
        #expect(pb.peel(&packet) == .deliver(mailbox: Self.mailbox))
    }

    /// Every bit of the header, and a spread of payload bits: each flip is rejected at the next
    /// hop, or reaches the last hop as a payload whose zero tag no longer holds.
    @Test func anySingleBitFlipIsRejected() throws {
        let base = SphinxFixture(hops: 3)
        var rng = SeededRandom(seed: "bit flips")
        let packet = try SphinxPacketBuilder().build(path: base.path(mailbox: Self.mailbox), body: Array("secret".utf8), using: &rng)
        let g = PacketGeometry.standard
        let headerBits = Array(0..<(g.payloadOffset * 8))
        let payloadBits = Array(stride(from: g.payloadOffset * 8, to: packet.count * 8, by: 61)) + [packet.count * 8 - 1]
        for bit in headerBits + payloadBits {
            var fixture = base
            var flipped = packet
            flipped[bit / 8] ^= 1 << UInt8(bit % 8)
            let (results, _, _) = fixture.send(flipped)
            guard case let .reject(reason) = results.last else {
                Issue.record("bit \(bit) flipped was accepted: \(results)")
                continue
            }
            if bit >= g.payloadOffset * 8 {
                #expect(reason == .payloadTampered, "payload bit \(bit)")
                #expect(results.count == 3)
            } else {
                #expect(results.count == 1, "header bit \(bit) must be caught at the first hop")
            }
        }
    }

    @Test func wrongLengthIsRejectedWithoutCrypto() {
        var processor = SphinxProcessor(replayCapacity: 4)
        for length in [0, 1, PacketGeometry.standard.sphinxPacketLength - 1, PacketGeometry.standard.sphinxPacketLength + 1] {
            var packet = [UInt8](repeating: 0, count: length)
            #expect(processor.peel(&packet) == .reject(.badLength))
        }
    }

    /// X25519 ignores α's top bit and reduces it mod p, so every encoding of a field element at
    /// or above p, or with the top bit set, would peel like a canonical one: refused before any
    /// X25519 (`bad_alpha`). p − 2, canonical (and not of small order, as p − 1 is), goes on to
    /// the MAC check.
    @Test(arguments: [
        ([0xed] + [UInt8](repeating: 0xff, count: 30) + [0x7f], true),  // p
        ([0xee] + [UInt8](repeating: 0xff, count: 30) + [0x7f], true),  // p + 1
        ([UInt8](repeating: 0xff, count: 31) + [0x7f], true),           // 2^255 − 1
        ([UInt8](repeating: 0, count: 31) + [0x80], true),               // 0 with the top bit set
        ([0xeb] + [UInt8](repeating: 0xff, count: 30) + [0x7f], false), // p − 2
    ])
    func nonCanonicalAlphaIsRefused(alpha: [UInt8], refused: Bool) {
        var fixture = SphinxFixture(hops: 1)
        var rng = SeededRandom(seed: "alpha")
        var packet = rng.bytes(PacketGeometry.standard.sphinxPacketLength)
        packet.replaceSubrange(0..<4, with: [0, 0, 0, 7])
        packet.replaceSubrange(4..<36, with: alpha)
        let result = fixture.processors[0].peel(&packet)
        #expect((result == .reject(.badAlpha)) == refused, "\(result)")
    }

    @Test func randomPacketsNeverTrap() {
        var fixture = SphinxFixture(hops: 1)
        var rng = SeededRandom(seed: "random sphinx")
        var rejected = 0
        for i in 0..<2_000 {
            var packet = rng.bytes(PacketGeometry.standard.sphinxPacketLength)
            if i % 2 == 0 { packet.replaceSubrange(0..<4, with: [0, 0, 0, 7]) } // reach the crypto
            if case .reject = fixture.processors[0].peel(&packet) { rejected += 1 }
        }
        #expect(rejected == 2_000)
    }

    /// The filter never forgets: full, it refuses new tags and still knows every old one.
    @Test func replayFilterRefusesWhenFullAndForgetsNothing() {
        var filter = ReplayFilterProbe(capacity: 4)
        #expect((0..<4).map { filter.insert(UInt8($0)) } == [.recorded, .recorded, .recorded, .recorded])
        #expect(filter.insert(4) == .full)
        #expect(filter.insert(0) == .replay, "the oldest tag is still known")
        #expect(filter.insert(3) == .replay)
        #expect(filter.count == 4)
    }

    @Test func everyDatagramIsExactlyOneDatagramLong() {
        let g = PacketGeometry.standard
        #expect(g.datagramSize == 1232)
        #expect(PacketGeometry.linkHeaderLength + PacketGeometry.frameKindLength + g.sphinxPacketLength
                + PacketGeometry.linkTagLength == 1232)
        #expect(g.sphinxHeaderLength + g.payloadLength == g.sphinxPacketLength)
        #expect(g.betaLength == 5 * 64)
        #expect(g.bodyLength == g.payloadLength - 16)
    }

    @Test func geometriesThatLeaveNoPayloadAreRefused() {
        #expect(throws: DecodeError.self) { try PacketGeometry(datagramSize: 600, maxHops: 16) }
        #expect(throws: Never.self) { try PacketGeometry(datagramSize: 1500, maxHops: 7) }
    }
}

/// Drives `ReplayFilter` with one-byte tags.
struct ReplayFilterProbe {
    var filter: ReplayFilter
    init(capacity: Int) { filter = ReplayFilter(capacity: capacity) }
    var count: Int { filter.count }
    mutating func insert(_ byte: UInt8) -> ReplayFilter.Outcome {
        let bytes = [UInt8](repeating: byte, count: 16)
        return bytes.withUnsafeBytes { filter.insert(ReplayFilter.Tag($0)) }
    }
}
