import SecIRCCore
import SecIRCCrypto
import SecIRCNode
import Testing

/// Every messenger operation is one transaction: a crash at any store operation inside it leaves
/// the store exactly as before (and the messenger's copy of the mailboxes in step with it).
@Suite struct MessengerCrashTests {
    /// Runs `operation` on copies of `peer`'s committed state, crashing at the 1st, 2nd, ... store
    /// operation until it gets through; after each crash the state must be what it was. Then runs
    /// it on `peer` for real and returns its result.
    @discardableResult
    func expectAtomic<T>(_ peer: Peer, contacts: [ID], _ what: Comment,
                         _ operation: (Messenger, inout SeededRandom) throws -> T) throws -> T {
        let memory = try #require(peer.store as? MemoryMessengerStore)
        let before = memory.snapshot
        let expected = try MemoryMessengerStoreTests.view(MemoryMessengerStore(before), contacts: contacts)
        var crashes = 0
        for k in 1...500 {
            let trial = CrashingStore(MemoryMessengerStore(before))
            var rng = SeededRandom(seed: "crash \(k)")
            let messenger = try Messenger(store: trial, displayName: peer.name, retry: peer.messenger.retry,
                                          policy: peer.messenger.policy, rng: &rng)
            trial.arm(crashAt: k)
            _ = try? operation(messenger, &rng)
            guard trial.hasCrashed else { break }
            crashes += 1
            #expect(try MemoryMessengerStoreTests.view(trial.inner, contacts: contacts) == expected, "\(what): crash at operation \(k)")
            #expect(try messenger.mailboxes.map(\.address) == trial.inner.read { try $0.mailboxKeys() }.map(\.address),
                    "\(what): the messenger's mailboxes after a crash at operation \(k)")
        }
        #expect(crashes > 0, "\(what) uses the store")
        return try operation(peer.messenger, &peer.rng)
    }

    @Test func everyStepOfAConversationIsAtomic() throws {
        let alice = try Peer("alice", relays: [])
        let bob = try Peer("bob")
        let relays = TestRelays.make(3)
        let ids = [alice.id, bob.id]
        try expectAtomic(alice, contacts: ids, "choose mailboxes") { m, rng in try m.chooseMailboxes(from: relays, ratings: relays.asDescribed, count: 2, rng: &rng) }
        let invite = try expectAtomic(bob, contacts: ids, "invite") { m, rng in try m.invite(now: .t0, rng: &rng) }
        try expectAtomic(alice, contacts: ids, "add contact") { m, rng in
            try m.addContact(inviteURI: invite.uri, name: nil, now: .t0, rng: &rng)
        }
        let due = try alice.messenger.dueOutbox(now: .t0)
        let intro = try #require(try expectAtomic(alice, contacts: ids, "prepare send") { m, rng in try m.prepareSend(due[0], now: .t0, rng: &rng) })
        let received = try expectAtomic(bob, contacts: ids, "receive a set-up") { m, _ in m.receive(intro.message, now: .t0) }
        #expect(received.dropped == nil && received.receipt != nil)
        let receipt = try #require(try expectAtomic(bob, contacts: ids, "prepare receipt") { m, rng in
            try m.prepareReceipt(to: alice.id, ids: [intro.messageID], now: .t0, rng: &rng)
        })
        try expectAtomic(alice, contacts: ids, "receive a receipt") { m, _ in m.receive(receipt.message, now: .t0) }
        #expect(try alice.messenger.outboxCount() == 0)
        let text = try expectAtomic(bob, contacts: ids, "queue a text") { m, rng in try m.queueText(to: alice.id, text: "hi", now: .t0, rng: &rng) }
        let packet = try #require(try bob.messenger.prepareSend(text, now: .t0, rng: &bob.rng))
        try expectAtomic(alice, contacts: ids, "receive a text") { m, _ in m.receive(packet.message, now: .t0) }
        #expect(try alice.texts(with: bob.id) == ["hi"])
        let gone = bob.messenger.mailboxes[0].relayID
        try expectAtomic(bob, contacts: ids, "replace mailboxes") { m, rng in
            try m.replaceMailboxes(at: [gone], listed: relays + TestRelays.make(1, seed: "spare"), ratings: (relays + TestRelays.make(1, seed: "spare")).asDescribed, count: 2, now: .t0.plus(seconds: 1), rng: &rng)
        }
        let card = try #require(try bob.drainOutbox(now: .t0.plus(seconds: 1)).first)
        try expectAtomic(alice, contacts: ids, "receive a card update") { m, _ in m.receive(card.message, now: .t0.plus(seconds: 1)) }
        // The card names alice's own queues at bob's (new) mailbox relays.
        let queues = try bob.messenger.queues(of: alice.id)
        let expected = bob.messenger.mailboxes.map { mailbox in
            MailboxAddress(relayID: mailbox.relayID, mailboxID: queues.first { $0.relayID == mailbox.relayID }?.id ?? .zero)
        }
        #expect(try alice.messenger.contact(id: bob.id)?.mailboxes == expected)
        try expectAtomic(alice, contacts: ids, "rename") { m, _ in try m.renameContact(id: bob.id, to: "Bobby") }
        try expectAtomic(alice, contacts: ids, "remove a contact") { m, _ in try m.removeContact(id: bob.id) }
        #expect(try alice.messenger.contact(id: bob.id) == nil && alice.messenger.outboxCount() == 0)
    }

    /// Several due messages prepared in one transaction: a crash anywhere in it prepares none
    /// (all still due, no ratchet step kept); once through, each arrives, in order.
    @Test func preparingSeveralMessagesAtOnceIsAtomic() throws {
        let alice = try Peer("alice")
        let bob = try Peer("bob")
        _ = try alice.add(bob)
        try alice.exchange(with: bob, now: .t0)
        let ids = [alice.id, bob.id]
        for text in ["one", "two", "three"] { _ = try alice.messenger.queueText(to: bob.id, text: text, now: .t0, rng: &alice.rng) }
        let due = try alice.messenger.dueOutbox(now: .t0)
        #expect(due.count == 3)
        let prepared = try expectAtomic(alice, contacts: ids, "prepare three sends") { m, rng in
            try m.prepareSends(due, now: .t0, rng: &rng)
        }
        #expect(prepared.count == 3 && prepared.allSatisfy { $0?.attempt == 1 })
        for outgoing in prepared.compactMap(\.self) {
            for receipt in try bob.receive(outgoing, now: .t0) { try alice.receive(receipt, now: .t0) }
        }
        #expect(try bob.texts(with: alice.id) == ["one", "two", "three"])
        #expect(try alice.messenger.outboxCount() == 0)
    }

    @Test func makingTheIdentityIsAtomic() throws {
        for k in 1...10 {
            let trial = CrashingStore(MemoryMessengerStore())
            trial.arm(crashAt: k)
            var rng = SeededRandom(seed: "identity")
            let made = try? Messenger(store: trial, displayName: "x", retry: RetrySchedule(initialMs: 1, maximumMs: 1),
                                     policy: .autoAccept, rng: &rng)
            if !trial.hasCrashed {
                #expect(made != nil)
                break
            }
            #expect(try trial.inner.read { try $0.identity() } == nil)
        }
    }
}
