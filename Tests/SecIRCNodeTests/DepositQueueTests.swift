import SecIRCCore
import SecIRCCrypto
@testable import SecIRCNode
import SecIRCTransport
import Testing

/// Deposit queues on the manual clock, with real relay and client engines: each contact writes to
/// a queue of its own, told inside the end-to-end session; the invite's address serves first
/// contact only and is rate-limited; junk to unknown addresses is bounded per link and expires
/// soon; a relay that forgot the queues gets them again. docs/PROTOCOL.md §4, Deposit queues.
@Suite struct DepositQueueTests {
    /// alice and carol are bob's contacts (from his invite), each has sent him a message, and
    /// every card update has gone both ways.
    static func contacts() throws -> (wire: EngineWire, alice: SocketAddress, bob: SocketAddress, carol: SocketAddress) {
        var (wire, alice, bob) = try ClientEngineTests.network()
        let carol = try wire.addClientEngine(13, roster: wire.relays[EngineWire.address(1)]!.configuration.roster,
                                             sources: ["http://10.0.0.1:6691"])
        wire.advance(by: .seconds(2))
        let invite = try messenger(wire, bob).invite(now: wire.now, rng: &wire.rng)
        for (sender, text) in [(alice, "hi from alice"), (carol, "hi from carol")] {
            _ = try messenger(wire, sender).addContact(inviteURI: invite.uri, name: "bob", now: wire.now, rng: &wire.rng)
            _ = try messenger(wire, sender).queueText(to: messenger(wire, bob).identity.id, text: text, now: wire.now, rng: &wire.rng)
            wire.outboxChanged(sender)
        }
        wire.advance(by: .seconds(15))
        return (wire, alice, bob, carol)
    }

    static func messenger(_ wire: EngineWire, _ client: SocketAddress) -> Messenger { wire.clientEngines[client]!.messenger }

    static func shown(_ wire: EngineWire, _ client: SocketAddress) -> [String] {
        (wire.clientEvents[client] ?? []).compactMap { event -> String? in
            if case let .client(.message(record)) = event { return record.text }
            return nil
        }
    }

    /// The relay engine that holds `relayID`'s mailboxes.
    static func relay(_ wire: EngineWire, _ relayID: ID) -> SocketAddress {
        wire.relays.first { $0.value.relayID == relayID }!.key
    }

    @Test func eachContactWritesToAQueueOfItsOwnThatTheRelayHolds() throws {
        let (wire, alice, bob, carol) = try Self.contacts()
        #expect(Set(Self.shown(wire, bob)) == ["hi from alice", "hi from carol"])
        let bobID = Self.messenger(wire, bob).identity.id
        let bobMailboxes = Self.messenger(wire, bob).mailboxes
        for (contact, name) in [(alice, "alice"), (carol, "carol")] {
            let contactID = Self.messenger(wire, contact).identity.id
            let queues = try Self.messenger(wire, bob).queues(of: contactID)
            #expect(queues.count == 2 && queues.allSatisfy { $0.state == .open }, "one at each of bob's mailbox relays (\(name))")
            // Where the contact writes to bob now: its queues, not bob's mailbox IDs.
            let addresses = try #require(try Self.messenger(wire, contact).contact(id: bobID)).mailboxes
            #expect(Set(addresses.map(\.mailboxID)) == Set(queues.map(\.id)), "\(name) learned its queues from bob's card")
            #expect(Set(addresses.map(\.mailboxID)).isDisjoint(with: bobMailboxes.map(\.address.mailboxID)))
            // And bob writes to the contact's queue for bob.
            let back = try Self.messenger(wire, contact).queues(of: bobID)
            let bobWritesTo = try #require(try Self.messenger(wire, bob).contact(id: contactID)).mailboxes
            #expect(Set(bobWritesTo.map(\.mailboxID)) == Set(back.map(\.id)))
        }
        // Each relay holds bob's two contact queues for his mailbox there, and his loop queue.
        for mailbox in bobMailboxes {
            let engine = wire.relays[Self.relay(wire, mailbox.relayID)]!
            #expect(engine.mailboxes.queues(of: mailbox.address.mailboxID) == 3)
        }
    }

