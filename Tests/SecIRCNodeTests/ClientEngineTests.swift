import SecIRCCore
import SecIRCCrypto
@testable import SecIRCNode
import SecIRCTransport
import Testing

/// The client's network engine on a manual clock, with real relay engines on the test wire.
@Suite struct ClientEngineTests {
    /// Three relays joined through the first ring, and two clients that hold the directory and
    /// have chosen their mailboxes.
    static func network(aliceStore: any MessengerStore = MemoryMessengerStore(),
                        tuneClients: (inout ClientEngine.Configuration) -> Void = { _ in },
                        tuneRelays: (inout RelayEngine.Configuration) -> Void = { _ in })
        throws -> (wire: EngineWire, alice: SocketAddress, bob: SocketAddress) {
        var wire = EngineWire()
        let ring = wire.addRelay(1, tune: tuneRelays)
        _ = wire.addRelay(2, firstRing: ring, tune: tuneRelays)
        _ = wire.addRelay(3, firstRing: ring, tune: tuneRelays)
        wire.advance(by: .seconds(5))
        let sources = ["http://10.0.0.1:6691", "http://10.0.0.2:6691"]
        let alice = try wire.addClientEngine(11, roster: ring.roster, sources: sources, store: aliceStore, tune: tuneClients)
        let bob = try wire.addClientEngine(12, roster: ring.roster, sources: sources, tune: tuneClients)
        wire.advance(by: .seconds(2))
        return (wire, alice, bob)
    }

    /// The group outbox's first wait before a deposit is made again (docs/PROTOCOL.md §8,
    /// Depositing): 1 s and twice the path's mixing delays, and with cover traffic 4/λ more. This
    /// wire's directory has λ = 1/s and μ = 10 ms; a client's factors scale them (2 and 5: the
    /// defaults, λ = 2/s and μ = 50 ms, 3.3 s).
    @Test func theGroupOutboxWaitsForTheMixingDelaysAndThePayloadStream() throws {
        for (cover, delay, expected) in [(0.0, 0.0, 1_000), (0, 1, 1_060), (1, 1, 5_060), (2, 5, 3_300)] as [(Double, Double, Int64)] {
            let (wire, alice, _) = try Self.network(tuneClients: {
                $0.coverRateFactor = cover
                $0.delayFactor = delay
            })
            #expect(wire.clientEngines[alice]!.groupDepositFirstRetryMs == expected, "cover × \(cover), delay × \(delay)")
        }
    }

    @Test func aMessageArrivesOnceAndItsReceiptMarksItDelivered() throws {
        var (wire, alice, bob) = try Self.network()
        let bobMessenger = wire.clientEngines[bob]!.messenger
        let aliceMessenger = wire.clientEngines[alice]!.messenger
        #expect(bobMessenger.mailboxes.count == 2 && aliceMessenger.mailboxes.count == 2)
        let invite = try bobMessenger.invite(now: wire.now, rng: &wire.rng)
        _ = try aliceMessenger.addContact(inviteURI: invite.uri, name: "bob", now: wire.now, rng: &wire.rng)
        let sent = try aliceMessenger.queueText(to: bobMessenger.identity.id, text: "hi bob", now: wire.now, rng: &wire.rng)
        wire.outboxChanged(alice)
        wire.advance(by: .seconds(3))

        let shown = (wire.clientEvents[bob] ?? []).compactMap { event -> String? in
            if case let .client(.message(record)) = event { return record.text }
            return nil
        }
        #expect(shown == ["hi bob"], "shown once")
        #expect(try aliceMessenger.message(id: sent.id)?.state == .delivered)
        #expect(wire.clientEngines[alice]!.status.packetsSent >= 2, "the introduction and the text")
        #expect(wire.clientEngines[bob]!.status.dropped["undecryptable"] == nil)
    }

