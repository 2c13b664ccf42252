import SecIRCCore
import SecIRCCrypto
@testable import SecIRCNode
import SecIRCTransport
import Testing

/// Group mailboxes at the relay (issue 13 item 2): a poster deposits once, every member fetches
/// the same mail by its own cursor with the one group mailbox key; nothing is deleted by a fetch;
/// every member's session may be pushed to; the kinds never mix; every bound holds.
@Suite struct GroupMailboxTests {
    static let limits = MailboxStore.Limits(ttl: .seconds(60), maxMessagesPerQueue: 3, maxMessagesPerGroup: 50, maxMailboxes: 4,
                                            maxTotalBytes: 10_000, intro: MailboxStore.Intro(maxMessages: 4, perMinute: 60, burst: 2))
    static let group = try! Bytes32([UInt8](repeating: 7, count: 32))
    static let link = IncomingLink.relay(ID(rawValue: try! Bytes32([UInt8](repeating: 100, count: 32))))
    static let t0 = UnixTime(seconds: 1_000)

    @Test func theStoreKeepsGroupMailForEveryCursorAndDeletesNothingOnFetch() {
        var store = MailboxStore(limits: Self.limits)
        let registered = store.register(Self.group, group: true, now: Self.t0)
        #expect(registered && store.isGroup(Self.group))
        // No introduction rate (its burst is 2 here): 10 at once are all stored.
        let deposits = (1...10).map { store.deliver([UInt8($0)], to: Self.group, from: Self.link, now: Self.t0) }
        #expect(deposits.allSatisfy { $0 == .stored(mailbox: Self.group) })
        let all = store.fetch(Self.group, after: 0, limit: 4)
        #expect(all.messages.map(\.body) == [[1], [2], [3], [4]] && all.remaining == 6)
        // Another member further on, and one past the end; nothing was deleted by either.
        let sequences = store.fetch(Self.group, after: 0, limit: 100).messages.map(\.sequence)
        let later = store.fetch(Self.group, after: sequences[6], limit: 100)
        #expect(later.messages.map(\.body) == [[8], [9], [10]] && later.remaining == 0)
        #expect(store.fetch(Self.group, after: sequences[9], limit: 100).messages.isEmpty)
        #expect(store.depth(of: Self.group) == 10)
        // It registers no queues.
        #expect(store.apply([.add(try! Bytes32([UInt8](repeating: 8, count: 32)))], to: Self.group, now: Self.t0) == [.queueLimit])
        #expect(store.queues(of: Self.group) == 0)
        // Mail goes with the TTL.
        let dropped = store.expire(now: Self.t0.adding(.seconds(61)))
        #expect(dropped[.expired] == 10 && store.depth(of: Self.group) == 0)
    }

    @Test func aGroupMailboxHasACapOfItsOwnAndMailBeforeItsRegistrationIsClaimed() {
        var store = MailboxStore(limits: Self.limits)
        // Posted before the group's first fetch reached this relay: held unclaimed, then claimed.
        #expect(store.deliver([0], to: Self.group, from: Self.link, now: Self.t0) == .held)
        _ = store.register(Self.group, group: true, now: Self.t0)
        #expect(store.depth(of: Self.group) == 1)
        for i in 1..<50 { _ = store.deliver([UInt8(i)], to: Self.group, from: Self.link, now: Self.t0) }
        #expect(store.deliver([99], to: Self.group, from: Self.link, now: Self.t0) == .dropped(.groupFull))
        #expect(store.depth(of: Self.group) == 50, "refused, not evicting mail already accepted")
    }

    @Test func subscriptionsToAGroupMailboxAreOnePerSessionAndBounded() {
        var table = MailboxSubscriptions(limits: .init(perSession: 2, total: 4, perGroup: 3))
        let personal = try! Bytes32([UInt8](repeating: 1, count: 32))
        let answers = (1...4).map { table.subscribe(Self.group, session: UInt32($0), shared: true) }
        #expect(answers == [true, true, true, false], "three sessions per group mailbox here")
        #expect(table.sessions(for: Self.group) == [1, 2, 3] && table.count == 3)
        let personalFirst = table.subscribe(personal, session: 1)
        #expect(personalFirst && table.count == 4)
        let another = try! Bytes32([UInt8](repeating: 2, count: 32))
        let overTotal = table.subscribe(another, session: 3)
        #expect(!overTotal, "four in all")
        #expect(table.sessions(for: Self.group) == [1, 2, 3], "a refusal leaves the group's others alone")
        table.remove(Self.group, session: 2)
        #expect(table.sessions(for: Self.group) == [1, 3] && table.count == 3)
        table.keep { $0 != 1 }
        #expect(table.sessions(for: Self.group) == [3] && table.session(for: personal) == nil && table.count == 1)
        // A member's session at its bound gives up its oldest subscription: an old epoch's
        // group mailbox it no longer fetches goes before the mailboxes it renews.
        let renewed = table.subscribe(personal, session: 3) && table.subscribe(another, session: 3)
        #expect(renewed && table.sessions(for: Self.group).isEmpty && table.evicted == 1 && table.count == 2)
    }

