import SecIRCCore
import SecIRCCrypto
import SecIRCNode
import SecIRCTransport
import Testing

/// Every prefix of every kind of datagram a relay can receive, and of every frame it can be sent
/// inside a live session, through the relay's whole handler: each is one counted drop, answered
/// with nothing, and nothing traps (a missing length check reads past the end and traps). The
/// packets come from a real exchange on a fixed seed, so a failure names a reproducible case.
@Suite struct TruncationTests {
    /// Everything the relay counts as dropped or refused.
    static func refusals(_ relay: RelayEngine) -> Int {
        let c = relay.counters
        let link = c.linkDrops.values.reduce(0, +), relay = c.relayDrops.values.reduce(0, +)
        let sphinx = c.sphinxRejects.values.reduce(0, +), admission = c.handshakeRefusals.values.reduce(0, +)
        return link + relay + sphinx + admission + c.mailboxDrops.values.reduce(0, +)
    }

    /// A wire where relay 1 has linked relay 2 (IK) and client 9 has fetched and sent through it
    /// (NK), with every datagram of it captured.
    static func exchange() throws -> (wire: EngineWire, datagrams: [(from: SocketAddress, datagram: Datagram)]) {
        var wire = EngineWire()
        wire.captured = []
        let ring = wire.addRelay(1)
        _ = wire.addRelay(2, firstRing: ring)
        wire.advance(by: .seconds(5))
        let relay = EngineWire.address(1), client = wire.addClient(9)
        let mailboxKey = SigningPrivateKey(using: &wire.rng)
        let mailbox = mailboxKey.publicKey.id.rawValue
        wire.send(.sphinx(try RelayEngineTests.packet(for: wire.relays[relay]!, command: .deliver(to: mailbox), rng: &wire.rng)),
                  from: client, to: relay)
        // Forwarded at once to relay 2: relay 1 links it (IK).
        let next = wire.relays[EngineWire.address(2)]!.relayID.rawValue
        wire.send(.sphinx(try RelayEngineTests.packet(for: wire.relays[relay]!, command: .forward(to: next, delayMilliseconds: 0, nextEpoch: 0),
                                                      rng: &wire.rng)), from: client, to: relay)
        wire.send(.fetchChallengeRequest(mailbox: mailbox), from: client, to: relay)
        guard case let .fetchChallenge(_, nonce)? = wire.received[client]?.last else { throw CancellationError() }
        let signature = mailboxKey.sign(LinkFrame.fetchSignedBytes(relay: wire.relays[relay]!.relayID.rawValue, nonce: nonce, ackThrough: 0))
        wire.send(.fetchRequest(mailboxKey: mailboxKey.publicKey, nonce: nonce, ackThrough: 0, signature: signature), from: client, to: relay)
        return (wire, wire.captured ?? [])
    }

    @Test func everyPrefixOfEveryDatagramIsOneCountedDrop() throws {
        var (wire, captured) = try Self.exchange()
        let relay = EngineWire.address(1)
        // One of each (type, direction), transport packets of each length seen.
        var seen: Set<[UInt8]> = []
        var samples: [(from: SocketAddress, bytes: [UInt8])] = []
        for (from, datagram) in captured {
            let key = [datagram.bytes.first ?? 0, from == relay ? 1 : 0, UInt8(truncatingIfNeeded: datagram.bytes.count >> 8),
                       UInt8(truncatingIfNeeded: datagram.bytes.count)]
            if seen.insert(key).inserted { samples.append((from == relay ? datagram.address : from, datagram.bytes)) }
        }
        // A cookie reply needs a relay under load to be made; its length and type are what the
        // decoders look at, so one is made up (its MAC cannot be right, so it is dropped whole too).
        let cookie = [LinkMessageType.cookieReply.rawValue] + wire.rng.bytes(LinkWireFormat.cookieReplyLength - 1)
        samples.append((EngineWire.address(2), cookie))
        let types = Set(samples.map { $0.bytes[0] })
        #expect(types.isSuperset(of: [LinkMessageType.initiationIK, .initiationNK, .response, .cookieReply, .transport].map(\.rawValue)),
                "types seen: \(types.sorted())")

        var engine = try #require(wire.relays[relay])
        var rng = SeededRandom(seed: "prefixes")
        var prefixes = 0
        for (from, bytes) in samples {
            for length in 0..<bytes.count {
                let before = Self.refusals(engine)
                var effects = NodeEffects<RelayEngine.Event>()
                engine.receive(Array(bytes.prefix(length)), from: from, now: wire.now, rng: &rng, effects: &effects)
                prefixes += 1
                let counted = Self.refusals(engine) - before
                #expect(counted == 1, "type \(bytes[0]) from \(from): a prefix of \(length) of \(bytes.count) bytes counted \(counted)")
                #expect(effects.datagrams.isEmpty, "type \(bytes[0]): a prefix of \(length) bytes was answered")
            }
        }
        #expect(prefixes > 2_500)
    }

    /// Inside a live session, every prefix of every frame a client sends (the link encrypts
    /// whatever length it is given) is a `malformed_frame`, and the session still works.
    @Test func everyPrefixOfEveryFrameInASessionIsAMalformedFrame() throws {
        var (wire, _) = try Self.exchange()
        let relay = EngineWire.address(1), client = EngineWire.address(9, port: 5000)
        let engine = try #require(wire.relays[relay])
        let peer = LinkPeer(id: engine.relayID, address: relay, linkKey: engine.configuration.linkKey.publicKey)
        let key = SigningPrivateKey(using: &wire.rng)
        let frames: [LinkFrame] = [
            .sphinx(try RelayEngineTests.packet(for: engine, command: .deliver(to: Bytes32.zero), rng: &wire.rng)),
            .fetchChallengeRequest(mailbox: key.publicKey.id.rawValue),
            .fetchRequest(mailboxKey: key.publicKey, nonce: .zero, ackThrough: 1, signature: key.sign([1]), subscribe: true,
                          queueOps: [.add(.zero), .close(.zero), .clear]),
            .padding,
        ]
        var sent = 0
        for frame in frames {
            let bytes = frame.encoded()
            for length in stride(from: 0, to: bytes.count, by: 1) {
                let before = wire.relays[relay]!.counters.relayDrops[.malformedFrame, default: 0]
                var out: [Datagram] = []
                #expect(wire.clients[client]!.send(Array(bytes.prefix(length)), to: peer, now: wire.now, rng: &wire.rng, out: &out) == .sent)
                wire.inFlight += out.map { (client, $0) }
                wire.run()
                sent += 1
                #expect(wire.relays[relay]!.counters.relayDrops[.malformedFrame, default: 0] == before + 1, "\(frame) cut to \(length)")
            }
        }
        #expect(sent > 4_000)
        wire.received[client] = []
        wire.send(.fetchChallengeRequest(mailbox: key.publicKey.id.rawValue), from: client, to: relay)
        #expect(wire.received[client]?.count == 1, "the session still answers")
    }
}
