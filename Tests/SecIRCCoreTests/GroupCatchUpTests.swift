import SecIRCCore
import SecIRCCrypto
import Testing

/// A member that missed two membership changes (§7.10, catching up): it cannot hear the group
/// through the channel any more; an admin's catch-up, handed over pairwise, moves it to the
/// group's epoch, its roster follows through the channel, and nothing shows twice.
@Suite struct GroupCatchUpTests {
    typealias Network = GroupSessionTests.Network
    static let alice = GroupSessionTests.alice, bob = GroupSessionTests.bob, carol = GroupSessionTests.carol
    static let dave = GroupSessionTests.dave, erin = GroupSessionTests.person("erin")
    static let t0 = GroupSessionTests.t0

    /// alice (admin), bob, carol and dave; dave goes offline while alice removes carol and adds
    /// erin (two new epochs), and bob posts in the last; what was posted in dave's epoch's
    /// mailbox while he was away is lost.
    static func daveFallsBehind() throws -> (Network, GroupSession) {
        var net = Network(seed: "catch up")
        try net.create(admin: alice, others: [bob, carol, dave])
        net.people[erin.signing.publicKey] = erin
        net.settle()
        try net.post(dave.signing.publicKey, "d1")
        try net.post(bob.signing.publicKey, "b1")
        net.settle()
        let removed = net.sessions.removeValue(forKey: dave.signing.publicKey)
        let offline = try #require(removed)
        try net.act(alice.signing.publicKey) { session, rng in try session.remove(carol.signing.publicKey, now: t0, rng: &rng) }
        net.settle()
        try net.act(alice.signing.publicKey) { session, rng in
            try session.add(GroupSessionTests.identity(erin), now: t0, rng: &rng)
        }
        net.settle()
        try net.post(bob.signing.publicKey, "b2")
        net.settle()
        // The mail dave has not read of his epoch's mailbox is gone (its relays restarted, or it
        // expired): the rekey out of it with it.
        let mailbox = offline.epoch.mailboxID, read = net.cursors[dave.signing.publicKey]?[mailbox] ?? 0
        net.mailboxes[mailbox] = Array((net.mailboxes[mailbox] ?? []).prefix(read))
        return (net, offline)
    }

    @Test func aMemberTwoEpochsBehindCatchesUpAndShowsNothingTwice() throws {
        var (net, offline) = try Self.daveFallsBehind()
        let dave = Self.dave.signing.publicKey, alice = Self.alice.signing.publicKey
        net.sessions[dave] = offline
        net.recover(rounds: 6)
        #expect(net.sessions[dave]!.epoch.number == 0, "through the channel alone dave stays behind")
        let group = net.sessions[alice]!
        #expect(group.epoch.number == 2)
        let ticket = try #require(group.catchUpTicket)
        #expect(net.sessions[Self.bob.signing.publicKey]!.catchUpTicket == nil, "only an admin answers")

        var moved = false
        net.act(dave) { session, rng in
            let output = session.catchUp(ticket, from: alice, now: Self.t0, rng: &rng)
            moved = output != nil
            return output ?? GroupSession.Output()
        }
        #expect(moved)
        #expect(net.sessions[dave]!.epoch.number == 2 && net.sessions[dave]!.catchUpSerial == group.roster.serial)
        #expect(net.lastDeposits >= 1, "a forced request in the new mailbox")
        net.recover(rounds: 6)
        let caught = net.sessions[dave]!
        #expect(caught.roster.serial == group.roster.serial && caught.roster.hash == group.roster.hash)
        #expect(caught.catchUpSerial == nil && caught.canPost, "the roster came: nothing awaited")
        #expect(caught.roster.members[Self.carol.signing.publicKey] == nil && caught.roster.members[Self.erin.signing.publicKey] != nil)

        try net.post(dave, "d2")
        try net.post(Self.bob.signing.publicKey, "b3")
        net.recover(rounds: 6)
        for member in [alice, Self.bob.signing.publicKey, Self.erin.signing.publicKey] {
            #expect(net.texts(member).contains("d2"), "dave's post after catching up is read by all")
        }
        let texts = net.texts(dave)
        #expect(texts.contains("b2") && texts.contains("b3"), "the posts of the epoch it was given")
        #expect(Set(texts).count == texts.count, "nothing shown twice: \(texts)")
        #expect(net.sessions[dave]!.epoch.number == 2)
        // A copy of the catch-up again (a repeat, or an older one) changes nothing.
        var again = net.sessions[dave]!
        #expect(again.catchUp(ticket, from: alice, now: Self.t0, rng: &net.rng) == nil)
    }