    /// The client's record of group bodies read: a body is known from its insertion until at
    /// least `generation` others came after it, then forgotten (memory stays bounded).
    @Test func recentDigestsRememberTheLastGenerationAndForgetOlder() {
        var digests = RecentDigests()
        let all = (0..<(3 * RecentDigests.generation)).map { SHA256.hash(Array("body \($0)".utf8)) }
        for (i, digest) in all.enumerated() {
            #expect(!digests.contains(digest))
            digests.insert(digest)
            #expect(digests.contains(digest))
            if i >= RecentDigests.generation { #expect(digests.contains(all[i - RecentDigests.generation])) }
        }
        #expect(!digests.contains(all[0]) && !digests.contains(all[RecentDigests.generation - 1]), "two generations back: gone")
        #expect(digests.contains(all[2 * RecentDigests.generation]))
    }

    /// A group fetch (bit 1 of the flags) from `client`, signed with the group mailbox key.
    static func fetch(_ wire: inout EngineWire, _ key: SigningPrivateKey, from client: SocketAddress, to relay: SocketAddress,
                      after cursor: UInt64, subscribe: Bool = false, group: Bool = true) -> [LinkFrame] {
        let mailbox = key.publicKey.id.rawValue
        wire.received[client] = []
        wire.send(.fetchChallengeRequest(mailbox: mailbox), from: client, to: relay)
        guard case let .fetchChallenge(_, nonce)? = wire.received[client]?.last else { return [] }
        let signed = LinkFrame.fetchSignedBytes(relay: wire.relays[relay]!.relayID.rawValue, nonce: nonce, ackThrough: cursor)
        wire.received[client] = []
        wire.send(.fetchRequest(mailboxKey: key.publicKey, nonce: nonce, ackThrough: cursor, signature: key.sign(signed),
                                subscribe: subscribe, group: group), from: client, to: relay)
        return wire.received[client] ?? []
    }

    static func bodies(_ frames: [LinkFrame]) -> [String] { PushDeliveryTests.pushed(frames) }

    static func lastSequence(_ frames: [LinkFrame]) -> UInt64 {
        frames.compactMap { frame -> UInt64? in
            if case let .mailboxMessage(_, sequence, _, _) = frame { sequence } else { nil }
        }.max() ?? 0
    }

    @Test func oneDepositReachesEveryMemberByFetchAndByPush() throws {
        var wire = EngineWire()
        _ = wire.addRelay(1)
        let relay = EngineWire.address(1)
        let alice = wire.addClient(9), bob = wire.addClient(8), carol = wire.addClient(7), poster = wire.addClient(6)
        let key = SigningPrivateKey(using: &wire.rng)
        let mailbox = key.publicKey.id.rawValue
        #expect(Self.fetch(&wire, key, from: alice, to: relay, after: 0)
            == [.fetchDone(mailbox: mailbox, status: .ok, remaining: 0, sent: 0)], "the first fetch registers it as a group's")
        for text in ["one", "two", "three"] { try PushDeliveryTests.deposit(&wire, text, to: mailbox, at: relay, from: poster) }

        // Each member reads all three with its own cursor; a fetch deletes nothing.
        let aliceFirst = Self.fetch(&wire, key, from: alice, to: relay, after: 0)
        #expect(Self.bodies(aliceFirst) == ["one", "two", "three"])
        let bobFirst = Self.fetch(&wire, key, from: bob, to: relay, after: 0)
        #expect(Self.bodies(bobFirst) == ["one", "two", "three"])
        #expect(Self.fetch(&wire, key, from: alice, to: relay, after: Self.lastSequence(aliceFirst))
            == [.fetchDone(mailbox: mailbox, status: .ok, remaining: 0, sent: 0)])
        #expect(wire.relays[relay]!.mailboxes.depth(of: mailbox) == 3)

