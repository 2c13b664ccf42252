import SecIRCCore
import SecIRCCrypto
import SecIRCNode
import Testing

/// Consent (docs/PROTOCOL.md §8): a session set-up from an unknown identity is a contact request
/// the user accepts or rejects; nothing it sends is shown before; what it may hold is bounded.
@Suite struct ContactRequestTests {
    static func isRequest(_ event: ClientEvent) -> Bool { if case .request = event { true } else { false } }
    static func isContact(_ event: ClientEvent) -> Bool { if case .contact = event { true } else { false } }
    static func isMessage(_ event: ClientEvent) -> Bool { if case .message = event { true } else { false } }

    /// Delivers everything `from` has due to `to`, and `to`'s receipts back.
    static func deliver(_ from: Peer, to: Peer, now: UnixTime = .t0) throws {
        for packet in try from.drainOutbox(now: now) {
            for receipt in try to.receive(packet, now: now) { try from.receive(receipt, now: now) }
        }
    }

    @Test func aStrangersSetUpIsARequestShownOnlyOnceAccepted() throws {
        let alice = try Peer("alice")
        let bob = try Peer("bob", policy: .ask)
        _ = try alice.add(bob)
        try Self.deliver(alice, to: bob)
        let request = try #require(try bob.messenger.contact(id: alice.id))
        #expect(request.consent == .requested && request.name == "alice")
        #expect(bob.events.contains(where: Self.isRequest) && !bob.events.contains(where: Self.isContact))

        _ = try alice.messenger.queueText(to: bob.id, text: "hi bob", now: .t0, rng: &alice.rng)
        try Self.deliver(alice, to: bob)
        #expect(!bob.events.contains(where: Self.isMessage), "nothing a request sends is announced")
        #expect(try bob.texts(with: alice.id).isEmpty && bob.messenger.conversationSummaries().isEmpty)
        #expect(try alice.messenger.messages(with: bob.id, before: nil, limit: 10).messages.last?.state == .delivered,
                "a request's messages are acknowledged (receipts are all it gets)")
        let id = try #require(try alice.messenger.messages(with: bob.id, before: nil, limit: 10).messages.last?.id)
        #expect(try bob.messenger.message(id: id) == nil)
        #expect(throws: MessengerError.self) { try bob.messenger.queueText(to: alice.id, text: "no", now: .t0, rng: &bob.rng) }
        #expect(throws: MessengerError.self) { try bob.messenger.rotateQueues(of: alice.id, now: .t0, rng: &bob.rng) }
        let queuesBefore = try bob.messenger.ensureContactQueues(now: .t0, rng: &bob.rng)
        #expect(queuesBefore == 0, "a request gets no queues")

