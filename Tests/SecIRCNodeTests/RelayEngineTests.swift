import SecIRCCore
import SecIRCCrypto
import SecIRCNode
import SecIRCTransport
import Testing

/// The relay engine on a manual clock: datagrams in, effects out, no socket, no thread, no sleep.
@Suite struct RelayEngineTests {
    /// A one-hop packet for `relay` delivering `body` to `mailbox`, or forwarding with `delay`.
    static func packet(for relay: RelayEngine, command: RoutingCommand, body: [UInt8] = [1, 2, 3], epoch: UInt32? = nil,
                       rng: inout SeededRandom) throws -> [UInt8] {
        let key = try #require(epoch.map { e in relay.onionKeyEntries.first { $0.epoch == e } } ?? relay.onionKeyEntries.first)
        return try SphinxPacketBuilder().build(path: [SphinxHop(onionKey: key.key, epoch: key.epoch, command: command)],
                                               body: body, using: &rng)
    }

    @Test func deliveredMailIsFetchedWithTheMailboxKeyAndDeletedOnceAcknowledged() throws {
        var wire = EngineWire()
        _ = wire.addRelay(1)
        let relay = EngineWire.address(1)
        let client = wire.addClient(9)
        let mailboxKey = SigningPrivateKey(using: &wire.rng)
        let mailbox = mailboxKey.publicKey.id.rawValue
        wire.send(.sphinx(try Self.packet(for: wire.relays[relay]!, command: .deliver(to: mailbox), body: Array("hello".utf8),
                                          rng: &wire.rng)), from: client, to: relay)
        #expect(wire.relays[relay]!.counters.delivered == 1)
        #expect(wire.relays[relay]!.counters.unclaimedDeposits == 1, "held until the owner's first fetch claims it")

        func fetch(ackThrough: UInt64, signWith key: SigningPrivateKey = mailboxKey) -> [LinkFrame] {
            wire.received[client] = []
            wire.send(.fetchChallengeRequest(mailbox: mailbox), from: client, to: relay)
            guard case let .fetchChallenge(_, nonce)? = wire.received[client]?.last else { return [] }
            let id = wire.relays[relay]!.relayID.rawValue
            let signature = key.sign(LinkFrame.fetchSignedBytes(relay: id, nonce: nonce, ackThrough: ackThrough))
            wire.received[client] = []
            wire.send(.fetchRequest(mailboxKey: mailboxKey.publicKey, nonce: nonce, ackThrough: ackThrough, signature: signature),
                      from: client, to: relay)
            return wire.received[client] ?? []
        }
        let forged = fetch(ackThrough: 0, signWith: SigningPrivateKey(using: &wire.rng))
        #expect(forged == [.fetchDone(mailbox: mailbox, status: .denied, remaining: 0, sent: 0)])
        let first = fetch(ackThrough: 0)
        guard case let .mailboxMessage(_, sequence, 0, body)? = first.first else {
            Issue.record("no mail: \(first)")
            return
        }
        #expect(Array(body.prefix(5)) == Array("hello".utf8))
        #expect(first.last == .fetchDone(mailbox: mailbox, status: .ok, remaining: 0, sent: 1))
        // Not acknowledged: fetched again; acknowledged: deleted.
        #expect(fetch(ackThrough: 0).count == 2)
        #expect(fetch(ackThrough: sequence) == [.fetchDone(mailbox: mailbox, status: .ok, remaining: 0, sent: 0)])
        #expect(wire.relays[relay]!.counters.mailboxMessages == 0)
        #expect(wire.relays[relay]!.counters.relayDrops[.fetchDenied] == 1)
    }

