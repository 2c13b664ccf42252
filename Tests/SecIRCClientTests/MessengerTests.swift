import Foundation
@testable import SecIRCClient
import SecIRCCore
import SecIRCCrypto
import SecIRCNode
import Testing

/// Two users' messengers talking through the real sealed-packet and fragment layers, with the
/// network replaced by the test: it decides what is lost, reordered, duplicated or delayed.
/// Every behaviour test runs over both stores (memory and SQLite); what only the SQLite store
/// does (sealing, file modes, the key check) is tested for it alone.
@Suite struct MessengerTests {
    let relays: [RelayDescriptor]
    init() throws { relays = try FakeRelays.make(3) }

    /// Alice adds Bob's invite; the introduction reaches Bob, Bob's receipt reaches Alice.
    func introduce(_ store: StoreKind) throws -> (alice: User, bob: User) {
        let alice = try User("alice", relays: relays, store: store)
        let bob = try User("bob", relays: relays, store: store)
        let uri = try bob.invite(now: .t0).uri
        let contact = try alice.messenger.addContact(inviteURI: uri, name: nil, now: .t0, rng: &alice.rng)
        #expect(contact.name == "bob" && contact.session == .initiated && contact.id == bob.id)
        let intro = try alice.drainOutbox(now: .t0)
        #expect(intro.count == 1)
        let receipts = try bob.receive(intro[0], now: .t0)
        #expect(try bob.messenger.contact(id: alice.id)?.session == .established)
        #expect(try bob.messenger.contact(id: alice.id)?.name == "alice")
        #expect(bob.events.contains { if case let .contact(c) = $0 { c.id == alice.id } else { false } })
        #expect(receipts.count == 1)
        try alice.receive(receipts[0], now: .t0)
        #expect(try alice.messenger.contact(id: bob.id)?.session == .established)
        #expect(try alice.messenger.outboxCount() == 0, "the introduction was acknowledged")
        return (alice, bob)
    }

    @Test(arguments: StoreKind.allCases) func messagesBothWaysAreDeliveredAndAcknowledged(store: StoreKind) throws {
        let (alice, bob) = try introduce(store)
        let hello = try alice.queueText(to: bob.id, "hello bob", now: .t0)
        #expect(hello.state == .queued)
        let out = try alice.drainOutbox(now: .t0)
        #expect(try alice.state(of: hello.id) == .sent)
        for receipt in try bob.receive(out[0], now: .t0) { try alice.receive(receipt, now: .t0) }
        #expect(try alice.state(of: hello.id) == .delivered)
        #expect(alice.events.contains(.receipt(id: hello.id, contact: bob.id)))
        #expect(try bob.texts(with: alice.id) == ["hello bob"])

        let reply = try bob.queueText(to: alice.id, "hi alice", now: .t0)
        for receipt in try alice.receive(try bob.drainOutbox(now: .t0)[0], now: .t0) { try bob.receive(receipt, now: .t0) }
        #expect(try bob.state(of: reply.id) == .delivered)
        #expect(try alice.texts(with: bob.id) == ["hello bob", "hi alice"])
    }

    /// Several messages prepared in one transaction (each a ratchet step on the one session):
    /// committed together, they survive a restart and arrive in order.
    @Test(arguments: StoreKind.allCases) func severalMessagesPreparedAtOnceArriveInOrder(store: StoreKind) throws {
        let (alice, bob) = try introduce(store)
        let queued = try ["one", "two", "three"].map { try alice.queueText(to: bob.id, $0, now: .t0) }
        let out = try alice.messenger.prepareSends(try alice.messenger.dueOutbox(now: .t0), now: .t0, rng: &alice.rng).compactMap(\.self)
        #expect(out.map(\.messageID) == queued.map(\.id))
        try alice.reopen()
        #expect(try queued.allSatisfy { try alice.state(of: $0.id) == .sent })
        for packet in out {
            for receipt in try bob.receive(packet, now: .t0) { try alice.receive(receipt, now: .t0) }
        }
        #expect(try bob.texts(with: alice.id) == ["one", "two", "three"])
        #expect(try queued.allSatisfy { try alice.state(of: $0.id) == .delivered })
    }