        let (accepted, held) = try bob.messenger.acceptContact(id: alice.id)
        #expect(accepted.consent == .accepted && held.map(\.text) == ["hi bob"])
        #expect(try bob.texts(with: alice.id) == ["hi bob"] && bob.messenger.conversationSummaries()[alice.id]?.count == 1)
        #expect(try bob.messenger.message(id: id)?.text == "hi bob")
        let queuesAfter = try bob.messenger.ensureContactQueues(now: .t0, rng: &bob.rng)
        #expect(queuesAfter == 1, "accepted: its queues, told in a card")
        _ = try bob.messenger.queueText(to: alice.id, text: "hi alice", now: .t0, rng: &bob.rng)
        try Self.deliver(bob, to: alice)
        #expect(try alice.texts(with: bob.id) == ["hi bob", "hi alice"])
        let again = try bob.messenger.acceptContact(id: alice.id)
        #expect(again.contact.consent == .accepted && again.messages.isEmpty, "accepting twice changes nothing")
    }

    @Test func rejectingDeletesEverythingAndBlocksUntilAdded() throws {
        let alice = try Peer("alice")
        let bob = try Peer("bob", policy: .ask)
        _ = try alice.add(bob)
        _ = try alice.messenger.queueText(to: bob.id, text: "let me in", now: .t0, rng: &alice.rng)
        try Self.deliver(alice, to: bob)
        #expect(throws: MessengerError.self) { try bob.messenger.rejectContact(id: bob.id, now: .t0) }
        try bob.messenger.rejectContact(id: alice.id, now: .t0)
        #expect(try bob.messenger.contacts().isEmpty && bob.messenger.outboxCount() == 0)
        let sent = try #require(try alice.messenger.messages(with: bob.id, before: nil, limit: 5).messages.last)
        #expect(try bob.messenger.message(id: sent.id) == nil)

        // A new set-up from alice (she removed bob and added him again) is refused.
        try alice.messenger.removeContact(id: bob.id)
        _ = try alice.add(bob, now: .t0.plus(seconds: 10))
        try Self.deliver(alice, to: bob, now: .t0.plus(seconds: 10))
        #expect(try bob.messenger.contacts().isEmpty)
        #expect(bob.refusals.contains("blocked"))

        // Bob adds alice from her invite: the block is lifted, and she is a contact.
        _ = try bob.add(alice, now: .t0.plus(seconds: 20))
        #expect(try bob.messenger.contact(id: alice.id)?.consent == .accepted)
    }

    @Test func rejectingAnAcceptedContactIsRefused() throws {
        let alice = try Peer("alice")
        let bob = try Peer("bob", policy: .ask)
        _ = try bob.add(alice)
        #expect(throws: MessengerError.conflict("alice is no contact request: remove it instead")) {
            try bob.messenger.rejectContact(id: alice.id, now: .t0)
        }
    }

    @Test func addingSomeoneWhoseRequestWaitsAcceptsIt() throws {
        let alice = try Peer("alice")
        let bob = try Peer("bob", policy: .ask)
        _ = try alice.add(bob)
        try Self.deliver(alice, to: bob)
        let added = try bob.add(alice)
        #expect(added.consent == .accepted && added.session == .established)
        #expect(try bob.messenger.contacts().count == 1)
    }

    @Test func whatARequestHoldsIsBounded() throws {
        let alice = try Peer("alice")
        let bob = try Peer("bob", policy: ContactPolicy(autoAccept: false, maximumMessagesPerRequest: 3))
        _ = try alice.add(bob)
        for text in ["one", "two", "three"] { _ = try alice.messenger.queueText(to: bob.id, text: text, now: .t0, rng: &alice.rng) }
        try Self.deliver(alice, to: bob)
        #expect(bob.refusals == ["request_full"], "the introduction and two texts fit; the third is refused")
        #expect(try alice.messenger.outboxCount() == 1, "unacknowledged: it is sent again")
        let (_, held) = try bob.messenger.acceptContact(id: alice.id)
        #expect(held.map(\.text) == ["one", "two"])
        try Self.deliver(alice, to: bob, now: .t0.plus(seconds: 3600))
        #expect(try bob.texts(with: alice.id) == ["one", "two", "three"], "once accepted, the retry gets in")
        #expect(try alice.messenger.outboxCount() == 0)
    }

    @Test func aRequestsBytesAreBounded() throws {
        let alice = try Peer("alice")
        let bob = try Peer("bob", policy: ContactPolicy(autoAccept: false, maximumBytesPerRequest: 1000))
        _ = try alice.add(bob)
        _ = try alice.messenger.queueText(to: bob.id, text: String(repeating: "a", count: 600), now: .t0, rng: &alice.rng)
        _ = try alice.messenger.queueText(to: bob.id, text: String(repeating: "b", count: 600), now: .t0, rng: &alice.rng)
        try Self.deliver(alice, to: bob)
        #expect(bob.refusals == ["request_full"])
        #expect(try bob.messenger.contact(id: alice.id)?.isRequest == true)
    }

    @Test func pendingRequestsAreBounded() throws {
        let bob = try Peer("bob", policy: ContactPolicy(autoAccept: false, maximumPendingRequests: 2))
        for name in ["s1", "s2", "s3"] {
            let stranger = try Peer(name)
            _ = try stranger.add(bob)
            try Self.deliver(stranger, to: bob)
        }
        #expect(try bob.messenger.contacts().count == 2)
        #expect(bob.refusals == ["request_limit"])
        // Answering one makes room.
        let first = try #require(try bob.messenger.contacts().first)
        try bob.messenger.rejectContact(id: first.id, now: .t0)
        let fourth = try Peer("s4")
        _ = try fourth.add(bob)
        try Self.deliver(fourth, to: bob)
        #expect(try bob.messenger.contact(id: fourth.id)?.isRequest == true)
    }

    @Test func autoAcceptMakesContactsAtOnce() throws {
        let alice = try Peer("alice")
        let bob = try Peer("bob", policy: .autoAccept)
        _ = try alice.add(bob)
        _ = try alice.messenger.queueText(to: bob.id, text: "hi", now: .t0, rng: &alice.rng)
        try Self.deliver(alice, to: bob)
        #expect(try bob.messenger.contact(id: alice.id)?.consent == .accepted)
        #expect(bob.events.contains(where: Self.isContact) && bob.events.contains(where: Self.isMessage))
        #expect(!bob.events.contains(where: Self.isRequest))
    }

    @Test func theHourlyLimitHoldsForRequestsAndIsCounted() throws {
        let bob = try Peer("bob", policy: ContactPolicy(autoAccept: false, newContactLimit: NewContactLimit(maximum: 2)))
        for name in ["h1", "h2", "h3"] {
            let stranger = try Peer(name)
            _ = try stranger.add(bob)
            try Self.deliver(stranger, to: bob)
        }
        #expect(try bob.messenger.contacts().count == 2 && bob.refusals == ["new_contact_limit"])
    }

    @Test func aStrangersNameNeverTakesAContactsName() throws {
        let carol = try Peer("carol")
        let bob = try Peer("bob", policy: .ask)
        _ = try bob.messenger.addContact(inviteURI: carol.messenger.invite(now: .t0, rng: &carol.rng).uri, name: "alice", now: .t0,
                                         rng: &bob.rng)
        let stranger = try Peer("alice") // calls itself "alice" in its card
        _ = try stranger.add(bob)
        try Self.deliver(stranger, to: bob)
        #expect(try bob.messenger.contact(id: stranger.id)?.name == "alice (2)")
        #expect(try bob.messenger.contact(id: carol.id)?.name == "alice")
    }

    @Test func aOneTimeInviteMakesAContactWithoutARequestOnce() throws {
        let alice = try Peer("alice")
        let bob = try Peer("bob", policy: .ask)
        let invite = try bob.messenger.oneTimeInvite(now: .t0, rng: &bob.rng)
        _ = try alice.messenger.addContact(inviteURI: invite.uri, name: "bob", now: .t0, rng: &alice.rng)
        _ = try alice.messenger.queueText(to: bob.id, text: "you asked me", now: .t0, rng: &alice.rng)
        try Self.deliver(alice, to: bob)
        let contact = try #require(try bob.messenger.contact(id: alice.id))
        #expect(contact.consent == .invited && !contact.isRequest)
        #expect(bob.events.contains(where: Self.isContact) && bob.events.contains(where: Self.isMessage))
        #expect(try bob.texts(with: alice.id) == ["you asked me"])
        #expect(try bob.store.read { try $0.prekeyRing() }.entries.allSatisfy { !$0.oneTime }, "the invite answered its one set-up")

        // Someone else with the same invite gets nowhere: its prekeys are gone.
        let carol = try Peer("carol")
        _ = try carol.messenger.addContact(inviteURI: invite.uri, name: "bob", now: .t0, rng: &carol.rng)
        try Self.deliver(carol, to: bob)
        #expect(try bob.messenger.contact(id: carol.id) == nil)
    }

    @Test func strangersCannotUseUpTheBudgetOfThoseInvited() throws {
        let bob = try Peer("bob", policy: ContactPolicy(autoAccept: false, newContactLimit: NewContactLimit(maximum: 2)))
        for name in ["x1", "x2", "x3"] {
            let stranger = try Peer(name)
            _ = try stranger.add(bob)
            try Self.deliver(stranger, to: bob)
        }
        #expect(bob.refusals == ["new_contact_limit"], "the strangers' budget is used up")
        var invited: [Peer] = []
        for name in ["dave", "erin", "frank"] {
            let friend = try Peer(name)
            _ = try friend.messenger.addContact(inviteURI: bob.messenger.oneTimeInvite(now: .t0, rng: &bob.rng).uri, name: nil,
                                                now: .t0, rng: &friend.rng)
            try Self.deliver(friend, to: bob)
            invited.append(friend)
        }
        #expect(try invited.allSatisfy { try bob.messenger.contact(id: $0.id)?.consent == .invited })
        #expect(bob.refusals == ["new_contact_limit"])
        let recent = try bob.store.read { try $0.countSelfStartedContacts(addedAfterMs: 0) }
        #expect(recent == 2, "those invited do not count against the strangers")
    }

    /// As `ClientEngine.receiveBody` does: each fragment in the room the messenger names.
    @Test func aStrangersFloodOfPartialTransfersDoesNotEvictAContactsHalfReceivedMessage() throws {
        let alice = try Peer("alice")
        let bob = try Peer("bob", policy: .ask)
        _ = try alice.add(bob)
        try Self.deliver(alice, to: bob)
        _ = try bob.messenger.acceptContact(id: alice.id)
        let long = String(repeating: "long message ", count: 120) // several fragments
        _ = try alice.messenger.queueText(to: bob.id, text: long, now: .t0, rng: &alice.rng)
        let packet = try #require(try alice.drainOutbox(now: .t0).first)
        let fragments = try SealedPacket.fragments(of: packet.message, transferID: packet.transferID)
        #expect(fragments.count >= 3)
        var reassembler = Reassembler()
        for fragment in fragments.dropLast() {
            #expect(try reassembler.add(fragment, room: bob.messenger.reassemblyRoom(for: fragment), now: .t0) == nil)
        }
        #expect(bob.messenger.reassemblyRoom(for: fragments[0]) == .contact(alice.id))
        #expect(bob.messenger.reassemblyRoom(for: fragments[1]) == .shared, "only a first fragment names its sender")

        // A stranger (its first fragments name it, or nobody) floods far more partial transfers than the shared room holds.
        var rng = SeededRandom(seed: "flood")
        let stranger = SigningPrivateKey(using: &rng).publicKey
        for i in 0..<600 {
            let header = [SessionMessage.currentVersion, SessionMessage.ratchetType] + [UInt8](repeating: UInt8(i % 256), count: 16)
                + stranger.rawValue.bytes
            let junk = header + [UInt8](repeating: 0, count: 1500)
            let flood = try SealedPacket.fragments(of: junk, transferID: MessageID(using: &rng))
            let fragment = flood[i % 2] // first fragments naming the stranger, and later ones naming nobody
            #expect(try reassembler.add(fragment, room: bob.messenger.reassemblyRoom(for: fragment), now: .t0) == nil)
        }
        #expect(reassembler.evictedTransfers == 600 - reassembler.maxTransfers)
        let last = try #require(fragments.last)
        let whole = try #require(try reassembler.add(last, room: bob.messenger.reassemblyRoom(for: last), now: .t0))
        let received = bob.messenger.receive(whole, now: .t0)
        #expect(received.events.contains { if case let .message(record) = $0 { record.text == long } else { false } })
    }

    @Test func oneTimePairsAreKeptApartFromTheLongLivedOnes() {
        var rng = SeededRandom(seed: "ring")
        var ring = PrekeyRing()
        for _ in 0..<20 { _ = ring.rotate(expiry: UnixTime.t0.seconds + 3600, now: .t0, rng: &rng) }
        for _ in 0..<70 { _ = ring.rotate(expiry: UnixTime.t0.seconds + 3600, now: .t0, oneTime: true, rng: &rng) }
        #expect(ring.entries.count(where: { !$0.oneTime }) == PrekeyRing.maximumEntries)
        #expect(ring.entries.count(where: \.oneTime) == PrekeyRing.maximumOneTimeEntries)
        let lasting = ring.entries.first { !$0.oneTime }!.prekeys
        let once = ring.entries.first(where: \.oneTime)!.prekeys
        ring.consume(signedPrekeyID: lasting.signedPrekeyID, pqPrekeyID: lasting.pqPrekeyID)
        ring.consume(signedPrekeyID: once.signedPrekeyID, pqPrekeyID: once.pqPrekeyID)
        #expect(ring.entries.count == PrekeyRing.maximumEntries + PrekeyRing.maximumOneTimeEntries - 1,
                "only the one-time pair is consumed")
    }

    @Test(arguments: [
        ("alice", [String](), "alice"),
        ("alice", ["alice"], "alice (2)"),
        ("alice", ["Alice"], "alice (2)"),
        ("alice", ["alice", "alice (2)"], "alice (3)"),
        ("bob", ["alice"], "bob"),
        (String(repeating: "x", count: 64), [String(repeating: "x", count: 64)], String(repeating: "x", count: 60) + " (2)"),
    ])
    func distinctNames(_ name: String, _ taken: [String], _ expected: String) {
        #expect(DisplayName.distinct(name, from: taken) == expected)
        #expect(DisplayName.distinct(name, from: taken).count <= DisplayName.maximumLength)
    }
}