    /// A fetch gets mail only with the mailbox key's signature over a nonce the relay issued for
    /// that mailbox on that session, once. Each refused fetch below asks to acknowledge
    /// everything: it must return nothing and delete nothing.
    @Test func wrongSignatureStaleNonceAndForeignMailboxFetchesGetNothingAndDeleteNothing() throws {
        var wire = EngineWire()
        _ = wire.addRelay(1)
        let relay = EngineWire.address(1)
        let owner = wire.addClient(9), stranger = wire.addClient(66)
        let mailboxKey = SigningPrivateKey(using: &wire.rng), strangerKey = SigningPrivateKey(using: &wire.rng)
        let mailbox = mailboxKey.publicKey.id.rawValue
        for body in ["one", "two"] {
            wire.send(.sphinx(try Self.packet(for: wire.relays[relay]!, command: .deliver(to: mailbox), body: Array(body.utf8),
                                              rng: &wire.rng)), from: owner, to: relay)
        }
        let relayID = wire.relays[relay]!.relayID.rawValue
        func nonce(for asked: Bytes32, from client: SocketAddress) -> Bytes32? {
            wire.received[client] = []
            wire.send(.fetchChallengeRequest(mailbox: asked), from: client, to: relay)
            guard case let .fetchChallenge(_, nonce)? = wire.received[client]?.last else { return nil }
            return nonce
        }
        func fetch(_ nonce: Bytes32, ackThrough: UInt64, signer: SigningPrivateKey = mailboxKey, from client: SocketAddress) -> [LinkFrame] {
            let signature = signer.sign(LinkFrame.fetchSignedBytes(relay: relayID, nonce: nonce, ackThrough: ackThrough))
            wire.received[client] = []
            wire.send(.fetchRequest(mailboxKey: mailboxKey.publicKey, nonce: nonce, ackThrough: ackThrough, signature: signature),
                      from: client, to: relay)
            return wire.received[client] ?? []
        }
        func held() -> Int { wire.relays[relay]!.counters.mailboxMessages }

        // The owner's first fetch claims the mailbox and returns both; nothing acknowledged yet.
        let first = fetch(try #require(nonce(for: mailbox, from: owner)), ackThrough: 0, from: owner)
        #expect(first.count == 3)
        #expect(held() == 2)

        // A stranger who knows the mailbox key (public) but signs with another key.
        let forged = fetch(try #require(nonce(for: mailbox, from: stranger)), ackThrough: .max, signer: strangerKey, from: stranger)
        #expect(forged == [.fetchDone(mailbox: mailbox, status: .denied, remaining: 0, sent: 0)])
        #expect(held() == 2)

        // A nonce the relay never issued, while it holds a real one for this mailbox and session.
        let issued = try #require(nonce(for: mailbox, from: owner))
        let madeUp = Bytes32 { wire.rng.fill($0) }
        #expect(madeUp != issued)
        #expect(fetch(madeUp, ackThrough: .max, from: owner) == [.fetchDone(mailbox: mailbox, status: .staleNonce, remaining: 0, sent: 0)])
        #expect(held() == 2)

        // A nonce already spent, even under the owner's signature (a replayed request).
        let spent = try #require(nonce(for: mailbox, from: owner))
        #expect(fetch(spent, ackThrough: 0, from: owner).count == 3)
        #expect(fetch(spent, ackThrough: .max, from: owner) == [.fetchDone(mailbox: mailbox, status: .staleNonce, remaining: 0, sent: 0)])
        #expect(held() == 2)

        // A nonce the relay issued for another mailbox, or to another session.
        let foreign = try #require(nonce(for: strangerKey.publicKey.id.rawValue, from: owner))
        #expect(fetch(foreign, ackThrough: .max, from: owner) == [.fetchDone(mailbox: mailbox, status: .staleNonce, remaining: 0, sent: 0)])
        let othersSession = try #require(nonce(for: mailbox, from: stranger))
        #expect(fetch(othersSession, ackThrough: .max, from: owner)
            == [.fetchDone(mailbox: mailbox, status: .staleNonce, remaining: 0, sent: 0)])
        #expect(held() == 2)
        #expect(wire.relays[relay]!.counters.relayDrops[.fetchDenied] == 5)

        // The owner, properly: both again, then acknowledged and gone.
        let last = try #require(first.dropLast().compactMap { frame -> UInt64? in
            if case let .mailboxMessage(_, sequence, _, _) = frame { sequence } else { nil }
        }.max())
        _ = fetch(try #require(nonce(for: mailbox, from: owner)), ackThrough: last, from: owner)
        #expect(held() == 0)
    }