    @Test(arguments: StoreKind.allCases) func aLostPacketIsSentAgainWithBackoffAndShownOnce(store: StoreKind) throws {
        let (alice, bob) = try introduce(store)
        let message = try alice.queueText(to: bob.id, "are you there?", now: .t0)
        let first = try alice.drainOutbox(now: .t0)
        #expect(first.count == 1)
        #expect(try alice.drainOutbox(now: .t0.plus(seconds: 1)).isEmpty, "not due again before the backoff")
        let second = try alice.drainOutbox(now: .t0.plus(seconds: 2))
        #expect(second.count == 1 && second[0].attempt == 2)
        #expect(second[0].mailbox != first[0].mailbox, "retries alternate between the recipient's mailboxes")
        #expect(try alice.drainOutbox(now: .t0.plus(seconds: 5)).isEmpty, "the next backoff is 4 s")
        #expect(try alice.drainOutbox(now: .t0.plus(seconds: 6)).count == 1)

        // The second attempt arrives first, then the late first one: shown once, acknowledged both times.
        let receipts = try bob.receive(second[0], now: .t0) + bob.receive(first[0], now: .t0)
        #expect(receipts.count == 2)
        #expect(try bob.texts(with: alice.id) == ["are you there?"])
        #expect(bob.events.filter { if case .message = $0 { true } else { false } }.count == 1)
        try alice.receive(receipts[1], now: .t0)
        #expect(try alice.state(of: message.id) == .delivered)
        #expect(try alice.drainOutbox(now: .t0.plus(seconds: 600)).isEmpty, "delivered messages are not sent again")
        // A receipt for a delivered message changes nothing and announces nothing.
        let before = alice.events.count
        try alice.receive(receipts[0], now: .t0)
        #expect(alice.events.count == before)
    }

    @Test(arguments: StoreKind.allCases) func aRetryIsWholeEvenWhenTheFirstAttemptArrivedInPart(store: StoreKind) throws {
        let alice = try User("alice", relays: relays, store: store)
        let bob = try User("bob", relays: relays, store: store)
        _ = try alice.add(bob, now: .t0)
        let first = try alice.drainOutbox(now: .t0)[0]
        let count = try SealedPacket.fragments(of: first.message, transferID: first.transferID).count
        #expect(count >= 2, "a session set-up takes several packets")
        // Only the later fragments of the first attempt arrive; they wait in the reassembler.
        #expect(try bob.receive(first, now: .t0, only: Set(1..<count)).isEmpty)
        let second = try alice.drainOutbox(now: .t0.plus(seconds: 2))[0]
        #expect(try bob.receive(second, now: .t0).count == 1)
        #expect(try bob.messenger.contact(id: alice.id) != nil)
    }

    /// Under loss every attempt of a several-fragment message may lose a fragment: the attempts
    /// are one transfer, so the receiver completes it from fragments of different attempts.
    @Test(arguments: StoreKind.allCases) func fragmentsOfDifferentAttemptsMakeTheMessage(store: StoreKind) throws {
        let alice = try User("alice", relays: relays, store: store)
        let bob = try User("bob", relays: relays, store: store)
        _ = try alice.add(bob, now: .t0)
        let first = try alice.drainOutbox(now: .t0)[0]
        let count = try SealedPacket.fragments(of: first.message, transferID: first.transferID).count
        #expect(count >= 2, "a session set-up takes several packets")
        // Each attempt loses fragments (different ones): no attempt arrives whole.
        #expect(try bob.receive(first, now: .t0, only: Set(1..<count)).isEmpty)
        let second = try alice.drainOutbox(now: .t0.plus(seconds: 2))[0]
        #expect(second.transferID == first.transferID && second.message == first.message)
        #expect(try bob.receive(second, now: .t0, only: [0]).count == 1, "the first attempt's fragments complete it")
        #expect(try bob.messenger.contact(id: alice.id) != nil)
        #expect(bob.reassembler.pendingTransfers == 0)
        // The bytes are re-encrypted only under a new session: then it is another transfer.
        #expect(SealedPacket.transferID(of: first.message + [0]) != first.transferID)
    }

