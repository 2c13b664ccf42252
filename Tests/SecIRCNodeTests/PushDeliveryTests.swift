import SecIRCCore
import SecIRCCrypto
@testable import SecIRCNode
import SecIRCTransport
import Testing

/// Push delivery on the manual clock: a subscribed link session gets new mail at once; the
/// acknowledgement rules stay those of the fetch; subscriptions are bounded and end with their
/// session; a client whose relay forgot it polls again.
@Suite struct PushDeliveryTests {
    /// Subscribes `mailboxKey` at the relay from a bare client link; returns what came back.
    static func subscribe(_ wire: inout EngineWire, _ mailboxKey: SigningPrivateKey, from client: SocketAddress,
                          to relay: SocketAddress, ackThrough: UInt64 = 0, subscribe: Bool = true) -> [LinkFrame] {
        let mailbox = mailboxKey.publicKey.id.rawValue
        wire.received[client] = []
        wire.send(.fetchChallengeRequest(mailbox: mailbox), from: client, to: relay)
        guard case let .fetchChallenge(_, nonce)? = wire.received[client]?.last else { return [] }
        let signed = LinkFrame.fetchSignedBytes(relay: wire.relays[relay]!.relayID.rawValue, nonce: nonce, ackThrough: ackThrough)
        wire.received[client] = []
        wire.send(.fetchRequest(mailboxKey: mailboxKey.publicKey, nonce: nonce, ackThrough: ackThrough,
                                signature: mailboxKey.sign(signed), subscribe: subscribe), from: client, to: relay)
        return wire.received[client] ?? []
    }

    static func deposit(_ wire: inout EngineWire, _ body: String, to mailbox: Bytes32, at relay: SocketAddress,
                        from client: SocketAddress) throws {
        let packet = try RelayEngineTests.packet(for: wire.relays[relay]!, command: .deliver(to: mailbox), body: Array(body.utf8),
                                                 rng: &wire.rng)
        wire.send(.sphinx(packet), from: client, to: relay)
    }

    static func pushed(_ frames: [LinkFrame]?) -> [String] {
        (frames ?? []).compactMap { frame -> String? in
            guard case let .mailboxMessage(_, _, _, body) = frame else { return nil }
            return String(decoding: body.prefix { $0 != 0 }, as: UTF8.self)
        }
    }

    @Test func aSubscribedSessionGetsNewMailAtOnceAndTheRelayKeepsItUntilAcknowledged() throws {
        var wire = EngineWire()
        _ = wire.addRelay(1)
        let relay = EngineWire.address(1)
        let owner = wire.addClient(9)
        let sender = wire.addClient(8)
        let key = SigningPrivateKey(using: &wire.rng)
        let mailbox = key.publicKey.id.rawValue
        let done = Self.subscribe(&wire, key, from: owner, to: relay)
        #expect(done == [.fetchDone(mailbox: mailbox, status: .ok, remaining: 0, sent: 0, subscribed: true)])
        #expect(wire.relays[relay]!.counters.subscriptions == 1)

        wire.received[owner] = []
        try Self.deposit(&wire, "pushed", to: mailbox, at: relay, from: sender)
        #expect(Self.pushed(wire.received[owner]) == ["pushed"], "down the subscribed session at once")
        #expect(wire.relays[relay]!.counters.pushed == 1)
        guard case let .mailboxMessage(_, sequence, 0, _)? = wire.received[owner]?.first else {
            Issue.record("no push")
            return
        }
        #expect(wire.relays[relay]!.mailboxes.depth(of: mailbox) == 1, "kept until a fetch acknowledges it")
        // The next fetch hands it over again (not acknowledged yet), the one after deletes it.
        #expect(Self.pushed(Self.subscribe(&wire, key, from: owner, to: relay)) == ["pushed"])
        _ = Self.subscribe(&wire, key, from: owner, to: relay, ackThrough: sequence)
        #expect(wire.relays[relay]!.mailboxes.depth(of: mailbox) == 0)
    }