    /// The network's mean delay here is 10 ms: 20 means is below the 1 s floor, so 1 s is the
    /// longest delay accepted.
    @Test func packetsAskingForTooLongADelayAreDroppedAndCounted() throws {
        var wire = EngineWire()
        _ = wire.addRelay(1)
        let relay = EngineWire.address(1)
        let client = wire.addClient(9)
        let next = Bytes32 { wire.rng.fill($0) }
        wire.send(.sphinx(try Self.packet(for: wire.relays[relay]!, command: .forward(to: next, delayMilliseconds: 1_001, nextEpoch: 0),
                                          rng: &wire.rng)), from: client, to: relay)
        #expect(wire.relays[relay]!.counters.relayDrops[.delayTooLong] == 1)
        #expect(wire.relays[relay]!.counters.delayQueue == 0)
    }

    /// A packet that is to wait out a delay must name a relay this one can reach (checked before
    /// it waits), and one host's delayed packets take at most half the queue: another host's
    /// still wait their turn and leave on time.
    @Test func delayedPacketsNeedAReachableNextHopAndShareTheQueuePerLink() throws {
        var wire = EngineWire()
        let ring = wire.addRelay(1) { $0.delayQueueCapacity = 16 }
        _ = wire.addRelay(2, firstRing: ring)
        wire.advance(by: .seconds(5))
        let one = EngineWire.address(1)
        let next = wire.relays[EngineWire.address(2)]!.relayID.rawValue
        let attacker = wire.addClient(66), alice = wire.addClient(9)
        func delayed(to relay: Bytes32) throws -> LinkFrame {
            .sphinx(try Self.packet(for: wire.relays[one]!, command: .forward(to: relay, delayMilliseconds: 1_000, nextEpoch: 0),
                                    rng: &wire.rng))
        }
        wire.send(try delayed(to: Bytes32 { wire.rng.fill($0) }), from: attacker, to: one)
        #expect(wire.relays[one]!.counters.relayDrops[.noRoute] == 1)
        #expect(wire.relays[one]!.counters.delayQueue == 0)

        for _ in 0..<20 { wire.send(try delayed(to: next), from: attacker, to: one) }
        #expect(wire.relays[one]!.counters.delayQueue == 8, "one link alone fills half")
        #expect(wire.relays[one]!.counters.relayDrops[.delayShare] == 12)
        for _ in 0..<4 { wire.send(try delayed(to: next), from: alice, to: one) }
        #expect(wire.relays[one]!.counters.delayQueue == 12, "another host's packets all wait")
        #expect(wire.relays[one]!.counters.relayDrops[.delayShare] == 12)
        wire.advance(by: .seconds(1))
        #expect(wire.relays[one]!.counters.delayQueue == 0)
        #expect(wire.relays[one]!.counters.forwarded == 12)
    }