    @Test(arguments: StoreKind.allCases) func reorderedDroppedAndDuplicatedMessagesAllArriveOnce(store: StoreKind) throws {
        let (alice, bob) = try introduce(store)
        let texts = (0..<12).map { "message \($0)" }
        for text in texts { _ = try alice.queueText(to: bob.id, text, now: .t0) }
        var packets = try alice.drainOutbox(now: .t0)
        #expect(packets.count == 12)
        // Lose three, duplicate two, reverse the order; fragments of each arrive backwards too.
        let lost = Set([2, 5, 9])
        var delivered = packets.enumerated().filter { !lost.contains($0.offset) }.map(\.element)
        delivered += [packets[0], packets[7]]
        delivered.reverse()
        for packet in delivered {
            for receipt in try bob.receive(packet, now: .t0, shuffle: true) { try alice.receive(receipt, now: .t0) }
        }
        #expect(try alice.messenger.outboxCount() == 3)
        packets = try alice.drainOutbox(now: .t0.plus(seconds: 2))
        #expect(packets.count == 3)
        for packet in packets {
            for receipt in try bob.receive(packet, now: .t0) { try alice.receive(receipt, now: .t0) }
        }
        #expect(try alice.messenger.outboxCount() == 0)
        #expect(Set(try bob.texts(with: alice.id)) == Set(texts))
        #expect(try bob.texts(with: alice.id).count == 12)
    }

    @Test(arguments: StoreKind.allCases) func aRestartOfEitherSideLosesNothingAndDuplicatesNothing(store: StoreKind) throws {
        let (alice, bob) = try introduce(store)
        let queued = try alice.queueText(to: bob.id, "before the restart", now: .t0)
        // Alice stops before sending: the outbox is on disk.
        try alice.reopen()
        let out = try alice.drainOutbox(now: .t0)
        #expect(out.count == 1 && out[0].messageID == queued.id && out[0].transferID != queued.id)
        // Bob receives, then restarts before his receipt leaves; the relay hands him the packet again.
        _ = try bob.receive(out[0], now: .t0)
        try bob.reopen()
        let receipts = try bob.receive(out[0], now: .t0)
        #expect(try bob.texts(with: alice.id) == ["before the restart"])
        try alice.reopen()
        for receipt in receipts { try alice.receive(receipt, now: .t0) }
        #expect(try alice.state(of: queued.id) == .delivered)
        // The sessions continue after both restarts.
        _ = try bob.queueText(to: alice.id, "after", now: .t0)
        for packet in try bob.drainOutbox(now: .t0) { try alice.receive(packet, now: .t0) }
        #expect(try alice.texts(with: bob.id) == ["before the restart", "after"])
    }

    /// Run with fresh identities each time (which ID is lower is chance), in the same second and
    /// a second apart.
    @Test(arguments: StoreKind.allCases, [0, 0, 0, 0, 0, 0, 1, 1, 1, 1] as [Int64])
    func bothAddingEachOtherAtOnceConvergesOnOneSession(store: StoreKind, bobDelaySeconds: Int64) throws {
        let alice = try User("alice", relays: relays, store: store)
        let bob = try User("bob", relays: relays, store: store)
        _ = try alice.add(bob, now: .t0)
        _ = try bob.add(alice, now: .t0.plus(seconds: bobDelaySeconds))
        _ = try alice.queueText(to: bob.id, "from alice", now: .t0)
        _ = try bob.queueText(to: alice.id, "from bob", now: .t0)
        // Exchange everything until both outboxes are empty (a few rounds of retries).
        var now = UnixTime.t0
        for _ in 0..<6 {
            let fromAlice = try alice.drainOutbox(now: now)
            let fromBob = try bob.drainOutbox(now: now)
            for packet in fromAlice { for receipt in try bob.receive(packet, now: now) { try alice.receive(receipt, now: now) } }
            for packet in fromBob { for receipt in try alice.receive(packet, now: now) { try bob.receive(receipt, now: now) } }
            now = now.plus(seconds: 120)
        }
        #expect(try alice.messenger.outboxCount() == 0 && bob.messenger.outboxCount() == 0)
        #expect(try alice.texts(with: bob.id) == ["from alice", "from bob"] || alice.texts(with: bob.id) == ["from bob", "from alice"])
        #expect(try Set(bob.texts(with: alice.id)) == ["from alice", "from bob"])
        #expect(try alice.messenger.contact(id: bob.id)?.session == .established)
        #expect(try bob.messenger.contact(id: alice.id)?.session == .established)
    }

