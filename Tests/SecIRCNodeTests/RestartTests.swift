import SecIRCCore
import SecIRCCrypto
import SecIRCNode
import SecIRCTransport
import Testing

/// The onion key ring's file format: round trip, and every corruption a clear error.
@Suite struct OnionKeyRingFileTests {
    static func ring(rotated: Bool) -> OnionKeyRing {
        var rng = SeededRandom(seed: "ring file")
        var ring = OnionKeyRing(period: .seconds(3_600), grace: .seconds(60), now: UnixTime(seconds: 1_800_000_000), rng: &rng)
        if rotated { _ = ring.rotate(now: UnixTime(seconds: 1_800_000_100), rng: &rng) }
        return ring
    }

    @Test(arguments: [false, true]) func roundTrip(rotated: Bool) throws {
        let ring = Self.ring(rotated: rotated)
        let decoded = try OnionKeyRing.decode(OnionKeyRing.encode(ring.saved))
        let restored = OnionKeyRing(restoring: decoded, period: ring.period, grace: ring.grace)
        #expect(restored.acceptedKeys.map(\.epoch) == ring.acceptedKeys.map(\.epoch))
        #expect(restored.acceptedKeys.map(\.publicKey) == ring.acceptedKeys.map(\.publicKey))
        #expect(restored.rotatedAt == ring.rotatedAt && restored.previousUntil == ring.previousUntil)
        #expect(restored.descriptorEntries == ring.descriptorEntries)
        #expect(restored.nextChange == ring.nextChange)
        #expect((ring.previous != nil) == rotated)
    }

    @Test func corruptFilesAreRefusedWithAReason() throws {
        let good = OnionKeyRing.encode(Self.ring(rotated: true).saved).unsafeCopy()
        func decode(_ bytes: [UInt8]) throws(DecodeError) -> OnionKeyRing.Saved { try OnionKeyRing.decode(SecureBytes(bytes)) }
        #expect(throws: DecodeError.incomplete(deficit: 8)) { try decode(Array(good.dropLast(8))) }
        #expect(throws: DecodeError.trailingBytes(count: 1)) { try decode(good + [0]) }
        var magic = good
        magic[0] ^= 1
        #expect(throws: DecodeError.invalidValue("not a secIRC onion key file (v1)")) { try decode(magic) }
        var flags = good
        flags[21 + 8] = 7
        #expect(throws: DecodeError.invalidValue("flags 7")) { try decode(flags) }
        var epoch = good
        epoch[21 + 9 + 3] ^= 0x10 // the current key's epoch no longer precedes the next one's
        #expect(throws: DecodeError.self) { try decode(epoch) }
        #expect(throws: DecodeError.self) { try decode([]) }
        var rng = SeededRandom(seed: "garbage")
        for length in [0, 1, 20, 50, 97, 133, 200] { _ = try? decode(rng.bytes(length)) } // never traps
    }
}

/// A relay restarted with what it saved: the same onion keys, and a first ring that continues
/// its serial and chain.
@Suite struct RelayRestartTests {
    /// The last event of a kind the wire saw.
    static func lastSavedKeys(_ events: [RelayEngine.Event]) -> OnionKeyRing.Saved? {
        events.reversed().lazy.compactMap { if case let .saveOnionKeys(saved) = $0 { saved } else { nil } }.first
    }

    static func lastSavedDirectory(_ events: [RelayEngine.Event]) -> SignedDocument? {
        events.reversed().lazy.compactMap { if case let .saveDirectory(document) = $0 { document } else { nil } }.first
    }

    /// Restarts the relay at `address` from `keys` and `directory` (nil: as before files).
    static func restart(_ wire: inout EngineWire, _ address: SocketAddress, configuration: RelayEngine.Configuration,
                        keys: OnionKeyRing.Saved?, directory: SignedDocument?, tags: [UInt32: [ReplayFilter.Tag]] = [:]) throws {
        var engine = RelayEngine(configuration: configuration, savedKeys: keys, savedTags: tags, now: wire.now, rng: &wire.rng)
        if let directory { try engine.restore(signedDirectory: directory, now: wire.now) }
        var effects = NodeEffects<RelayEngine.Event>()
        engine.start(now: wire.now, rng: &wire.rng, effects: &effects)
        wire.relays[address] = engine
        wire.take(effects, from: address)
        for client in wire.clients.keys { wire.clients[client] = LinkManager(configuration: .client, now: wire.now, rng: &wire.rng) }
    }