    /// Whoever pushes many packets of their own through a relay cannot make it forget a tag:
    /// the key rotates early as its replay filter fills, and a recorded packet replayed after the
    /// flood is refused (a replay under the previous key, or unknown once that key is retired).
    @Test func aReplayAfterAFloodOfOwnPacketsIsRefused() throws {
        var wire = EngineWire()
        _ = wire.addRelay(1) { $0.replayCapacity = 64 }
        let relay = EngineWire.address(1)
        let attacker = wire.addClient(66)
        func own() throws -> LinkFrame {
            .sphinx(try Self.packet(for: wire.relays[relay]!, command: .drop, rng: &wire.rng))
        }
        let recorded = try own()
        wire.send(recorded, from: attacker, to: relay)
        for _ in 0..<40 { wire.send(try own(), from: attacker, to: relay) }
        #expect(wire.relays[relay]!.counters.earlyRotations == 1, "rotated at half of 64 tags")
        wire.send(recorded, from: attacker, to: relay)
        #expect(wire.relays[relay]!.counters.sphinxRejects[.replay] == 1, "the previous key's filter still knows it")

        for _ in 0..<200 { wire.send(try own(), from: attacker, to: relay) }
        wire.send(recorded, from: attacker, to: relay)
        let c = wire.relays[relay]!.counters
        #expect(c.coverDropped == 241)
        #expect(c.sphinxRejects[.replay, default: 0] + c.sphinxRejects[.unknownEpoch, default: 0] == 2)
        #expect(c.sphinxRejects[.replayFilterFull] == nil, "the filter never fills")
        #expect(c.earlyRotations >= 5)
    }

    /// A first ring and two relays that join through it: uploads, signing, fetching, peers.
    static func mesh() -> EngineWire {
        var wire = EngineWire()
        let ring = wire.addRelay(1)
        _ = wire.addRelay(2, firstRing: ring)
        _ = wire.addRelay(3, firstRing: ring)
        wire.advance(by: .seconds(5))
        return wire
    }

    @Test func relaysJoinThroughTheFirstRingAndLinkOnDemand() throws {
        var wire = Self.mesh()
        for address in (1...3).map({ EngineWire.address($0) }) {
            #expect(wire.relays[address]!.directory?.descriptors.count == 3, "relay \(address) holds the whole directory")
        }
        #expect(wire.relays[EngineWire.address(1)]!.isFirstRing)
        #expect(!wire.relays[EngineWire.address(2)]!.isFirstRing)

        // A packet through 1 → 2 with a 250 ms mixing delay at 1, delivered at 2.
        let client = wire.addClient(9)
        let one = wire.relays[EngineWire.address(1)]!, two = wire.relays[EngineWire.address(2)]!
        let k1 = try #require(one.onionKeyEntries.first), k2 = try #require(two.onionKeyEntries.first)
        let packet = try SphinxPacketBuilder().build(path: [
            SphinxHop(onionKey: k1.key, epoch: k1.epoch, command: .forward(to: two.relayID.rawValue, delayMilliseconds: 250, nextEpoch: 0)),
            SphinxHop(onionKey: k2.key, epoch: k2.epoch, command: .deliver(to: Bytes32 { wire.rng.fill($0) })),
        ], body: [7], using: &wire.rng)
        wire.send(.sphinx(packet), from: client, to: EngineWire.address(1))
        #expect(wire.relays[EngineWire.address(1)]!.counters.delayQueue == 1)
        #expect(wire.relays[EngineWire.address(1)]!.nextDeadline! <= wire.now.adding(.milliseconds(250)))
        wire.advance(by: .milliseconds(249))
        #expect(wire.relays[EngineWire.address(2)]!.counters.delivered == 0)
        wire.advance(by: .milliseconds(1))
        #expect(wire.relays[EngineWire.address(2)]!.counters.delivered == 1)
        #expect(wire.relays[EngineWire.address(1)]!.counters.forwarded == 1)
        // 1 linked to 2 and 3 when it challenged them on their uploads (nothing else links).
        #expect(wire.relays[EngineWire.address(1)]!.counters.connectedPeers == 2)
    }

    @Test func aRelaysNewKeysReachTheDirectoryWithoutWaitingForThePeriod() throws {
        var wire = Self.mesh()
        let two = EngineWire.address(2)
        _ = wire.command(.rotateKeys, at: two)
        // The first ring signs at once; relays refresh within half a period (30 s at most).
        wire.advance(by: .seconds(1))
        let signed = wire.relays[EngineWire.address(1)]!.directory?.descriptors.first { $0.id == wire.relays[two]!.relayID }
        #expect(signed?.onionKeys.map(\.epoch) == wire.relays[two]!.onionKeyEntries.map(\.epoch))
        wire.advance(by: .seconds(30))
        let current = wire.relays[two]!.onionKeyEntries.map(\.epoch)
        for address in (1...3).map({ EngineWire.address($0) }) {
            let listed = wire.relays[address]!.directory?.descriptors.first { $0.id == wire.relays[two]!.relayID }
            #expect(listed?.onionKeys.map(\.epoch) == current, "relay \(address) has relay 2's rotated keys")
        }
    }