    /// The messages due in one turn are prepared in one store transaction (one commit); when
    /// that fails because of one of them, the others still leave, and that one follows once the
    /// store takes it.
    @Test func aTurnsDueMessagesArePreparedTogetherAndOneBadMessageHoldsUpNoOther() throws {
        let store = CrashingStore(MemoryMessengerStore())
        var (wire, alice, bob) = try Self.network(aliceStore: store)
        let bobMessenger = wire.clientEngines[bob]!.messenger
        let aliceMessenger = wire.clientEngines[alice]!.messenger
        _ = try aliceMessenger.addContact(inviteURI: bobMessenger.invite(now: wire.now, rng: &wire.rng).uri, name: "bob", now: wire.now,
                                          rng: &wire.rng)
        wire.outboxChanged(alice)
        wire.advance(by: .seconds(3))
        #expect(try aliceMessenger.outboxCount() == 0, "the introduction was acknowledged")
        func shown() -> [String] {
            (wire.clientEvents[bob] ?? []).compactMap { event -> String? in
                if case let .client(.message(record)) = event { return record.text }
                return nil
            }
        }

        for text in ["one", "two", "three"] {
            _ = try aliceMessenger.queueText(to: bobMessenger.identity.id, text: text, now: wire.now, rng: &wire.rng)
        }
        wire.outboxChanged(alice)
        #expect(store.attemptsPerCommit.last == 3, "three messages, one commit")
        wire.advance(by: .seconds(1))
        #expect(shown() == ["one", "two", "three"])

        let records = try ["four", "five", "six"].map {
            try aliceMessenger.queueText(to: bobMessenger.identity.id, text: $0, now: wire.now, rng: &wire.rng)
        }
        store.refusedCursor = records[1].cursor
        wire.outboxChanged(alice)
        wire.advance(by: .milliseconds(500))
        #expect(shown().suffix(2) == ["four", "six"], "the batch failed: each on its own")
        #expect(try aliceMessenger.message(id: records[1].id)?.state == .queued)
        store.refusedCursor = nil
        wire.advance(by: .seconds(2))
        #expect(shown() == ["one", "two", "three", "four", "six", "five"], "nothing lost, nothing twice")
        #expect(try aliceMessenger.outboxCount() == 0)
    }

    /// A message of several fragments whose earlier fragments came (and were acknowledged) in
    /// an earlier batch, and whose store is full when the last one arrives: the whole message
    /// is kept until the relay hands that fragment over again, then stored once.
    @Test func aLongMessageTheFullStoreCouldNotTakeIsStoredOnceThereIsRoom() throws {
        var wire = EngineWire()
        let ring = wire.addRelay(1) { $0.fetchBatch = 2 }
        _ = wire.addRelay(2, firstRing: ring) { $0.fetchBatch = 2 }
        _ = wire.addRelay(3, firstRing: ring) { $0.fetchBatch = 2 }
        wire.advance(by: .seconds(5))
        let sources = ["http://10.0.0.1:6691", "http://10.0.0.2:6691"]
        let alice = try wire.addClientEngine(11, roster: ring.roster, sources: sources)
        let store = FillableStore()
        // Polling only: the fragments must come in batches of two, the earlier ones acknowledged
        // before the last is handed over (pushed mail is acknowledged seconds later).
        let bob = try wire.addClientEngine(12, roster: ring.roster, sources: sources, store: store) { $0.push = false }
        wire.advance(by: .seconds(2))
        let bobMessenger = wire.clientEngines[bob]!.messenger
        let aliceMessenger = wire.clientEngines[alice]!.messenger
        let invite = try bobMessenger.invite(now: wire.now, rng: &wire.rng)
        _ = try aliceMessenger.addContact(inviteURI: invite.uri, name: "bob", now: wire.now, rng: &wire.rng)
        _ = try aliceMessenger.queueText(to: bobMessenger.identity.id, text: "hi", now: wire.now, rng: &wire.rng)
        wire.outboxChanged(alice)
        wire.advance(by: .seconds(3))

        store.isFull = true
        let long = String(repeating: "fragments ", count: 400)
        _ = try aliceMessenger.queueText(to: bobMessenger.identity.id, text: long, now: wire.now, rng: &wire.rng)
        wire.outboxChanged(alice)
        wire.advance(by: .seconds(1))
        // Alice goes away: no resend of hers can make up for lost fragments.
        wire.clientEngines[alice] = nil
        wire.advance(by: .seconds(4))
        func shown() -> [String] {
            (wire.clientEvents[bob] ?? []).compactMap { event -> String? in
                if case let .client(.message(record)) = event { return record.text }
                return nil
            }
        }
        #expect(shown() == ["hi"])
        #expect(wire.clientEngines[bob]!.status.dropped["not_stored", default: 0] >= 1)

        store.isFull = false
        wire.advance(by: .seconds(2))
        #expect(shown().map(\.count) == [2, long.count] && shown().last == long, "stored once, whole")
        #expect(wire.clientEngines[bob]!.status.dropped["undecryptable"] == nil)
        #expect(wire.clientEngines[bob]!.status.dropped["bad_fragment"] == nil)
    }