    @Test func packetsBuiltAgainstTheSavedKeysPeelAfterARestart() throws {
        var wire = EngineWire()
        let configuration = wire.addRelay(1)
        let relay = EngineWire.address(1)
        let client = wire.addClient(9)
        wire.advance(by: .seconds(1))
        #expect(wire.command(.rotateKeys, at: relay) == .done) // a previous key in its grace window too
        let saved = try #require(Self.lastSavedKeys(wire.events))
        let engine = wire.relays[relay]!
        let packets = try engine.onionKeyEntries.map { entry in
            try RelayEngineTests.packet(for: engine, command: .deliver(to: Bytes32 { wire.rng.fill($0) }), epoch: entry.epoch,
                                        rng: &wire.rng)
        }
        let previous = try SphinxPacketBuilder().build(
            path: [SphinxHop(onionKey: try #require(saved.previous).key.publicKey, epoch: saved.previous!.key.epoch,
                             command: .deliver(to: Bytes32 { wire.rng.fill($0) }))], body: [4], using: &wire.rng)

        wire.advance(by: .seconds(5))
        try Self.restart(&wire, relay, configuration: configuration, keys: saved, directory: nil)
        for packet in packets + [previous] { wire.send(.sphinx(packet), from: client, to: relay) }
        #expect(wire.relays[relay]!.counters.delivered == 3)
        #expect(wire.relays[relay]!.counters.sphinxRejects[.unknownEpoch] == nil)
        #expect(wire.relays[relay]!.onionKeyEntries == engine.onionKeyEntries, "the same keys are published again")

        // Without the saved keys (as before): every one is an unknown epoch.
        try Self.restart(&wire, relay, configuration: configuration, keys: nil, directory: nil)
        for packet in packets { wire.send(.sphinx(packet), from: client, to: relay) }
        #expect(wire.relays[relay]!.counters.sphinxRejects[.unknownEpoch] == 2)
    }

    /// The replay tags the relay saved (one event per turn that recorded any) come back with
    /// its keys: a packet peeled before the restart is a replay after it; without them it would
    /// peel twice.
    @Test func aPacketPeeledBeforeARestartIsAReplayAfterIt() throws {
        var wire = EngineWire()
        let configuration = wire.addRelay(1) { $0.savesReplayTags = true }
        let relay = EngineWire.address(1)
        let client = wire.addClient(9)
        let packet = try RelayEngineTests.packet(for: wire.relays[relay]!, command: .drop, rng: &wire.rng)
        wire.send(.sphinx(packet), from: client, to: relay)
        #expect(wire.relays[relay]!.counters.coverDropped == 1)
        let saved = try #require(Self.lastSavedKeys(wire.events))
        var tags: [UInt32: [ReplayFilter.Tag]] = [:]
        for case let .saveReplayTags(records) in wire.events {
            for record in records { tags[record.epoch, default: []].append(record.tag) }
        }
        #expect(tags.values.map(\.count).reduce(0, +) == 1)

        try Self.restart(&wire, relay, configuration: configuration, keys: saved, directory: nil, tags: tags)
        wire.send(.sphinx(packet), from: client, to: relay)
        #expect(wire.relays[relay]!.counters.sphinxRejects[.replay] == 1)
        #expect(wire.relays[relay]!.counters.coverDropped == 0)

        try Self.restart(&wire, relay, configuration: configuration, keys: saved, directory: nil)
        wire.send(.sphinx(packet), from: client, to: relay)
        #expect(wire.relays[relay]!.counters.coverDropped == 1, "without the tags the same packet peels again")
    }

    @Test func aRestartedFirstRingContinuesItsSerialAndChain() throws {
        var wire = EngineWire()
        let ringConfiguration = wire.addRelay(1)
        let ring = EngineWire.address(1)
        _ = wire.addRelay(2, firstRing: ringConfiguration)
        wire.advance(by: .seconds(3))
        let before = try #require(wire.relays[EngineWire.address(2)]!.directory)
        #expect(before.descriptors.count == 2)
        let saved = try #require(Self.lastSavedDirectory(wire.events))
        #expect(saved.bodyHash == before.document.bodyHash, "what is served was saved first")

        try Self.restart(&wire, ring, configuration: ringConfiguration, keys: Self.lastSavedKeys(wire.events), directory: saved)
        #expect(wire.relays[ring]!.latestSigned?.serial ?? 0 >= before.directory.serial)
        wire.advance(by: .seconds(31)) // the member's next refresh
        let after = try #require(wire.relays[EngineWire.address(2)]!.directory)
        #expect(after.directory.serial > before.directory.serial)
        try after.directory.checkFollows(before.directory, document: before.document)
        #expect(after.descriptors.count == 2, "the member is still listed: the ring kept what it had signed")
        #expect(wire.relays[EngineWire.address(2)]!.counters.directoryRefusals == 0)

        // A ring restarted without its file starts again at 1: a relay holding the chain refuses it.
        try Self.restart(&wire, ring, configuration: ringConfiguration, keys: nil, directory: nil)
        wire.advance(by: .seconds(31))
        #expect(wire.relays[EngineWire.address(2)]!.directory?.directory.serial == after.directory.serial)
        #expect(wire.relays[EngineWire.address(2)]!.counters.directoryRefusals > 0)
    }