    @Test(arguments: StoreKind.allCases) func aReplayedSessionSetupIsRefused(store: StoreKind) throws {
        let alice = try User("alice", relays: relays, store: store)
        let bob = try User("bob", relays: relays, store: store)
        _ = try alice.add(bob, now: .t0)
        let intro = try alice.drainOutbox(now: .t0)[0]
        _ = try bob.receive(intro, now: .t0)
        // Bob removes Alice; a replay of the same set-up must not bring back a session.
        try bob.messenger.removeContact(id: alice.id)
        let receipts = try bob.receive(intro, now: .t0)
        #expect(receipts.isEmpty)
        #expect(try bob.messenger.contact(id: alice.id) == nil)
    }

    @Test(arguments: StoreKind.allCases) func invitesThatAreTamperedExpiredOwnOrRepeatedAreRefused(store: StoreKind) throws {
        let alice = try User("alice", relays: relays, store: store)
        let bob = try User("bob", relays: relays, store: store)
        let uri = try bob.invite(now: .t0).uri
        var bytes = Array(uri.utf8)
        bytes[40] = bytes[40] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        #expect(throws: ClientError.self) { try alice.messenger.addContact(inviteURI: String(decoding: bytes, as: UTF8.self), name: nil, now: .t0, rng: &alice.rng) }
        let expired = UnixTime.t0.plus(seconds: Messenger.inviteLifetimeSeconds + 1)
        do {
            _ = try alice.messenger.addContact(inviteURI: uri, name: nil, now: expired, rng: &alice.rng)
            Issue.record("an expired invite was accepted")
        } catch let ClientError.invalidInvite(message) {
            #expect(message.contains("expired"))
        }
        #expect(throws: ClientError.invalidRequest("this is your own invite")) {
            try alice.add(alice, now: .t0)
        }
        #expect(throws: ClientError.self) { try alice.messenger.addContact(inviteURI: "https://example.org", name: nil, now: .t0, rng: &alice.rng) }
        _ = try alice.messenger.addContact(inviteURI: uri, name: "Bobby", now: .t0, rng: &alice.rng)
        #expect(try alice.messenger.contact(id: bob.id)?.name == "Bobby")
        #expect(throws: ClientError.conflict("\(bob.id.hex) is already a contact")) {
            try alice.messenger.addContact(inviteURI: uri, name: nil, now: .t0, rng: &alice.rng)
        }
    }

    @Test(arguments: StoreKind.allCases) func garbageFromTheNetworkIsDroppedWithAReason(store: StoreKind) throws {
        let (alice, _) = try introduce(store)
        var rng = SeededRandom(seed: "garbage")
        for length in [0, 1, 17, 60, 500, 2000] {
            #expect(alice.messenger.receive(rng.bytes(length), now: .t0).dropped != nil)
        }
    }

    @Test func theDatabaseHoldsNoPlaintextAndRefusesAnotherKey() throws {
        let (alice, bob) = try introduce(.sqlite)
        let secret = "the eagle lands at midnight"
        _ = try alice.queueText(to: bob.id, secret, now: .t0)
        for packet in try alice.drainOutbox(now: .t0) { _ = try bob.receive(packet, now: .t0) }
        for user in [alice, bob] {
            let path = user.directory.path + "/" + SQLiteMessengerStore.fileName
            var contents = (try? Data(contentsOf: URL(fileURLWithPath: path))) ?? Data()
            for suffix in ["-wal", "-journal"] { contents += (try? Data(contentsOf: URL(fileURLWithPath: path + suffix))) ?? Data() }
            #expect(contents.count > 0)
            #expect(contents.range(of: Data(secret.utf8)) == nil, "message text is sealed in \(user.name)'s store")
            let seed = user.messenger.identity.keys.signing.seed().unsafeCopy()
            #expect(contents.range(of: Data(seed)) == nil, "the identity key is sealed")
        }
        for suffix in ["", "-wal"] {
            #expect(try KeyFile.permissions(of: alice.directory.path + "/" + SQLiteMessengerStore.fileName + suffix) == 0o600)
        }
        var rng = SystemRandom()
        #expect(throws: ClientError.self) {
            _ = try SQLiteMessengerStore(path: alice.directory.path + "/" + SQLiteMessengerStore.fileName, key: SymmetricKey(using: &rng))
        }
    }

    /// Retries send the same encrypted bytes: days of retries use no ratchet message numbers, so
    /// the receiver (who accepts a gap of at most `DoubleRatchet.maxSkip`) still decrypts.
    @Test(arguments: StoreKind.allCases) func retriesForDaysDoNotUseUpTheRatchet(store: StoreKind) throws {
        let (alice, bob) = try introduce(store)
        _ = try alice.queueText(to: bob.id, "still there?", now: .t0)
        var now = UnixTime.t0
        var attempts: [Outgoing] = []
        for _ in 0..<(DoubleRatchet.maxSkip + 50) {
            attempts += try alice.drainOutbox(now: now)
            now = now.plus(seconds: 3_600)
        }
        #expect(attempts.count == DoubleRatchet.maxSkip + 50)
        #expect(Set(attempts.map(\.message)).count == 1, "the same session message every time")
        #expect(Set(attempts.map(\.transferID)).count == 1, "one transfer: fragments of any attempts complete it")
        for receipt in try bob.receive(attempts.last!, now: now) { try alice.receive(receipt, now: now) }
        #expect(try bob.texts(with: alice.id) == ["still there?"])
        _ = try alice.queueText(to: bob.id, "and now?", now: now)
        for packet in try alice.drainOutbox(now: now) { _ = try bob.receive(packet, now: now) }
        #expect(try bob.texts(with: alice.id) == ["still there?", "and now?"])
    }

    /// A removed contact stays removed against set-ups of its old sessions (replayed, or a
    /// competing one that lost), and comes back with a newer one.
    @Test(arguments: StoreKind.allCases) func aRemovedContactComesBackOnlyWithANewerSession(store: StoreKind) throws {
        let alice = try User("alice", relays: relays, store: store)
        let bob = try User("bob", relays: relays, store: store)
        _ = try alice.add(bob, now: .t0)
        let oldSetup = try alice.drainOutbox(now: .t0)[0]
        for receipt in try bob.receive(oldSetup, now: .t0) { try alice.receive(receipt, now: .t0) }
        try bob.messenger.removeContact(id: alice.id)
        // Alice's session from before is refused (its set-up was seen) ...
        #expect(try bob.receive(oldSetup, now: .t0.plus(seconds: 5)).isEmpty)
        #expect(try bob.messenger.contact(id: alice.id) == nil)
        // ... but when Bob adds Alice again, a new session starts and both sides use it.
        _ = try bob.add(alice, now: .t0.plus(seconds: 10))
        let hello = try bob.queueText(to: alice.id, "sorry, again", now: .t0.plus(seconds: 10))
        for packet in try bob.drainOutbox(now: .t0.plus(seconds: 10)) {
            for receipt in try alice.receive(packet, now: .t0.plus(seconds: 10)) { try bob.receive(receipt, now: .t0.plus(seconds: 10)) }
        }
        #expect(try bob.state(of: hello.id) == .delivered)
        #expect(try alice.texts(with: bob.id) == ["sorry, again"])
    }

    /// Each invite has its own prekeys, retired a day after it expires: a set-up made from an
    /// expired invite (by someone who kept it, or a clock far behind) is refused by its owner too.
    @Test(arguments: StoreKind.allCases) func aSetUpFromAnExpiredInviteIsRefusedByItsOwner(store: StoreKind) throws {
        let alice = try User("alice", relays: relays, store: store)
        let bob = try User("bob", relays: relays, store: store)
        let old = try bob.invite(now: .t0)
        // Bob's invite is renewed when it nears expiry: new prekeys, and the old ones still work for a while.
        let renewed = try bob.invite(now: .t0.plus(seconds: Messenger.inviteLifetimeSeconds - 3_600))
        #expect(renewed.signedPrekeyID != old.signedPrekeyID && renewed.uri != old.uri)
        _ = try alice.messenger.addContact(inviteURI: old.uri, name: nil, now: .t0, rng: &alice.rng)
        let intro = try alice.drainOutbox(now: .t0)[0]
        let late = UnixTime.t0.plus(seconds: Messenger.inviteLifetimeSeconds + PrekeyRing.grace + 1)
        #expect(try bob.receive(intro, now: late).isEmpty, "no receipt: refused")
        #expect(try bob.messenger.contact(id: alice.id) == nil)
        #expect(try bob.receive(intro, now: .t0.plus(seconds: 60)).count == 1, "accepted while the prekeys are in service")
    }

    /// When a mailbox relay leaves the network, the client takes another and tells its contacts
    /// with a signed card; they send to the new mailboxes from then on.
    @Test(arguments: StoreKind.allCases) func contactsLearnOfReplacedMailboxes(store: StoreKind) throws {
        let (alice, bob) = try introduce(store)
        let spare = try FakeRelays.make(1, seed: "spare")
        let gone = bob.messenger.mailboxes[0].relayID
        let listed = relays.filter { $0.id != gone } + spare
        let mailboxes = try bob.messenger.replaceMailboxes(at: [gone], listed: listed, ratings: listed.asDescribed, count: 2, now: .t0, rng: &bob.rng)
        #expect(mailboxes.count == 2 && !mailboxes.contains { $0.relayID == gone })
        let updates = try bob.drainOutbox(now: .t0)
        #expect(updates.count == 1)
        for receipt in try alice.receive(updates[0], now: .t0) { try bob.receive(receipt, now: .t0) }
        #expect(try bob.messenger.outboxCount() == 0)
        // The card names alice's own queues at bob's new mailbox relays, not his mailbox IDs.
        func alicesQueues() throws -> [MailboxAddress] {
            let queues = try bob.messenger.queues(of: alice.id).filter { $0.state == .open }
            return bob.messenger.mailboxes.map { mailbox in
                MailboxAddress(relayID: mailbox.relayID, mailboxID: queues.last { $0.relayID == mailbox.relayID }?.id ?? .zero)
            }
        }
        let expected = try alicesQueues()
        #expect(try alice.messenger.contact(id: bob.id)?.mailboxes == expected)
        #expect(Set(expected.map(\.relayID)) == Set(mailboxes.map(\.relayID)))
        #expect(Set(expected.map(\.mailboxID)).isDisjoint(with: mailboxes.map(\.address.mailboxID)))
        #expect(try alice.texts(with: bob.id).isEmpty, "a card update is not shown as a message")
        _ = try alice.queueText(to: bob.id, "new address?", now: .t0)
        let out = try alice.drainOutbox(now: .t0)
        #expect(expected.contains(out[0].mailbox))

        // A second replacement's card wins; the first one coming again changes nothing.
        let relisted = try listed + FakeRelays.make(1, seed: "later")
        let later = try bob.messenger.replaceMailboxes(at: [mailboxes[0].relayID], listed: relisted, ratings: relisted.asDescribed,
                                                       count: 2, now: .t0.plus(seconds: 60), rng: &bob.rng)
        for packet in try bob.drainOutbox(now: .t0.plus(seconds: 60)) { _ = try alice.receive(packet, now: .t0.plus(seconds: 60)) }
        let newest = try alicesQueues()
        #expect(Set(newest.map(\.relayID)) == Set(later.map(\.relayID)) && newest != expected)
        #expect(try alice.messenger.contact(id: bob.id)?.mailboxes == newest)
        _ = try alice.receive(updates[0], now: .t0.plus(seconds: 61))
        #expect(try alice.messenger.contact(id: bob.id)?.mailboxes == newest)
    }

    /// Each contact gets a deposit queue of its own at each mailbox relay, told in a card inside
    /// the session (the initiator's in its set-up, the responder's in an update); a rotation
    /// sends new ones and keeps the old registered for a grace time; closing stops registering
    /// them and is not undone by the next check; all of it survives a restart.
    @Test(arguments: StoreKind.allCases) func contactsWriteToQueuesOfTheirOwn(store: StoreKind) throws {
        let (alice, bob) = try introduce(store)
        // alice made bob's queues when she added him, and named them in her set-up card.
        let aliceQueues = try alice.messenger.queues(of: bob.id)
        #expect(aliceQueues.count == 2 && aliceQueues.allSatisfy { $0.state == .open })
        #expect(Set(try bob.messenger.contact(id: alice.id)?.mailboxes.map(\.mailboxID) ?? []) == Set(aliceQueues.map(\.id)))
        #expect(try alice.messenger.depositQueues(at: aliceQueues[0].relayID, now: .t0) == [aliceQueues[0].id])

        // bob, the responder, makes alice's on his next check and tells her in a card.
        #expect(try bob.messenger.ensureContactQueues(now: .t0, rng: &bob.rng) == 1)
        #expect(try bob.messenger.ensureContactQueues(now: .t0, rng: &bob.rng) == 0, "once")
        for card in try bob.drainOutbox(now: .t0) { for receipt in try alice.receive(card, now: .t0) { try bob.receive(receipt, now: .t0) } }
        let bobQueues = try bob.messenger.queues(of: alice.id)
        #expect(Set(try alice.messenger.contact(id: bob.id)?.mailboxes.map(\.mailboxID) ?? []) == Set(bobQueues.map(\.id)))
        #expect(Set(bobQueues.map(\.id)).isDisjoint(with: bob.messenger.mailboxes.map(\.address.mailboxID)))

        // A rotation: new queues in a newer card; the old ones stay registered for the grace time.
        let later = UnixTime.t0.plus(seconds: 10)
        let rotated = try bob.messenger.rotateQueues(of: alice.id, now: later, rng: &bob.rng)
        #expect(rotated.count == 4 && rotated.filter { $0.state == .open }.count == 2)
        for card in try bob.drainOutbox(now: later) { _ = try alice.receive(card, now: later) }
        let fresh = Set(rotated.filter { $0.state == .open }.map(\.id))
        #expect(Set(try alice.messenger.contact(id: bob.id)?.mailboxes.map(\.mailboxID) ?? []) == fresh)
        let relay = bob.messenger.mailboxes[0].relayID
        #expect(try bob.messenger.depositQueues(at: relay, now: later).count == 2, "the new one and the old one")
        let afterGrace = later.plus(seconds: Messenger.queueRotationGraceMs / 1_000)
        #expect(try bob.messenger.depositQueues(at: relay, now: afterGrace).count == 1)

        // Closed: nothing registered, and the next check does not make new ones.
        _ = try bob.messenger.closeQueues(of: alice.id)
        #expect(try bob.messenger.depositQueues(at: relay, now: later).isEmpty)
        #expect(try bob.messenger.ensureContactQueues(now: later, rng: &bob.rng) == 0)
        try bob.reopen()
        #expect(try bob.messenger.queues(of: alice.id).allSatisfy { $0.state == .closed }, "kept across a restart")
        #expect(throws: MessengerError.self) { try bob.messenger.rotateQueues(of: ID(rawValue: .zero), now: later, rng: &bob.rng) }
        // Removing the contact removes its queues.
        try alice.messenger.removeContact(id: bob.id)
        #expect(try alice.messenger.queues(of: bob.id).isEmpty)
    }

    /// Strangers holding the invite can add themselves, but only so many an hour; a refused one
    /// gets in with a later retry.
    @Test(arguments: StoreKind.allCases) func newContactsFromSetUpsAreRateLimited(store: StoreKind) throws {
        let bob = try User("bob", relays: relays, store: store)
        let uri = try bob.invite(now: .t0).uri
        var intros: [Outgoing] = []
        for i in 0...Messenger.maximumNewContactsPerHour {
            let stranger = try User("s\(i)", relays: relays, store: store)
            _ = try stranger.messenger.addContact(inviteURI: uri, name: nil, now: .t0, rng: &stranger.rng)
            intros += try stranger.drainOutbox(now: .t0)
        }
        var accepted = 0
        for intro in intros where try !bob.receive(intro, now: .t0).isEmpty { accepted += 1 }
        #expect(accepted == Messenger.maximumNewContactsPerHour)
        #expect(try bob.messenger.contacts().count == Messenger.maximumNewContactsPerHour)
        #expect(try bob.receive(intros.last!, now: .t0.plus(seconds: 3_601)).count == 1, "a retry an hour later gets in")
    }
}