    @Test func aDirectoryTheTrustedRingDidNotSignIsRefusedAndNothingIsSent() throws {
        var wire = EngineWire()
        _ = wire.addRelay(1)
        wire.advance(by: .seconds(1))
        var rng = SeededRandom(seed: "stranger")
        let stranger = Roster(members: [Roster.Member(identityKey: SigningPrivateKey(using: &rng).publicKey, udp: "10.0.0.1:6690",
                                                      http: "http://10.0.0.1:6691")])
        let client = try wire.addClientEngine(11, roster: stranger, sources: ["http://10.0.0.1:6691"])
        wire.advance(by: .seconds(3))
        let engine = try #require(wire.clientEngines[client])
        #expect(engine.status.directory == nil)
        #expect((engine.status.dropped["directory_refused"] ?? 0) >= 2, "tried again each second")
        #expect(engine.messenger.mailboxes.isEmpty)
        #expect(engine.status.packetsSent == 0)
    }

    /// With cover traffic, the client sends two Poisson streams at the directory's rates (λ = 1/s
    /// and λ_L = 0.5/s on this wire, times the profile's factor): the payload stream's empty slots
    /// carry drop cover, which a relay discards, and the loop stream loops back to one of the
    /// client's own mailboxes; it wakes only when a packet leaves (no polling of the clock in between).
    @Test func coverTrafficIsAPayloadStreamOfDropsAndALoopStream() throws {
        // Factor 3: λ = 3/s and λ_L = 1.5/s. Loops faster than the introduction queue takes mail,
        // so they must go to the loop queue. (The wire's relays hold 10 a queue; loops wait up to
        // 10 s for their acknowledgement.)
        var (wire, alice, _) = try Self.network(tuneClients: { $0.coverRateFactor = 3 },
                                                tuneRelays: { $0.mailbox.maxMessagesPerQueue = 100 })
        let before = wire.clientEngines[alice]!.status
        let discardedBefore = wire.relays.values.map(\.counters.coverDropped).reduce(0, +)
        let allDrops = { (wire: EngineWire) in wire.clientEngines.values.map { $0.status.coverPacketsSent - $0.status.loopPacketsSent }.reduce(0, +) }
        let allDropsBefore = allDrops(wire)
        var wakeUps = 0
        let end = wire.now.adding(.seconds(200))
        while let next = wire.clientEngines[alice]!.nextDeadline, next <= end {
            wakeUps += 1
            wire.advance(by: max(next.duration(since: wire.now), .milliseconds(1)))
        }
        wire.advance(by: end.duration(since: wire.now))
        let after = wire.clientEngines[alice]!.status
        let loops = after.loopPacketsSent - before.loopPacketsSent
        let drops = (after.coverPacketsSent - before.coverPacketsSent) - loops
        #expect((480...720).contains(drops), "\(drops) drop cover packets in 200 s at λ = 3/s")
        #expect((220...380).contains(loops), "\(loops) loops in 200 s at λ_L = 1.5/s")
        // Every client's drops (bob sends his own) end at a relay; a few may still be on their way.
        let discarded = wire.relays.values.map(\.counters.coverDropped).reduce(0, +) - discardedBefore
        let dropsSent = allDrops(wire) - allDropsBefore
        #expect(discarded >= dropsSent - 10 && discarded <= dropsSent, "the drops end at a relay: \(discarded) of \(dropsSent)")
        let received = after.coverPacketsReceived - before.coverPacketsReceived
        #expect(received >= loops - 10 && received <= loops, "the loops come back to the own mailboxes: \(received) of \(loops)")
        let refused = wire.relays.values.map { $0.counters.mailboxDrops.values.reduce(0, +) }.reduce(0, +)
        #expect(refused == 0, "no loop refused by a mailbox relay: \(wire.relays.values.map(\.counters.mailboxDrops))")
        // Its timers: one per packet out, and a few for acknowledging fetches and housekeeping.
        #expect(wakeUps <= drops + loops + 150, "\(wakeUps) timer wake-ups for \(drops) drops and \(loops) loops")
    }