    /// A client applies the chain rule too: a ring restarted without its saved directory signs
    /// serial 1 again, and the client keeps the chain it holds, counting the break, until that
    /// directory expires; then it takes the new chain.
    @Test func aClientRefusesABrokenChainUntilItsDirectoryExpires() throws {
        var wire = EngineWire()
        let ringConfiguration = wire.addRelay(1)
        let ring = EngineWire.address(1)
        wire.advance(by: .seconds(1))
        let client = try wire.addClientEngine(11, roster: ringConfiguration.roster, sources: ["http://10.0.0.1:6691"])
        wire.advance(by: .seconds(2))
        let held = try #require(wire.clientEngines[client]!.status.directory)
        try Self.restart(&wire, ring, configuration: ringConfiguration, keys: nil, directory: nil)
        // New keys sign new directories: past the held serial, on a chain of its own.
        for _ in 0..<4 { _ = wire.command(.rotateKeys, at: ring); wire.advance(by: .seconds(1)) }
        #expect(try #require(wire.relays[ring]!.latestSigned).serial > held.serial)
        wire.advance(by: .seconds(60))
        #expect(wire.clientEngines[client]!.status.directory == held, "the held chain stays while valid")
        #expect((wire.clientEngines[client]!.status.dropped["directory_chain_broken"] ?? 0) >= 1)
        wire.advance(by: .seconds(Int(held.validUntil) - Int(wire.now.seconds) + 31))
        #expect(try #require(wire.clientEngines[client]!.status.directory).serial != held.serial, "taken once the held one expired")
    }

    @Test func aDirectoryFromAnotherRosterIsNotRestored() throws {
        var wire = EngineWire()
        _ = wire.addRelay(1)
        wire.advance(by: .seconds(1))
        let foreign = try #require(Self.lastSavedDirectory(wire.events))
        var other = EngineWire()
        other.rng = SeededRandom(seed: "other")
        let configuration = other.addRelay(1)
        var engine = RelayEngine(configuration: configuration, now: other.now, rng: &other.rng)
        #expect(throws: DirectoryError.self) { try engine.restore(signedDirectory: foreign, now: other.now) }
    }
}

/// The chain rule on install: a new directory must continue the held one while that is valid.
@Suite struct DirectoryChainTests {
    struct Ring {
        var rng = SeededRandom(seed: "chain")
        let key: SigningPrivateKey
        let roster: Roster
        var authority: DirectoryAuthority
        var now = UnixTime(seconds: 1_800_000_000)

        init() {
            key = SigningPrivateKey(using: &rng)
            roster = Roster(members: [Roster.Member(identityKey: key.publicKey, udp: "127.0.0.1:1", http: "http://127.0.0.1:2")])
            authority = Self.fresh(key, roster)
        }

        static func fresh(_ key: SigningPrivateKey, _ roster: Roster) -> DirectoryAuthority {
            DirectoryAuthority(identity: key, roster: roster, network: NetworkParameters(coverRate: 1, meanDelayMs: 5), period: .seconds(60))
        }

        mutating func sign() -> SignedDocument {
            now = now.adding(.seconds(1))
            return authority.sign(now: now).document
        }
    }

    @Test func skippedDirectoriesAreFollowedThroughEarlierHashes() throws {
        var ring = Ring()
        var tracker = DirectoryTracker(roster: ring.roster, sources: [])
        let first = ring.sign()
        try tracker.install(first, now: ring.now)
        var latest = first
        for _ in 0..<10 { latest = ring.sign() }
        #expect(try tracker.install(latest, now: ring.now))
        #expect(tracker.held?.directory.serial == 11)
        let directory = try #require(tracker.held?.directory)
        #expect(directory.earlier?.count == 9 && directory.linkedHash(serial: 1) == first.bodyHash)
    }