    /// An operator's peer (POST /v1/admin/peers) that is in no directory is linked on demand.
    @Test func operatorAddedPeerIsLinkedAndReached() throws {
        var wire = EngineWire()
        _ = wire.addRelay(1)
        let peerConfiguration = wire.addRelay(2)
        let one = EngineWire.address(1), two = EngineWire.address(2)
        #expect(wire.command(.addPeer(LinkPeer(id: peerConfiguration.relayID, address: two,
                                               linkKey: peerConfiguration.linkKey.publicKey)), at: one) == .done)
        let client = wire.addClient(9)
        let mailbox = Bytes32 { wire.rng.fill($0) }
        let k1 = try #require(wire.relays[one]!.onionKeyEntries.first), k2 = try #require(wire.relays[two]!.onionKeyEntries.first)
        let packet = try SphinxPacketBuilder().build(path: [
            SphinxHop(onionKey: k1.key, epoch: k1.epoch, command: .forward(to: peerConfiguration.relayID.rawValue, delayMilliseconds: 0, nextEpoch: 0)),
            SphinxHop(onionKey: k2.key, epoch: k2.epoch, command: .deliver(to: mailbox)),
        ], body: [7], using: &wire.rng)
        wire.send(.sphinx(packet), from: client, to: one)
        #expect(wire.relays[two]!.counters.delivered == 1)
        #expect(wire.relays[one]!.counters.handshakes >= 2, "the client's link and the IK link to the peer")
        #expect(wire.command(.removePeer(peerConfiguration.relayID), at: one) == .done)
        let again = try SphinxPacketBuilder().build(path: [
            SphinxHop(onionKey: k1.key, epoch: k1.epoch, command: .forward(to: peerConfiguration.relayID.rawValue, delayMilliseconds: 0, nextEpoch: 0)),
            SphinxHop(onionKey: k2.key, epoch: k2.epoch, command: .deliver(to: mailbox)),
        ], body: [8], using: &wire.rng)
        wire.send(.sphinx(again), from: client, to: one)
        #expect(wire.relays[one]!.counters.relayDrops[.noRoute] == 1)
    }

    /// Frames for a relay that never answers wait for its handshake, which is sent again every
    /// 5 s, and are dropped (counted) after 30 s.
    @Test func framesForASilentPeerAreDroppedAfterTheGiveUp() throws {
        var wire = EngineWire()
        _ = wire.addRelay(1)
        let one = EngineWire.address(1), ghost = EngineWire.address(7)
        wire.silent.insert(ghost)
        var rng = SeededRandom(seed: "ghost")
        let ghostID = SigningPrivateKey(using: &rng).publicKey.id
        _ = wire.command(.addPeer(LinkPeer(id: ghostID, address: ghost, linkKey: AgreementPrivateKey(using: &rng).publicKey)), at: one)
        let client = wire.addClient(9)
        wire.send(.sphinx(try Self.packet(for: wire.relays[one]!, command: .forward(to: ghostID.rawValue, delayMilliseconds: 0, nextEpoch: 0),
                                          rng: &wire.rng)), from: client, to: one)
        #expect(wire.relays[one]!.isIdle == false)
        wire.advance(by: .seconds(29))
        #expect(wire.relays[one]!.counters.relayDrops[.handshakeTimeout] == nil)
        wire.advance(by: .seconds(1))
        #expect(wire.relays[one]!.counters.relayDrops[.handshakeTimeout] == 1)
        #expect(wire.relays[one]!.isIdle)
    }

    /// Past the handshake rate it treats as load, the relay answers initiations with a cookie
    /// reply (no X25519 work) until the initiator proves its address with mac2.
    @Test func underLoadInitiationsGetCookiesAndTheLinkStillComesUp() throws {
        var wire = EngineWire()
        _ = wire.addRelay(1) { $0.links.handshakesPerSecondUnderLoad = 0 }
        let relay = EngineWire.address(1)
        let client = wire.addClient(9)
        wire.send(.padding, from: client, to: relay)
        #expect(wire.relays[relay]!.counters.linkDrops[.needsCookie] == 1)
        #expect(wire.clients[client]!.linkedPeers.count == 1)
        #expect(wire.relays[relay]!.counters.handshakes == 1)
    }

    /// A packet built for the previous onion key still peels during the grace window after a
    /// rotation, and not after it.
    @Test func thePreviousOnionKeyServesForTheGraceWindow() throws {
        var wire = EngineWire()
        _ = wire.addRelay(1)
        let relay = EngineWire.address(1)
        let client = wire.addClient(9)
        let old = try #require(wire.relays[relay]!.onionKeyEntries.first).epoch
        let early = try Self.packet(for: wire.relays[relay]!, command: .deliver(to: Bytes32 { wire.rng.fill($0) }), rng: &wire.rng)
        let late = try Self.packet(for: wire.relays[relay]!, command: .deliver(to: Bytes32 { wire.rng.fill($0) }), rng: &wire.rng)
        #expect(wire.command(.rotateKeys, at: relay) == .done)
        #expect(wire.relays[relay]!.onionKeyEntries.first?.epoch == old &+ 1)
        wire.send(.sphinx(early), from: client, to: relay)
        #expect(wire.relays[relay]!.counters.delivered == 1)
        wire.advance(by: .seconds(61))
        wire.send(.sphinx(late), from: client, to: relay)
        #expect(wire.relays[relay]!.counters.delivered == 1)
        #expect(wire.relays[relay]!.counters.sphinxRejects[.unknownEpoch] == 1)
    }

    @Test func drainingRefusesPacketsAndNewLinks() throws {
        var wire = EngineWire()
        _ = wire.addRelay(1)
        let relay = EngineWire.address(1)
        let linked = wire.addClient(8)
        wire.send(.padding, from: linked, to: relay)
        #expect(wire.command(.drain, at: relay) == .done)
        wire.send(.sphinx(try Self.packet(for: wire.relays[relay]!, command: .deliver(to: Bytes32 { wire.rng.fill($0) }), rng: &wire.rng)),
                  from: linked, to: relay)
        let late = wire.addClient(9)
        wire.send(.padding, from: late, to: relay)
        #expect(wire.relays[relay]!.counters.relayDrops[.draining] == 2, "one packet, one initiation")
        #expect(wire.relays[relay]!.counters.delivered == 0)
        #expect(wire.clients[late]!.linkedPeers.isEmpty)
    }

    @Test func uploadsAreVerifiedAndOnlyTheFirstRingTakesThem() throws {
        var wire = EngineWire()
        let ring = wire.addRelay(1)
        let member = wire.addRelay(2, firstRing: ring)
        wire.advance(by: .seconds(2))
        let document = try #require(wire.relays[EngineWire.address(2)]!.descriptor)
        // Already taken through the member's own upload: the same content again is a refresh.
        #expect(wire.command(.acceptDescriptor(document), at: EngineWire.address(1)) == .accepted(id: member.relayID, change: .refreshed))
        var forged = document
        forged.body[forged.body.count / 2] ^= 1
        guard case .refused = wire.command(.acceptDescriptor(forged), at: EngineWire.address(1)) else {
            Issue.record("a forged descriptor was taken")
            return
        }
        #expect(wire.command(.acceptDescriptor(document), at: EngineWire.address(2)) == .notFirstRing)
    }

    /// A relay that fails its challenge — its handshake unanswered (datagrams lost), or, with the
    /// handshake passing, its HTTP `/healthz` answering 503 — is not listed (a failed
    /// challenge, not a deferred one), uploads again while it is not listed, and is listed once
    /// the next challenge passes both checks.
    @Test(arguments: [false, true]) func aRelayThatFailedItsChallengeIsListedOnceItPasses(healthOnly: Bool) throws {
        var wire = EngineWire()
        let ring = wire.addRelay(1)
        let candidate = EngineWire.address(2)
        if healthOnly { wire.unhealthy.insert(candidate) } else { wire.silent.insert(candidate) }
        let member = wire.addRelay(2, firstRing: ring)
        wire.advance(by: .seconds(31))
        let first = EngineWire.address(1)
        #expect(wire.relays[first]!.directory?.byID[member.relayID] == nil)
        #expect(wire.relays[first]!.counters.challengesFailed == 1 && wire.relays[first]!.counters.admissionsDeferred == 0)
        #expect(wire.relays[first]!.healthChecks.isEmpty, "every /healthz asked was answered and forgotten")
        wire.unhealthy.remove(candidate)
        wire.silent.remove(candidate)
        wire.advance(by: .seconds(10))
        #expect(wire.relays[first]!.directory?.byID[member.relayID] != nil, "uploaded again 40 s after the first, and passed")
        #expect(wire.relays[first]!.counters.relaysAdmitted == 1)
    }

    /// A relay's own cover stream (docs/PROTOCOL.md §8, "Relay cover"): at the directory's
    /// `relay_cover_rate` every listed relay sends loops through two others back to itself, which
    /// come back, and drop cover; at rate 0, nothing.
    @Test(arguments: [0.0, 2.0]) func relaysSendTheirOwnCoverAtTheDirectorysRate(rate: Double) throws {
        var wire = EngineWire()
        let ring = wire.addRelay(1) { $0.network.relayCoverRate = rate }
        _ = wire.addRelay(2, firstRing: ring)
        _ = wire.addRelay(3, firstRing: ring)
        wire.advance(by: .seconds(5))
        let addresses = (1...3).map { EngineWire.address(UInt8($0)) }
        #expect(addresses.allSatisfy { wire.relays[$0]!.directory?.descriptors.count == 3 }, "all three listed")
        let before = addresses.map { wire.relays[$0]!.counters.coverPackets }
        wire.advance(by: .seconds(100))
        for (address, earlier) in zip(addresses, before) {
            let counts = wire.relays[address]!.counters.coverPackets
            func sent(_ result: CoverResult) -> Int { counts[result, default: 0] - earlier[result, default: 0] }
            let total = sent(.loopSent) + sent(.dropSent)
            if rate == 0 {
                #expect(counts.isEmpty, "\(address): no cover at rate 0")
                continue
            }
            // Poisson, 2/s for 100 s: 200 expected (σ ≈ 14); loops and drops about half each.
            #expect((140...260).contains(total), "\(address): \(total) cover packets")
            #expect(sent(.loopSent) > total / 4 && sent(.dropSent) > total / 4, "\(address): \(counts)")
            // Every loop came back (a few may still be on their way); none was lost.
            #expect(counts[.loopLost, default: 0] == 0)
            #expect(sent(.loopReturned) >= sent(.loopSent) - 5, "\(address): \(counts)")
        }
    }

    /// The forwarding probe (docs/PROTOCOL.md §3.3): a relay that answers its handshake and
    /// `/healthz` but forwards no packet is not listed — the member's 8 probe packets through it
    /// are counted lost — and is listed once it forwards them.
    @Test func aRelayThatAnswersItsChallengeButForwardsNothingIsNotListed() throws {
        var wire = EngineWire()
        let ring = wire.addRelay(1)
        let candidate = EngineWire.address(2)
        wire.dropsTransport.insert(candidate)
        let member = wire.addRelay(2, firstRing: ring)
        wire.advance(by: .seconds(31))
        let first = EngineWire.address(1)
        var counters = wire.relays[first]!.counters
        #expect(wire.relays[first]!.directory?.byID[member.relayID] == nil)
        #expect(counters.challengesFailed == 1 && counters.admissionsDeferred == 0 && counters.relaysAdmitted == 0)
        #expect(counters.probePackets == [.sent: DirectoryAuthority.probePackets, .lost: DirectoryAuthority.probePackets])
        wire.dropsTransport.remove(candidate)
        wire.advance(by: .seconds(10))
        counters = wire.relays[first]!.counters
        #expect(wire.relays[first]!.directory?.byID[member.relayID] != nil, "uploaded again 40 s after the first, and forwarded")
        #expect(counters.relaysAdmitted == 1)
        #expect(counters.probePackets[.sent] == 2 * DirectoryAuthority.probePackets)
        #expect(counters.probePackets[.returned, default: 0] >= DirectoryAuthority.probeQuorum)
    }

    /// A relay is listed only once it answered a link handshake at the address it advertises,
    /// with the link key it publishes: uploads naming addresses where nobody holds the key (the
    /// flood of issue 11) are never listed, and what waits to be challenged is bounded.
    @Test func onlyRelaysThatAnswerTheHandshakeChallengeAreListed() throws {
        var wire = EngineWire()
        let ring = wire.addRelay(1)
        let member = wire.addRelay(2, firstRing: ring)
        wire.advance(by: .seconds(2))
        let first = EngineWire.address(1)
        #expect(wire.relays[first]!.directory?.byID[member.relayID] != nil, "the real relay answered and is listed")
        #expect(wire.relays[first]!.counters.relaysAdmitted == 1)

        // Another identity borrowing the listed relay's address and link key would pass the
        // handshake (the real relay answers it): refused, one relay per endpoint.
        let listed = try #require(wire.relays[first]!.directory?.byID[member.relayID])
        let squatter = SigningPrivateKey(using: &wire.rng)
        let borrowed = try RelayDescriptor(identityKey: squatter.publicKey, linkKey: listed.linkKey, udp: listed.udp, http: listed.http,
                                           onionKeys: listed.onionKeys, capacity: 1, flags: ["mailbox"],
                                           published: wire.now.seconds).signed(by: squatter)
        guard case .refused(.invalid) = wire.command(.acceptDescriptor(borrowed), at: first) else {
            Issue.record("a descriptor borrowing a listed relay's endpoint was taken")
            return
        }

        func fake(_ i: Int) throws -> SignedDocument {
            let key = SigningPrivateKey(using: &wire.rng)
            return try RelayDescriptor(identityKey: key.publicKey, linkKey: AgreementPrivateKey(using: &wire.rng).publicKey,
                                       udp: "10.9.\(i / 250).\(i % 250 + 1):6690", http: "http://10.9.0.1:6691",
                                       onionKeys: [.init(epoch: 1, key: AgreementPrivateKey(using: &wire.rng).publicKey, validAfter: 0,
                                                         validUntil: Int64.max)],
                                       capacity: 100_000, flags: ["mailbox"], published: wire.now.seconds).signed(by: key)
        }
        var challenged = 0, busy = 0
        for i in 0..<100 {
            switch wire.command(.acceptDescriptor(try fake(i)), at: first) {
            case .accepted(_, .challenged): challenged += 1
            case .refused(.busy): busy += 1
            default: Issue.record("upload \(i)")
            }
        }
        #expect(challenged == 64 && busy == 36, "bounded: \(challenged) challenged, \(busy) refused")
        wire.advance(by: .seconds(31))
        let relay = wire.relays[first]!
        #expect(relay.directory?.descriptors.count == 2, "nobody answered at the fake addresses")
        #expect(relay.counters.challengesFailed == 64)
        guard case .accepted(_, .challenged) = wire.command(.acceptDescriptor(try fake(200)), at: first) else {
            Issue.record("room again once the unanswered challenges ran out")
            return
        }
    }
}