        // Subscribed, alice and carol both get the next post at once, from one deposit.
        _ = Self.fetch(&wire, key, from: alice, to: relay, after: Self.lastSequence(aliceFirst), subscribe: true)
        _ = Self.fetch(&wire, key, from: carol, to: relay, after: Self.lastSequence(aliceFirst), subscribe: true)
        #expect(wire.relays[relay]!.counters.subscriptions == 2)
        wire.received[alice] = []
        wire.received[carol] = []
        wire.received[bob] = []
        try PushDeliveryTests.deposit(&wire, "four", to: mailbox, at: relay, from: poster)
        #expect(Self.bodies(wire.received[alice] ?? []) == ["four"] && Self.bodies(wire.received[carol] ?? []) == ["four"])
        #expect(Self.bodies(wire.received[bob] ?? []).isEmpty, "bob did not subscribe")
        #expect(wire.relays[relay]!.counters.pushed == 2)
        // bob catches up from his cursor.
        #expect(Self.bodies(Self.fetch(&wire, key, from: bob, to: relay, after: Self.lastSequence(bobFirst))) == ["four"])
    }

    @Test func aMailboxIsFetchedAsTheKindItWasRegisteredAs() throws {
        var wire = EngineWire()
        _ = wire.addRelay(1)
        let relay = EngineWire.address(1)
        let member = wire.addClient(9), sender = wire.addClient(6)
        let groupKey = SigningPrivateKey(using: &wire.rng), personalKey = SigningPrivateKey(using: &wire.rng)
        _ = Self.fetch(&wire, groupKey, from: member, to: relay, after: 0)
        _ = Self.fetch(&wire, personalKey, from: member, to: relay, after: 0, group: false)
        try PushDeliveryTests.deposit(&wire, "kept", to: groupKey.publicKey.id.rawValue, at: relay, from: sender)
        // A personal fetch acknowledging everything must not delete the group's mail.
        #expect(Self.fetch(&wire, groupKey, from: member, to: relay, after: .max, group: false)
            == [.fetchDone(mailbox: groupKey.publicKey.id.rawValue, status: .wrongKind, remaining: 0, sent: 0)])
        #expect(wire.relays[relay]!.mailboxes.depth(of: groupKey.publicKey.id.rawValue) == 1)
        #expect(Self.fetch(&wire, personalKey, from: member, to: relay, after: 0)
            == [.fetchDone(mailbox: personalKey.publicKey.id.rawValue, status: .wrongKind, remaining: 0, sent: 0)])
        #expect(wire.relays[relay]!.counters.relayDrops[.wrongKind] == 2)
        #expect(Self.bodies(Self.fetch(&wire, groupKey, from: member, to: relay, after: 0)) == ["kept"])
    }
}

extension GroupMailboxTests {
    /// A member that knows a group's next mailbox ID registers it as a contact queue of its own
    /// mailbox first: deposits would go to its queue. The group's fetch is refused (wrong kind),
    /// and the store never makes the ID a mailbox too.
    @Test func anIDRegisteredAsAQueueIsNotAMailbox() throws {
        var store = MailboxStore(limits: Self.limits)
        let own = try Bytes32([UInt8](repeating: 1, count: 32))
        _ = store.register(own, now: Self.t0)
        #expect(store.apply([.add(Self.group)], to: own, now: Self.t0).isEmpty)
        let registered = store.register(Self.group, group: true, now: Self.t0)
        #expect(!registered && store.isQueue(Self.group) && !store.isKnown(Self.group))

        var wire = EngineWire()
        _ = wire.addRelay(1)
        let relay = EngineWire.address(1)
        let thief = wire.addClient(9), member = wire.addClient(8)
        let thiefKey = SigningPrivateKey(using: &wire.rng), groupKey = SigningPrivateKey(using: &wire.rng)
        let groupID = groupKey.publicKey.id.rawValue
        let id = wire.relays[relay]!.relayID.rawValue
        wire.send(.fetchChallengeRequest(mailbox: thiefKey.publicKey.id.rawValue), from: thief, to: relay)
        guard case let .fetchChallenge(_, nonce)? = wire.received[thief]?.last else {
            Issue.record("no challenge")
            return
        }
        let ops: [QueueOp] = [.add(groupID)]
        wire.send(.fetchRequest(mailboxKey: thiefKey.publicKey, nonce: nonce, ackThrough: 0,
                                signature: thiefKey.sign(LinkFrame.fetchSignedBytes(relay: id, nonce: nonce, ackThrough: 0, queueOps: ops)),
                                queueOps: ops), from: thief, to: relay)
        #expect(Self.fetch(&wire, groupKey, from: member, to: relay, after: 0)
            == [.fetchDone(mailbox: groupID, status: .wrongKind, remaining: 0, sent: 0)])
    }
}