    /// bob is away. carol floods her queue at his relays, a stranger with his old invite floods
    /// the introduction address, and junk goes to random addresses from one link: every limit
    /// is counted, and alice's message is still taken and reaches bob when he comes back.
    @Test func floodsFillOnlyTheirOwnQueuesAndAreCounted() throws {
        var (wire, alice, bob, carol) = try Self.contacts()
        let bobID = Self.messenger(wire, bob).identity.id
        wire.silent.insert(bob)
        let attacker = wire.addClient(66)
        let carolWritesTo = try #require(try Self.messenger(wire, carol).contact(id: bobID)).mailboxes
        for address in carolWritesTo {
            for i in 0..<30 {
                try PushDeliveryTests.deposit(&wire, "junk \(i)", to: address.mailboxID, at: Self.relay(wire, address.relayID), from: attacker)
            }
        }
        for mailbox in Self.messenger(wire, bob).mailboxes {
            for i in 0..<60 {
                try PushDeliveryTests.deposit(&wire, "intro junk \(i)", to: mailbox.address.mailboxID,
                                              at: Self.relay(wire, mailbox.relayID), from: attacker)
            }
            for _ in 0..<100 {
                try PushDeliveryTests.deposit(&wire, "random junk", to: Bytes32 { wire.rng.fill($0) }, at: Self.relay(wire, mailbox.relayID),
                                              from: attacker)
            }
        }
        var drops: [MailboxStore.DropReason: Int] = [:]
        for engine in wire.relays.values { drops.merge(engine.counters.mailboxDrops, uniquingKeysWith: +) }
        // carol's queue holds 10 at each relay (less what it held already); the introduction
        // queue takes a burst of 32 (less what came lately); 64 unclaimed per incoming link.
        #expect(drops[.queueFull, default: 0] >= 2 * 15)
        #expect(drops[.introRate, default: 0] >= 2 * 20)
        #expect(drops[.unclaimedLink] == 2 * 36)

        _ = try Self.messenger(wire, alice).queueText(to: bobID, text: "still here", now: wire.now, rng: &wire.rng)
        wire.outboxChanged(alice)
        wire.advance(by: .seconds(3))
        wire.silent.remove(bob)
        wire.advance(by: .seconds(30))
        #expect(Self.shown(wire, bob).contains("still here"))
    }

    @Test func aRelayThatForgotTheQueuesGetsThemAgain() throws {
        var (wire, alice, bob, _) = try Self.contacts()
        let bobMailbox = Self.messenger(wire, bob).mailboxes[0]
        let relay = Self.relay(wire, bobMailbox.relayID)
        // As after a restart: the relay knows no queue of bob's mailbox.
        _ = wire.relays[relay]!.mailboxes.apply([.clear], to: bobMailbox.address.mailboxID, now: wire.now)
        wire.advance(by: .seconds(25))
        #expect(wire.relays[relay]!.mailboxes.queues(of: bobMailbox.address.mailboxID) == 3)
        #expect(wire.clientEngines[bob]!.status.dropped["queues_resynced"] == 1)
        _ = alice
    }