    @Test func subscriptionsAreBoundedReplacedAndEndWithTheirSession() throws {
        var wire = EngineWire()
        _ = wire.addRelay(1) { $0.subscriptions = MailboxSubscriptions.Limits(perSession: 2, total: 3) }
        let relay = EngineWire.address(1)
        let first = wire.addClient(9)
        let second = wire.addClient(8)
        let sender = wire.addClient(7)
        let keys = (0..<4).map { _ in SigningPrivateKey(using: &wire.rng) }
        func subscribed(_ frames: [LinkFrame]) -> Bool {
            if case let .fetchDone(_, .ok, _, _, subscribed, _)? = frames.last { return subscribed }
            return false
        }
        func holder(_ key: SigningPrivateKey) -> UInt32? { wire.relays[relay]!.subscriptions.session(for: key.publicKey.id.rawValue) }
        // Two per session: a third takes the place of the one renewed least recently (the
        // mailbox the client stopped fetching), not refused.
        #expect(subscribed(Self.subscribe(&wire, keys[0], from: first, to: relay)))
        #expect(subscribed(Self.subscribe(&wire, keys[1], from: first, to: relay)))
        #expect(subscribed(Self.subscribe(&wire, keys[0], from: first, to: relay)), "renewed")
        #expect(subscribed(Self.subscribe(&wire, keys[2], from: first, to: relay)))
        #expect(holder(keys[1]) == nil && holder(keys[0]) != nil && holder(keys[0]) == holder(keys[2]))
        #expect(wire.relays[relay]!.counters.subscriptionsEvicted == 1)
        #expect(wire.relays[relay]!.counters.relayDrops[.subscriptionLimit] == nil)
        // Three in all: refused, counted.
        #expect(subscribed(Self.subscribe(&wire, keys[3], from: second, to: relay)))
        #expect(!subscribed(Self.subscribe(&wire, keys[1], from: second, to: relay)), "three in all")
        #expect(wire.relays[relay]!.counters.relayDrops[.subscriptionLimit] == 1)

        // A newer subscription of the same mailbox replaces the older one.
        #expect(subscribed(Self.subscribe(&wire, keys[0], from: second, to: relay)))
        wire.received[first] = []
        wire.received[second] = []
        try Self.deposit(&wire, "to zero", to: keys[0].publicKey.id.rawValue, at: relay, from: sender)
        #expect(Self.pushed(wire.received[first]).isEmpty)
        #expect(Self.pushed(wire.received[second]) == ["to zero"])
        _ = Self.subscribe(&wire, keys[3], from: second, to: relay, subscribe: false)
        #expect(subscribed(Self.subscribe(&wire, keys[1], from: second, to: relay)), "room again after an unsubscribe")
        wire.received[second] = []
        try Self.deposit(&wire, "to one", to: keys[1].publicKey.id.rawValue, at: relay, from: sender)
        #expect(Self.pushed(wire.received[second]) == ["to one"])

        // Sessions that end take their subscriptions with them.
        #expect(wire.relays[relay]!.counters.subscriptions > 0)
        wire.advance(by: .seconds(200))
        #expect(wire.relays[relay]!.counters.subscriptions == 0)
        wire.received[second] = []
        try Self.deposit(&wire, "later", to: keys[1].publicKey.id.rawValue, at: relay, from: sender)
        #expect(Self.pushed(wire.received[second]).isEmpty)
    }