    /// While the held directory is valid, an earlier one (a replayed, properly signed old
    /// directory) is refused as older, and the held one stays.
    @Test func anOlderDirectoryIsRefusedAsOlderWhileTheHeldOneIsValid() throws {
        var ring = Ring()
        var tracker = DirectoryTracker(roster: ring.roster, sources: [])
        let first = ring.sign(), second = ring.sign()
        try tracker.install(first, now: ring.now)
        try tracker.install(second, now: ring.now)
        #expect(throws: DirectoryTracker.Refusal.older(serial: 1)) { try tracker.install(first, now: ring.now) }
        #expect(tracker.held?.directory.serial == 2)
    }

    @Test func aForkIsRefusedUntilTheHeldDirectoryExpires() throws {
        var ring = Ring()
        var tracker = DirectoryTracker(roster: ring.roster, sources: [])
        for _ in 0..<3 { try tracker.install(ring.sign(), now: ring.now) }
        // The same key, its state lost: a second chain whose serial overtakes the held one.
        ring.authority = Ring.fresh(ring.key, ring.roster)
        var fork = ring.sign()
        for _ in 0..<4 { fork = ring.sign() }
        #expect(throws: DirectoryTracker.Refusal.brokenChain(serial: 5, reason: "previous hash differs")) {
            try tracker.install(fork, now: ring.now)
        }
        #expect(tracker.held?.directory.serial == 3)
        // Once the held directory has expired, any valid directory is taken.
        let expiry = UnixTime(seconds: try #require(tracker.held).directory.validUntil)
        #expect(try tracker.install(fork, now: expiry))
    }

    @Test func moreThanSixtyFourDirectoriesLaterCannotBeFollowed() throws {
        var ring = Ring()
        var tracker = DirectoryTracker(roster: ring.roster, sources: [])
        try tracker.install(ring.sign(), now: ring.now)
        var latest = ring.sign()
        for _ in 0..<64 { latest = ring.sign() } // serial 66: names hashes back to serial 2
        #expect(throws: DirectoryTracker.Refusal.self) { try tracker.install(latest, now: ring.now) }
    }

    @Test func aFetchedForkIsCountedByTheClient() throws {
        var ring = Ring()
        var tracker = DirectoryTracker(roster: ring.roster, sources: ["http://127.0.0.1:2"])
        try tracker.install(ring.sign(), now: ring.now)
        ring.authority = Ring.fresh(ring.key, ring.roster)
        var fork = ring.sign()
        fork = ring.sign()
        let due = tracker.fetchIfDue(now: ring.now.adding(.seconds(60)), id: 7)
        let request = try #require(due)
        #expect(request.headers["If-None-Match"] == tracker.held?.etag)
        let outcome = tracker.received(FetchResponse(id: 7, status: 200, body: fork.jsonBytes()), now: ring.now)
        guard case .refused(.brokenChain) = outcome else {
            Issue.record("a fork was not refused: \(outcome)")
            return
        }
    }
}

/// Descriptors carry numeric addresses only: nothing on a loop asks a resolver.
@Suite struct NumericAddressTests {
    @Test func theFirstRingRefusesAHostName() throws {
        var rng = SeededRandom(seed: "names")
        var authority = DirectoryChainTests.Ring().authority
        let relayKey = SigningPrivateKey(using: &rng)
        func descriptor(udp: String) throws -> SignedDocument {
            try RelayDescriptor(
                identityKey: relayKey.publicKey, linkKey: AgreementPrivateKey(using: &rng).publicKey, udp: udp, http: "http://127.0.0.1:4",
                onionKeys: [.init(epoch: 1, key: AgreementPrivateKey(using: &rng).publicKey, validAfter: 10_000, validUntil: 20_000)],
                capacity: 1, flags: [], published: 10_000).signed(by: relayKey)
        }
        let now = UnixTime(seconds: 10_000)
        for name in ["localhost:6690", "relay.example:6690", "attacker-chosen.invalid:1"] {
            #expect(throws: DirectoryAuthority.UploadError.self) { try authority.accept(descriptor(udp: name), now: now) }
        }
        #expect(authority.relayCount == 0)
        #expect(try authority.accept(descriptor(udp: "[::1]:6690"), now: now).change == .challenged)
    }
}