    /// Drop cover ends where real packets end as often: at a relay drawn by the weights the
    /// first ring granted, not uniformly (a relay claiming 100 times the capacity of the others
    /// ends about nine drops in ten, and uniformly it would end one in three).
    @Test func dropCoverEndsAtRelaysByTheirWeights() throws {
        let heavy = "\(EngineWire.address(3))"
        var (wire, alice, _) = try Self.network(tuneClients: { $0.coverRateFactor = 3 },
                                                tuneRelays: { $0.capacity = $0.advertisedUDP == heavy ? 10_000 : 100 })
        let held = try #require(wire.clientEngines[alice]!.tracker.held)
        let weights = Dictionary(uniqueKeysWithValues: held.descriptors.map { ($0.udp, held.ratings[$0.id]?.weight ?? 0) })
        #expect(weights.count == 3 && weights.filter { $0.key != heavy }.values.allSatisfy { $0 * 5 <= weights[heavy] ?? 0 },
                "the ring weighs relay 3 far above the others: \(weights)")
        let dropped = { (wire: EngineWire) in wire.relays.mapValues(\.counters.coverDropped) }
        let before = dropped(wire)
        wire.advance(by: .seconds(100))
        let ended = dropped(wire).map { ($0.key, $0.value - (before[$0.key] ?? 0)) }
        let total = ended.map(\.1).reduce(0, +)
        let atHeavy = ended.first { $0.0 == EngineWire.address(3) }?.1 ?? 0
        #expect(total >= 400, "\(total) drops in 100 s at λ = 3/s from alice and bob")
        #expect(atHeavy * 10 >= total * 8, "\(atHeavy) of \(total) drops ended at the relay of weight \(weights[heavy] ?? 0)")
    }

    /// Alice adds bob from his invite; `count` texts alice → bob, queued (not yet announced).
    static func queueTexts(_ count: Int, on wire: inout EngineWire, from alice: SocketAddress, to bob: SocketAddress,
                           introduced: Bool = false) throws -> [MessageRecord] {
        let bobMessenger = wire.clientEngines[bob]!.messenger
        let aliceMessenger = wire.clientEngines[alice]!.messenger
        if !introduced {
            let invite = try bobMessenger.invite(now: wire.now, rng: &wire.rng)
            _ = try aliceMessenger.addContact(inviteURI: invite.uri, name: "bob", now: wire.now, rng: &wire.rng)
        }
        return try (0..<count).map { try aliceMessenger.queueText(to: bobMessenger.identity.id, text: "m\($0)", now: wire.now, rng: &wire.rng) }
    }

    /// With cover traffic, real packets wait for slots of the stream (λ = 1/s here, retries
    /// after 2 s): a message whose attempt still waits is not queued again behind it — its
    /// backoff runs from when it is expected to have left — and each is sent once.
    @Test func aMessageWaitingForItsCoverSlotIsNotSentAgain() throws {
        var (wire, alice, bob) = try Self.network { $0.coverRateFactor = 1 }
        let aliceMessenger = wire.clientEngines[alice]!.messenger
        let sent = try Self.queueTexts(6, on: &wire, from: alice, to: bob)
        wire.outboxChanged(alice)
        for _ in 0..<20 {
            wire.advance(by: .seconds(1))
            for message in sent {
                // Three fragments each (the session's set-up rides along): one attempt's worth.
                #expect(wire.clientEngines[alice]!.pacedMessages[message.id, default: 0] <= 3, "not queued again while waiting")
            }
        }
        // The first messages of a session carry its set-up (three fragments each): 25 packets
        // at λ = 1/s on both sides, and resends for what is still unacknowledged then.
        wire.advance(by: .seconds(120))
        for message in sent { #expect(try aliceMessenger.message(id: message.id)?.state == .delivered) }
        let shown = (wire.clientEvents[bob] ?? []).filter { if case .client(.message) = $0 { true } else { false } }
        #expect(shown.count == 6, "each shown once")
    }

    /// Without cover traffic, the receipts made in one turn of the loop leave at its end, one
    /// per contact: a burst of messages pushed together is not answered one by one.
    @Test func receiptsOfOneTurnLeaveAsOne() throws {
        var (wire, alice, bob) = try Self.network()
        let aliceMessenger = wire.clientEngines[alice]!.messenger
        _ = try Self.queueTexts(0, on: &wire, from: alice, to: bob)
        wire.outboxChanged(alice)
        wire.advance(by: .seconds(3))
        let before = wire.clientEngines[bob]!.status.packetsSent
        let sent = try Self.queueTexts(5, on: &wire, from: alice, to: bob, introduced: true)
        wire.outboxChanged(alice)
        wire.advance(by: .seconds(1))
        for message in sent { #expect(try aliceMessenger.message(id: message.id)?.state == .delivered) }
        #expect(wire.clientEngines[bob]!.status.packetsSent - before <= 2, "the five answered together, not one each")
        #expect(wire.clientEngines[bob]!.nextDeadline.map { $0 > wire.now } == true, "nothing left due")
    }

    /// Receipts to one contact made while an earlier one waits for its cover slot join it: a
    /// burst of messages costs the receiver one slot, not one each.
    @Test func receiptsWaitingForACoverSlotJoin() throws {
        // Alice sends at once (no cover); bob answers in his cover stream (λ = 1/s).
        var (wire, alice, bob) = try Self.network()
        let bobCover = try wire.addClientEngine(13, roster: wire.clientEngines[bob]!.configuration.roster,
                                                sources: wire.clientEngines[bob]!.configuration.bootstrapURLs) { $0.coverRateFactor = 1 }
        bob = bobCover
        wire.advance(by: .seconds(2))
        let aliceMessenger = wire.clientEngines[alice]!.messenger
        _ = try Self.queueTexts(0, on: &wire, from: alice, to: bob)
        wire.outboxChanged(alice)
        wire.advance(by: .seconds(5))
        let before = wire.clientEngines[bob]!.status
        let sent = try Self.queueTexts(5, on: &wire, from: alice, to: bob, introduced: true)
        wire.outboxChanged(alice)
        wire.advance(by: .seconds(10))
        for message in sent { #expect(try aliceMessenger.message(id: message.id)?.state == .delivered) }
        let after = wire.clientEngines[bob]!.status
        let real = (after.packetsSent - after.coverPacketsSent) - (before.packetsSent - before.coverPacketsSent)
        #expect(real <= 2, "\(real) receipt packets for a burst of 5 messages")
    }
}

/// When a mailbox batch may be acknowledged: only when every one of the `sent` messages arrived,
/// each in its place — what `fetch done` and each message's `remaining` say — so a late datagram
/// from an earlier fetch cannot make an incomplete batch look whole.
@Suite struct FetchBatchTests {
    static func fetch(_ received: [(UInt64, UInt32)], notStored: Bool = false) -> ClientEngine.MailboxFetch {
        var rng = SeededRandom(seed: "batch")
        let key = MailboxKey(relayID: ID(rawValue: .zero), key: SigningPrivateKey(using: &rng))
        var fetch = ClientEngine.MailboxFetch(mailbox: key, stage: .awaitingMessages, started: UnixTime(seconds: 0), round: 1)
        fetch.received = received.map { (sequence: $0.0, remaining: $0.1) }
        fetch.notStored = notStored
        return fetch
    }

    @Test(arguments: [
        // (received (sequence, remaining on the message), fetch done remaining, sent, acknowledged)
        ([(10, 2), (11, 1), (12, 0)], 0, 3, 12),                       // whole, in order
        ([(12, 0), (10, 2), (11, 1)], 0, 3, 12),                       // whole, reordered
        ([(10, 2), (12, 0)], 0, 3, nil),                               // one lost
        ([(10, 2), (10, 2), (12, 0)], 0, 3, nil),                      // a duplicate does not stand in for the lost one
        ([(12, 0), (10, 2), (12, 0)], 0, 3, nil),                      // a late copy from the last fetch neither
        ([(10, 4), (11, 3), (12, 2)], 2, 3, 12),                       // more wait behind the batch
        ([(9, 5), (10, 4), (11, 3), (12, 2)], 2, 3, 12),               // mail expired meanwhile: the stale one is outside
        ([(10, 2), (13, 1), (12, 0)], 0, 3, nil),                      // places out of order: refused
        ([], 0, 0, 0),                                                 // an empty mailbox
    ] as [([(UInt64, UInt32)], UInt32, UInt32, UInt64?)])
    func aBatchIsWholeOnlyWithEveryPlaceFilled(received: [(UInt64, UInt32)], remaining: UInt32, sent: UInt32, acknowledged: UInt64?) {
        #expect(ClientEngine.acknowledgeable(Self.fetch(received), remaining: remaining, sent: sent) == acknowledged)
    }

    @Test func aBatchWithAMessageTheStoreCouldNotTakeIsNotAcknowledged() {
        #expect(ClientEngine.acknowledgeable(Self.fetch([(10, 0)], notStored: true), remaining: 0, sent: 1) == nil)
    }
}