    @Test func theLimitsTable() {
        var table = MailboxSubscriptions(limits: .init(perSession: 1, total: 2))
        let a = try! Bytes32([UInt8](repeating: 1, count: 32)), b = try! Bytes32([UInt8](repeating: 2, count: 32)),
            c = try! Bytes32([UInt8](repeating: 3, count: 32))
        let answers = [table.subscribe(a, session: 1), table.subscribe(b, session: 1), table.subscribe(c, session: 2),
                       table.subscribe(a, session: 3), table.subscribe(b, session: 3)]
        #expect(answers == [true, true, true, false, true],
                "one per session (b takes a's place), two in all (a refused); the last replaces session 1's b")
        #expect(table.session(for: a) == nil && table.session(for: b) == 3 && table.count == 2 && table.evicted == 1)
        table.keep { $0 != 3 }
        #expect(table.session(for: b) == nil && table.count == 1)
        table.remove(c)
        #expect(table.count == 0 && table.evicted == 1)
    }

    /// Two clients whose only mailbox is pushed to, polling every 30 s while subscribed.
    static func network() throws -> (wire: EngineWire, alice: SocketAddress, bob: SocketAddress) {
        try ClientEngineTests.network { configuration in
            configuration.mailboxRelays = 1
            configuration.pushPollInterval = .seconds(30)
        }
    }

    static func shown(_ wire: EngineWire, _ client: SocketAddress) -> [String] {
        (wire.clientEvents[client] ?? []).compactMap { event -> String? in
            if case let .client(.message(record)) = event { return record.text }
            return nil
        }
    }

    static func relayAddress(_ wire: EngineWire, of relay: ID) -> SocketAddress? {
        wire.relays.first { $0.value.relayID == relay }?.key
    }

    @Test func aPushedMessageArrivesWithoutWaitingForThePollAndIsAcknowledgedByAFetch() throws {
        var (wire, alice, bob) = try Self.network()
        let bobMessenger = wire.clientEngines[bob]!.messenger
        let aliceMessenger = wire.clientEngines[alice]!.messenger
        #expect(wire.clientEngines[bob]!.allSubscribed && wire.clientEngines[alice]!.allSubscribed)
        let invite = try bobMessenger.invite(now: wire.now, rng: &wire.rng)
        _ = try aliceMessenger.addContact(inviteURI: invite.uri, name: "bob", now: wire.now, rng: &wire.rng)
        let sent = try aliceMessenger.queueText(to: bobMessenger.identity.id, text: "at once", now: wire.now, rng: &wire.rng)
        let nextPoll = wire.clientEngines[bob]!.nextPoll
        #expect(nextPoll.duration(since: wire.now) > .seconds(20), "no poll for a while")
        wire.outboxChanged(alice) // delivers everything in flight, without moving the clock
        #expect(Self.shown(wire, bob) == ["at once"])
        #expect(try aliceMessenger.message(id: sent.id)?.state == .delivered, "the receipt was pushed too")

        let mailbox = try #require(bobMessenger.mailboxes.first)
        let relay = try #require(Self.relayAddress(wire, of: mailbox.relayID))
        let id = mailbox.address.mailboxID
        #expect(wire.relays[relay]!.mailboxes.depth(of: id) > 0, "stored by bob, not yet acknowledged")
        wire.advance(by: .seconds(9))
        #expect(wire.relays[relay]!.mailboxes.depth(of: id) > 0)
        // (alice's receipt for bob's card, which tells her her queue, was pushed later: one more round)
        wire.advance(by: .seconds(22))
        #expect(wire.relays[relay]!.mailboxes.depth(of: id) == 0, "acknowledged by the fetches that followed")
        #expect(Self.shown(wire, bob) == ["at once"], "shown once: the fetched copy is not opened again")
        #expect(wire.clientEngines[bob]!.allSubscribed)
    }

    /// The relay forgets the subscription when it restarts; the client cannot know until its
    /// next poll fails, then polls every `pollInterval` on a new link until a fetch subscribes
    /// again. (Mail here is a one-hop deposit: the client counts a body it cannot open.)
    @Test func aClientWhoseRelayRestartedPollsUntilItIsSubscribedAgain() throws {
        var (wire, _, bob) = try Self.network()
        let mailbox = try #require(wire.clientEngines[bob]!.messenger.mailboxes.first)
        let relay = try #require(Self.relayAddress(wire, of: mailbox.relayID))
        let sender = wire.addClient(7)
        func received() -> Int { wire.clientEngines[bob]!.status.coverPacketsReceived }
        let before = received()
        try Self.deposit(&wire, "one", to: mailbox.address.mailboxID, at: relay, from: sender)
        #expect(received() == before + 1, "pushed")

        let engine = wire.relays[relay]!
        try RelayRestartTests.restart(&wire, relay, configuration: engine.configuration, keys: engine.keys.saved,
                                      directory: engine.isFirstRing ? RelayRestartTests.lastSavedDirectory(wire.events) : nil)
        #expect(wire.clientEngines[bob]!.allSubscribed, "bob cannot know yet")
        try Self.deposit(&wire, "two", to: mailbox.address.mailboxID, at: relay, from: sender)
        #expect(received() == before + 1, "nobody to push to")
        // At its next poll (within 30 s) bob's fetch fails (2 s); it polls again on a new link,
        // which fetches the mail and subscribes again.
        wire.advance(by: .seconds(33))
        #expect(received() == before + 2)
        #expect(wire.clientEngines[bob]!.status.dropped["fetch_failed", default: 0] >= 1)
        #expect(wire.clientEngines[bob]!.allSubscribed)
        try Self.deposit(&wire, "three", to: mailbox.address.mailboxID, at: relay, from: sender)
        #expect(received() == before + 3, "pushed again")
    }

    /// While the link is down, polling every `pollInterval` is the fallback.
    @Test func withoutASubscriptionTheClientPollsAtThePollInterval() throws {
        var (wire, _, bob) = try Self.network()
        let mailbox = try #require(wire.clientEngines[bob]!.messenger.mailboxes.first)
        let relay = try #require(Self.relayAddress(wire, of: mailbox.relayID))
        #expect(wire.clientEngines[bob]!.nextPoll.duration(since: wire.now) > .seconds(1))
        wire.silent.insert(relay)
        wire.advance(by: .seconds(33))
        #expect(!wire.clientEngines[bob]!.allSubscribed)
        #expect(wire.clientEngines[bob]!.nextPoll.duration(since: wire.now) <= .milliseconds(500))
        wire.silent.remove(relay)
        wire.advance(by: .seconds(35)) // the relay was down: left out for 30 s, then fetched again
        #expect(wire.clientEngines[bob]!.allSubscribed)
    }
}