    /// One epoch behind (an admin answered a question while the member could still have heard
    /// the rekey): the catch-up's previous epoch is the member's own, which it keeps — its
    /// chains there, and its posts there are still answered. Dave's post in his old epoch, lost
    /// on the way, is learnt of from the chain he announces at once and is asked for and shown.
    @Test func aMemberOneEpochBehindKeepsItsOwnEpochAndItsPostThereIsNotLost() throws {
        var net = Network(seed: "one behind")
        let alice = Self.alice.signing.publicKey, bob = Self.bob.signing.publicKey, dave = Self.dave.signing.publicKey
        try net.create(admin: Self.alice, others: [Self.bob, Self.carol, Self.dave])
        net.settle()
        try net.post(bob, "b1")
        net.settle()
        let removed = net.sessions.removeValue(forKey: dave)
        let offline = try #require(removed)
        try net.act(alice) { session, rng in try session.remove(Self.carol.signing.publicKey, now: Self.t0, rng: &rng) }
        net.settle()
        let epoch0 = offline.epoch.mailboxID
        // dave, back, posts in his epoch; the post is lost on the way, and so is what he had not
        // read of his epoch's mailbox (the rekey).
        net.sessions[dave] = offline
        let before = net.mailboxes[epoch0]?.count ?? 0
        try net.post(dave, "d1")
        net.mailboxes[epoch0] = Array((net.mailboxes[epoch0] ?? []).prefix(min(before, net.cursors[dave]?[epoch0] ?? 0)))
        let ticket = try #require(net.sessions[alice]!.catchUpTicket)
        #expect(ticket.epoch.number == 1 && ticket.previousEpoch?.number == 0)

        var output: GroupSession.Output?
        net.act(dave) { session, rng in
            output = session.catchUp(ticket, from: alice, now: Self.t0, rng: &rng)
            return output ?? GroupSession.Output()
        }
        let moved = try #require(output)
        let caught = net.sessions[dave]!
        #expect(caught.epoch.number == 1 && caught.fetchKeys.map(\.publicKey) == [ticket.epoch.mailboxKey.publicKey,
                                                                                  offline.epoch.mailboxKey.publicKey])
        #expect(caught.readingState(of: bob).contains("chains at epochs [0]"), "his own epoch's chains kept: \(caught.readingState(of: bob))")
        #expect(moved.deposits.count >= 2 && moved.deposits.contains { $0.mailbox == ticket.epoch.mailboxID },
                "his chain, announced at once (he posted in the old epoch), and a forced request")
        net.recover(rounds: 6)
        #expect(net.texts(alice).contains("d1") && net.texts(bob).contains("d1"), "the lost post, asked for and sent again")
        try net.post(dave, "d2")
        net.recover(rounds: 3)
        #expect(net.texts(alice).suffix(1) == ["d2"] && net.texts(bob).contains("d2"))
        for member in [alice, bob, dave] {
            let texts = net.texts(member)
            #expect(Set(texts).count == texts.count, "nothing shown twice: \(texts)")
        }
    }

    @Test func aCatchUpFromANonAdminForAnotherGroupOrAnEarlierEpochIsRefused() throws {
        var (net, offline) = try Self.daveFallsBehind()
        let ticket = try #require(net.sessions[Self.alice.signing.publicKey]!.catchUpTicket)
        var dave = offline
        #expect(dave.catchUp(ticket, from: Self.bob.signing.publicKey, now: Self.t0, rng: &net.rng) == nil, "bob is no admin")
        #expect(dave.catchUp(ticket, from: Self.dave.signing.publicKey, now: Self.t0, rng: &net.rng) == nil, "not from itself")
        var other = Network(seed: "other group")
        try other.create(admin: Self.alice, others: [Self.dave])
        other.settle()
        other.people[Self.erin.signing.publicKey] = Self.erin
        try other.act(Self.alice.signing.publicKey) { session, rng in
            try session.add(GroupSessionTests.identity(Self.erin), now: Self.t0, rng: &rng)
        }
        try other.act(Self.alice.signing.publicKey) { session, rng in try session.remove(Self.erin.signing.publicKey, now: Self.t0, rng: &rng) }
        #expect(other.sessions[Self.alice.signing.publicKey]!.epoch.number == 2)
        let foreign = try #require(other.sessions[Self.alice.signing.publicKey]!.catchUpTicket)
        #expect(dave.catchUp(foreign, from: Self.alice.signing.publicKey, now: Self.t0, rng: &net.rng) == nil, "another group's")
        let stale = GroupCatchUp(groupKey: ticket.groupKey, epoch: offline.epoch, previousEpoch: nil, rosterSerial: ticket.rosterSerial,
                                 rosterHash: ticket.rosterHash, awaitingRekey: false, awaitingRekeyAfterLoss: false)
        #expect(dave.catchUp(stale, from: Self.alice.signing.publicKey, now: Self.t0, rng: &net.rng) == nil, "not a later epoch")
        #expect(dave.epoch.number == 0)
    }

    @Test func theLowestAdminPostsItsChainEveryMinuteAndReadersHearIt() throws {
        var net = Network(seed: "beacon")
        try net.create(admin: Self.alice, others: [Self.bob])
        net.settle()
        var alice = net.sessions[Self.alice.signing.publicKey]!
        var bob = net.sessions[Self.bob.signing.publicKey]!
        #expect(alice.requestMissing(now: Self.t0, rng: &net.rng).deposits.isEmpty, "the first call only starts the clock")
        #expect(alice.requestMissing(now: Self.t0.adding(.seconds(59)), rng: &net.rng).deposits.isEmpty)
        let beacon = alice.requestMissing(now: Self.t0.adding(.seconds(60)), rng: &net.rng)
        #expect(beacon.deposits.count == 1)
        #expect(bob.requestMissing(now: Self.t0.adding(.seconds(120)), rng: &net.rng).deposits.isEmpty, "a member posts no beacon")
        var heard = false, answered = GroupAnswerLog()
        for deposit in beacon.deposits { heard = bob.receive(deposit.body, now: Self.t0, rng: &net.rng, answered: &answered).heardAdmin || heard }
        #expect(heard, "the admin's chain")
        heard = false
        for deposit in beacon.deposits { heard = bob.receive(deposit.body, now: Self.t0, rng: &net.rng, answered: &answered).heardAdmin || heard }
        #expect(heard, "and its repeat")
        let again = alice.requestMissing(now: Self.t0.adding(.seconds(120)), rng: &net.rng)
        #expect(again.deposits.count == 1 && again.deposits[0].mailbox == beacon.deposits[0].mailbox)
    }

    @Test func aCatchingUpSessionRoundTripsThroughItsState() throws {
        var (net, offline) = try Self.daveFallsBehind()
        let ticket = try #require(net.sessions[Self.alice.signing.publicKey]!.catchUpTicket)
        var dave = offline
        let output = dave.catchUp(ticket, from: Self.alice.signing.publicKey, now: Self.t0, rng: &net.rng)
        #expect(output != nil)
        #expect(dave.catchUpSerial != nil)
        let back = try GroupSession(state: dave.state, identity: Self.dave)
        #expect(back.catchUpSerial == dave.catchUpSerial && back.epoch.number == 2)
        #expect(back.state == dave.state)
    }

    @Test func theCatchUpDecoderRefusesTruncatedOversizedMalformedAndRandomInput() throws {
        let (net, _) = try Self.daveFallsBehind()
        let ticket = try #require(net.sessions[Self.alice.signing.publicKey]!.catchUpTicket)
        let bytes = ticket.encoded
        #expect(bytes.count == GroupCatchUp.maxLength)
        let back = try GroupCatchUp.decode(bytes)
        #expect(back.encoded == bytes && back.epoch.hasSameSecret(as: ticket.epoch) && back.groupID == ticket.groupID)
        for length in 0..<bytes.count { #expect(throws: DecodeError.self, "cut to \(length)") { try GroupCatchUp.decode(Array(bytes.prefix(length))) } }
        #expect(throws: DecodeError.self) { try GroupCatchUp.decode(bytes + [0]) }
        var version = bytes
        version[0] = 2
        #expect(throws: DecodeError.self) { try GroupCatchUp.decode(version) }
        for flags: UInt8 in [0x08, 0x80, 0x05] { // an unknown bit; after a loss without awaiting
            var bad = bytes
            bad[33] = flags
            #expect(throws: DecodeError.self, "flags \(flags)") { try GroupCatchUp.decode(bad) }
        }
        var backwards = bytes
        backwards.replaceSubrange(70..<74, with: [0, 0, 0, 2]) // previous epoch 2, not below 2
        #expect(throws: DecodeError.self) { try GroupCatchUp.decode(backwards) }
        var rng = SeededRandom(seed: "catch-up random")
        for _ in 0..<2_000 {
            var input = rng.bytes(Int.random(in: 0..<200, using: &rng))
            if !input.isEmpty { input[0] = 1 }
            if let decoded = try? GroupCatchUp.decode(input) { #expect(decoded.encoded == input) }
        }
    }
}