    @Test func aRotatedQueueReplacesTheOldOneAndAClosedOneTakesNothing() throws {
        var (wire, alice, bob, _) = try Self.contacts()
        let bobID = Self.messenger(wire, bob).identity.id
        let aliceID = Self.messenger(wire, alice).identity.id
        let before = Set(try Self.messenger(wire, bob).queues(of: aliceID).map(\.id))
        let rotated = try Self.messenger(wire, bob).rotateQueues(of: aliceID, now: wire.now, rng: &wire.rng)
        wire.outboxChanged(bob)
        wire.advance(by: .seconds(15))
        let open = Set(rotated.filter { $0.state == .open }.map(\.id))
        #expect(open.count == 2 && open.isDisjoint(with: before))
        let aliceWritesTo = try #require(try Self.messenger(wire, alice).contact(id: bobID)).mailboxes
        #expect(Set(aliceWritesTo.map(\.mailboxID)) == open, "alice writes to the new queues")
        for mailbox in Self.messenger(wire, bob).mailboxes {
            #expect(wire.relays[Self.relay(wire, mailbox.relayID)]!.mailboxes.queues(of: mailbox.address.mailboxID) == 4,
                    "bob's loop queue, carol's, alice's new one and alice's old one (closing within the hour)")
        }
        wire.advance(by: .seconds(3_600))
        for mailbox in Self.messenger(wire, bob).mailboxes {
            #expect(wire.relays[Self.relay(wire, mailbox.relayID)]!.mailboxes.queues(of: mailbox.address.mailboxID) == 3)
        }

        _ = try Self.messenger(wire, bob).closeQueues(of: aliceID)
        wire.outboxChanged(bob)
        wire.advance(by: .seconds(15))
        for mailbox in Self.messenger(wire, bob).mailboxes {
            #expect(wire.relays[Self.relay(wire, mailbox.relayID)]!.mailboxes.queues(of: mailbox.address.mailboxID) == 2, "carol's and the loop queue")
        }
        let held = wire.relays.values.map(\.counters.unclaimedDeposits).reduce(0, +)
        _ = try Self.messenger(wire, alice).queueText(to: bobID, text: "closed out", now: wire.now, rng: &wire.rng)
        wire.outboxChanged(alice)
        wire.advance(by: .seconds(1))
        #expect(wire.relays.values.map(\.counters.unclaimedDeposits).reduce(0, +) > held, "a closed queue is no address")
        #expect(!Self.shown(wire, bob).contains("closed out"))
    }

    /// One link session makes at most 8 mailboxes known; the store holds at most `maxQueues`
    /// queues in all, whatever the mailboxes.
    @Test func registrationsAreBoundedPerSessionAndQueuesInAll() throws {
        var wire = EngineWire()
        _ = wire.addRelay(1) { $0.mailbox.maxQueues = 3 }
        let relay = EngineWire.address(1)
        let client = wire.addClient(9)
        var statuses: [FetchStatus] = []
        for _ in 0..<9 {
            let frames = PushDeliveryTests.subscribe(&wire, SigningPrivateKey(using: &wire.rng), from: client, to: relay, subscribe: false)
            if case let .fetchDone(_, status, _, _, _, _)? = frames.last { statuses.append(status) }
        }
        #expect(statuses == Array(repeating: .ok, count: 8) + [.full])
        #expect(wire.relays[relay]!.counters.relayDrops[.registrationLimit] == 1)
        #expect(wire.relays[relay]!.counters.mailboxes == 8)

        var store = MailboxStore(limits: MailboxStore.Limits(ttl: .seconds(60), maxMessagesPerQueue: 1, maxQueues: 3, maxMailboxes: 2,
                                                             maxTotalBytes: 1 << 20))
        let (a, b) = (Bytes32 { wire.rng.fill($0) }, Bytes32 { wire.rng.fill($0) })
        _ = store.register(a, now: wire.now)
        _ = store.register(b, now: wire.now)
        let first = store.apply([.add(Bytes32 { wire.rng.fill($0) }), .add(Bytes32 { wire.rng.fill($0) })], to: a, now: wire.now)
        let second = store.apply([.add(Bytes32 { wire.rng.fill($0) }), .add(Bytes32 { wire.rng.fill($0) })], to: b, now: wire.now)
        #expect(first.isEmpty && second == [.queueLimit])
        #expect(store.queueCount == 3)
    }
}
