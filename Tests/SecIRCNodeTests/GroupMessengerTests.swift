import SecIRCCore
import SecIRCCrypto
@testable import SecIRCNode
import Testing

/// Groups in the messenger (docs/PROTOCOL.md §8, Groups): invitations through the pairwise
/// sessions, consent, posts shown once in one order, removal, bad input, and a restart — with
/// the group mailboxes played by a dictionary.
@Suite struct GroupMessengerTests {
    /// Group mailboxes: bodies by mailbox ID, in deposit order.
    final class Mailboxes {
        var bodies: [Bytes32: [[UInt8]]] = [:]
        /// Per peer and mailbox: how many bodies it read.
        var cursors: [String: [Bytes32: Int]] = [:]
        /// Deposits dropped on the way (every `dropEvery`th, 0: none).
        var dropEvery = 0
        var deposits = 0
        /// Whether a member mailbox's new bodies are read together (as the engine reads a fetch).
        var batched = false

        /// Takes every due deposit of `peer` (each reaches the mailbox unless dropped).
        func collect(_ peer: Peer, now: UnixTime) throws {
            for deposit in try peer.messenger.dueGroupDeposits(now: now, limit: 10_000) {
                deposits += 1
                if dropEvery > 0, deposits % dropEvery == 0 {
                    // Lost on the way: the poster does not read it back, and deposits it again later.
                    try peer.messenger.groupDepositAttempted(deposit, now: now)
                } else {
                    bodies[deposit.mailbox, default: []].append(deposit.body)
                    try peer.messenger.groupDepositSeen(deposit.body, at: ID.byte(1), of: [ID.byte(1)])
                }
            }
        }

        /// `peer` reads what is new in each mailbox it fetches.
        func read(_ peer: Peer, now: UnixTime) throws {
            for (group, keys, waiting) in try peer.messenger.groupFetchKeys() {
                // As the engine does: a mailbox read for an invitation's snapshot is read again once joined.
                let reader = waiting ? peer.name + " (waiting)" : peer.name
                for key in keys {
                    let id = key.publicKey.id.rawValue
                    let all = bodies[id] ?? []
                    let from = cursors[reader]?[id] ?? 0
                    if batched && !waiting {
                        let (change, notStored) = peer.messenger.receiveGroupBodies(Array(all[from...]), group: group, now: now, rng: &peer.rng)
                        #expect(!notStored)
                        peer.events += change.events
                        cursors[reader, default: [:]][id] = all.count
                        continue
                    }
                    for body in all[from...] {
                        let (change, notStored) = waiting ? peer.messenger.receiveInvitationBody(body, group: group, now: now)
                            : peer.messenger.receiveGroupBody(body, group: group, now: now, rng: &peer.rng)
                        #expect(!notStored)
                        peer.events += change.events
                    }
                    cursors[reader, default: [:]][id] = all.count
                }
            }
        }
    }

    /// Alice, bob and carol, alice a contact of the others (sessions established).
    static func three() throws -> (Peer, Peer, Peer) {
        let alice = try Peer("alice"), bob = try Peer("bob"), carol = try Peer("carol")
        _ = try alice.add(bob)
        _ = try alice.add(carol)
        try pairwise([alice, bob, carol], now: .t0)
        return (alice, bob, carol)
    }

    /// Every pairwise message due, to whichever peer it is sealed to, with the receipts, until quiet.
    static func pairwise(_ peers: [Peer], now: UnixTime) throws {
        for _ in 0..<4 {
            for peer in peers {
                for packet in try peer.drainOutbox(now: now) {
                    guard let to = peers.first(where: { $0.messenger.identity.agreementKey == packet.recipient }) else { continue }
                    for receipt in try to.receive(packet, now: now) { try peer.receive(receipt, now: now) }
                }
            }
        }
    }

    /// Until nothing moves: pairwise outboxes, then group deposits and reads.
    static func settle(_ peers: [Peer], _ mailboxes: Mailboxes, now: UnixTime) throws {
        for _ in 0..<4 {
            try pairwise(peers, now: now)
            for peer in peers { try mailboxes.collect(peer, now: now) }
            for peer in peers { try mailboxes.read(peer, now: now) }
        }
    }

    static func texts(_ peer: Peer, _ group: ID) throws -> [String] {
        try peer.messenger.groupMessages(in: group, before: nil, limit: 500).messages.map(\.text)
    }

    /// The same with each fetch's bodies read one by one and together (one transaction).
    @Test(arguments: [false, true]) func threePeopleTalkAndCarolReadsNothingAfterHerRemoval(batched: Bool) throws {
        let (alice, bob, carol) = try Self.three()
        let mailboxes = Mailboxes()
        mailboxes.batched = batched
        let made = try alice.messenger.createGroup(name: "trio", members: [bob.id, carol.id], now: .t0, rng: &alice.rng)
        let group = made.record.id
        #expect(made.roster.members.count == 3 && made.canPost)
        try Self.settle([alice, bob, carol], mailboxes, now: .t0)
        // The invitations wait for the users, as events and in the list.
        for peer in [bob, carol] {
            #expect(try peer.messenger.groupInvitations().map(\.group) == [group])
            #expect(peer.events.contains { if case let .groupInvite(i) = $0 { i.group == group && i.from == alice.id } else { false } })
            _ = try peer.messenger.acceptGroupInvitation(group, now: .t0, rng: &peer.rng)
            #expect(try peer.messenger.groupInvitations().isEmpty)
        }
        try Self.settle([alice, bob, carol], mailboxes, now: .t0)
        _ = try alice.messenger.postToGroup(group, text: "hello from alice", now: .t0.plus(seconds: 1), rng: &alice.rng)
        try Self.settle([alice, bob, carol], mailboxes, now: .t0.plus(seconds: 1))
        _ = try bob.messenger.postToGroup(group, text: "hi, bob here", now: .t0.plus(seconds: 2), rng: &bob.rng)
        _ = try carol.messenger.postToGroup(group, text: "carol too", now: .t0.plus(seconds: 2), rng: &carol.rng)
        try Self.settle([alice, bob, carol], mailboxes, now: .t0.plus(seconds: 2))
        let shown = try Self.texts(alice, group)
        #expect(shown.count == 3 && Set(shown) == ["hello from alice", "hi, bob here", "carol too"])
        #expect(try Self.texts(bob, group) == shown && Self.texts(carol, group) == shown, "one order at every member")

        // A member that is not an admin changes nothing; the admin removes carol.
        #expect(throws: MessengerError.self) { try bob.messenger.removeFromGroup(group, member: carol.id, now: .t0, rng: &bob.rng) }
        let after = try alice.messenger.removeFromGroup(group, member: carol.id, now: .t0.plus(seconds: 3), rng: &alice.rng)
        #expect(after.roster.members.count == 2 && after.epoch == made.epoch + 1)
        try Self.settle([alice, bob, carol], mailboxes, now: .t0.plus(seconds: 3))
        #expect(try !carol.messenger.group(id: group).record.isMember)
        #expect(throws: MessengerError.self) { try carol.messenger.postToGroup(group, text: "still here?", now: .t0, rng: &carol.rng) }
        _ = try bob.messenger.postToGroup(group, text: "after carol", now: .t0.plus(seconds: 4), rng: &bob.rng)
        try Self.settle([alice, bob, carol], mailboxes, now: .t0.plus(seconds: 4))
        #expect(try Self.texts(alice, group).last == "after carol")
        #expect(try !Self.texts(carol, group).contains("after carol"))
        #expect(try Self.texts(carol, group).count == 3)
        for peer in [alice, bob, carol] { try Self.expectStoredStateIsTheSession(peer, group) }
        // Each post was shown once: one event per post and member.
        let posts = alice.events.filter { if case .groupMessage = $0 { true } else { false } }.count
        #expect(posts == 3, "alice's own post comes back from the API, not as an event here")
        // Deleting is for groups one has left.
        #expect(throws: MessengerError.self) { try bob.messenger.deleteGroup(group) }
        try carol.messenger.deleteGroup(group)
        #expect(try carol.messenger.groups().isEmpty)
    }

    /// Every third deposit is lost: the group outbox deposits again what it does not read back,
    /// and members ask for what they know they miss.
    @Test func postsSurviveLostDeposits() throws {
        let (alice, bob, carol) = try Self.three()
        let mailboxes = Mailboxes()
        let group = try alice.messenger.createGroup(name: "lossy", members: [bob.id, carol.id], now: .t0, rng: &alice.rng).record.id
        try Self.settle([alice, bob, carol], mailboxes, now: .t0)
        for peer in [bob, carol] { _ = try peer.messenger.acceptGroupInvitation(group, now: .t0, rng: &peer.rng) }
        try Self.settle([alice, bob, carol], mailboxes, now: .t0)
        mailboxes.dropEvery = 3
        var now = UnixTime.t0
        for round in 0..<8 {
            now = now.plus(seconds: 5)
            for peer in [alice, bob, carol] where try peer.messenger.group(id: group).canPost {
                _ = try peer.messenger.postToGroup(group, text: "\(peer.name) \(round)", now: now, rng: &peer.rng)
            }
            try Self.settle([alice, bob, carol], mailboxes, now: now)
        }
        mailboxes.dropEvery = 0
        for _ in 0..<4 {
            now = now.plus(seconds: 30)
            for peer in [alice, bob, carol] { _ = try peer.messenger.requestMissingGroupPosts(force: false, now: now, rng: &peer.rng) }
            try Self.settle([alice, bob, carol], mailboxes, now: now)
        }
        let shown = try Self.texts(alice, group)
        #expect(shown.count == 24 && Set(shown).count == 24, "\(shown.count)")
        let bobs = try Self.texts(bob, group), carols = try Self.texts(carol, group)
        #expect(bobs == shown, "\(shown) vs \(bobs)")
        #expect(carols == shown, "\(carols)")
        for peer in [alice, bob, carol] { try Self.expectStoredStateIsTheSession(peer, group) }
    }

    /// A deposit not read back is made again after w, 2w, 4w, 8w, 16w (w as the engine says),
    /// then given up on.
    @Test func aDepositIsMadeAgainAfterDoublingWaitsThenGivenUpOn() throws {
        let (alice, bob, _) = try Self.three()
        let group = try alice.messenger.createGroup(name: "retries", members: [bob.id], now: .t0, rng: &alice.rng).record.id
        let deposit = try #require(try alice.messenger.groupDeposits().first { $0.group == group })
        var now = UnixTime.t0
        var waits: [Int64] = []
        for _ in 0..<Messenger.groupDepositAttempts {
            let current = try #require(try alice.messenger.groupDeposits().first { $0.cursor == deposit.cursor })
            try alice.messenger.groupDepositAttempted(current, now: now, firstRetryMs: 3_300)
            guard let next = try alice.messenger.groupDeposits().first(where: { $0.cursor == deposit.cursor }) else { break }
            waits.append(next.nextAttemptMs - now.milliseconds)
            now = UnixTime(nanoseconds: next.nextAttemptMs * 1_000_000)
        }
        #expect(waits == [3_300, 6_600, 13_200, 26_400, 52_800])
        #expect(try !alice.messenger.groupDeposits().contains { $0.cursor == deposit.cursor }, "given up after six attempts")
    }

    /// The messenger keeps each group's answer log between reads: members behind asking an
    /// admin for the same updates within a minute add nothing to its outbox; a minute later one
    /// answer again; a deleted group's log goes with it.
    @Test func anAdminAskedTheSameWithinAMinuteAnswersOnce() throws {
        let (alice, bob, carol) = try Self.three()
        let mailboxes = Mailboxes()
        let group = try alice.messenger.createGroup(name: "asked", members: [bob.id, carol.id], now: .t0, rng: &alice.rng).record.id
        _ = try alice.messenger.renameGroup(group, to: "asked again", now: .t0, rng: &alice.rng)
        try Self.settle([alice, bob, carol], mailboxes, now: .t0)
        let session = try #require(alice.messenger.groupSessions.withLock { $0[group] }?.session)
        // Members that missed the rename ask (as many would) for the update.
        let request = GroupResendRequest(epoch: session.epoch.number, rosterSerial: session.roster.serial - 1, wantsRekey: false,
                                         posts: [], chains: [])
        func ask(at now: UnixTime) throws -> Int {
            let bodies = try GroupSession.deposits(of: .resend(request), in: session.epoch, rng: &alice.rng).map(\.body)
            let (change, notStored) = alice.messenger.receiveGroupBodies(bodies, group: group, now: now, rng: &alice.rng)
            #expect(!notStored)
            return change.deposits
        }
        let first = try ask(at: .t0.plus(seconds: 10))
        let second = try ask(at: .t0.plus(seconds: 20))
        let third = try ask(at: .t0.plus(seconds: 69))
        let later = try ask(at: .t0.plus(seconds: 70))
        #expect(first > 0 && second == 0 && third == 0 && later == first, "\([first, second, third, later])")
        #expect(alice.messenger.groupAnswerLogs.withLock { $0[group] } != nil)
        for member in [bob, carol] { _ = try alice.messenger.removeFromGroup(group, member: member.id, now: .t0.plus(seconds: 71), rng: &alice.rng) }
        try alice.messenger.deleteGroup(group)
        #expect(alice.messenger.groupAnswerLogs.withLock { $0[group] } == nil)
    }

    @Test func invitationsNeedConsentAndComeOnlyFromAdminsNamingUs() throws {
        let (alice, bob, carol) = try Self.three()
        let mailboxes = Mailboxes()
        let group = try alice.messenger.createGroup(name: "ask first", members: [bob.id], now: .t0, rng: &alice.rng).record.id
        try Self.settle([alice, bob], mailboxes, now: .t0)
        #expect(try bob.messenger.groups().isEmpty, "nothing joined before the user accepts")
        try bob.messenger.declineGroupInvitation(group)
        #expect(try bob.messenger.groupInvitations().isEmpty)
        #expect(throws: MessengerError.self) { try bob.messenger.acceptGroupInvitation(group, now: .t0, rng: &bob.rng) }

        // Carol gets the invitation meant for bob (forwarded by alice's contact... here sent by alice
        // to carol as raw control messages): not for her keys; then garbage.
        let created = try GroupSession.create(groupKey: SigningPrivateKey(using: &alice.rng), name: "x",
                                              identity: alice.messenger.identity.keys,
                                              others: [GroupIdentity(signing: bob.messenger.identity.signingKey,
                                                                     agreement: bob.messenger.identity.agreementKey)],
                                              now: .t0, rng: &alice.rng)
        let invitation = try #require(created.1.invitations.first)
        let ticket = try GroupInvitation.decode(invitation.bytes)
        let whole = try #require(GroupInvitation(roster: created.0.roster, epoch: ticket.epoch).completeEncoding)
        // A complete invitation is refused at once; a ticket waits for its snapshot, unseen.
        for body in [GroupControl.invitation(whole).encoded, [2, 1, 2, 3], [1, 9, 9], GroupControl.invitation(invitation.bytes).encoded] {
            try alice.store.write { tx in
                _ = try tx.insertMessage(id: MessageID(using: &alice.rng), contact: carol.id, direction: .outgoing, kind: .groupControl,
                                         timestampMs: UnixTime.t0.milliseconds, body: body, state: .queued,
                                         nextAttemptMs: UnixTime.t0.milliseconds)
            }
        }
        try Self.pairwise([alice, carol], now: .t0)
        #expect(carol.dropLabels == [.groupInvitationRefused, .malformedGroupControl, .malformedGroupControl], "\(carol.dropLabels)")
        #expect(try carol.messenger.groupInvitations().isEmpty)
        let waiting = try carol.messenger.groupFetchKeys()
        #expect(waiting.count == 1 && waiting[0].waiting && waiting[0].group == ticket.groupID
            && waiting[0].keys.map(\.publicKey) == [ticket.epoch.mailboxKey.publicKey])
        #expect(throws: MessengerError.self, "a ticket alone is not accepted") {
            try carol.messenger.acceptGroupInvitation(ticket.groupID, now: .t0, rng: &carol.rng)
        }
        // Not come: asked for after a minute of waiting, then every five minutes.
        let asks = [0, 59, 60, 61, 300, 360].map { carol.messenger.snapshotRequests(now: UnixTime.t0.adding(.seconds($0)), rng: &carol.rng) }
        #expect(asks.map(\.count) == [0, 0, 1, 0, 0, 1] && asks[2][0].mailbox == ticket.epoch.mailboxID)
        // Its snapshot comes: not for carol's keys, so the invitation goes, counted.
        var dropped: [GroupDropReason: Int] = [:]
        for deposit in created.1.deposits {
            let (change, notStored) = carol.messenger.receiveInvitationBody(deposit.body, group: ticket.groupID, now: .t0)
            #expect(!notStored && change.events.isEmpty)
            dropped.merge(change.dropped, uniquingKeysWith: +)
        }
        #expect(dropped == [.invitationRefused: 1])
        #expect(try carol.messenger.groupFetchKeys().isEmpty && carol.messenger.groupInvitations().isEmpty)
    }

    @Test func aRestartedMessengerGoesOnWhereItStopped() throws {
        let (alice, bob, carol) = try Self.three()
        let mailboxes = Mailboxes()
        let group = try alice.messenger.createGroup(name: "restart", members: [bob.id, carol.id], now: .t0, rng: &alice.rng).record.id
        try Self.settle([alice, bob, carol], mailboxes, now: .t0)
        for peer in [bob, carol] { _ = try peer.messenger.acceptGroupInvitation(group, now: .t0, rng: &peer.rng) }
        try Self.settle([alice, bob, carol], mailboxes, now: .t0)
        _ = try bob.messenger.postToGroup(group, text: "before", now: .t0.plus(seconds: 1), rng: &bob.rng)
        try Self.settle([alice, bob, carol], mailboxes, now: .t0.plus(seconds: 1))
        // Bob's state as a v4 store leaves it after migration v5: whole, under the empty key.
        try bob.store.write { tx in
            let session = try GroupSession(parts: tx.groupState(group), identity: bob.messenger.identity.keys)
            try tx.changeGroupState(group, GroupSession.StateChange(written: [[]: session.state], isWhole: true))
        }
        // Bob's daemon restarts: a new messenger over the same store (no cached sessions).
        bob.messenger = try Messenger(store: bob.store, displayName: "bob", retry: RetrySchedule(initialSeconds: 2, maximumSeconds: 60),
                                      policy: .autoAccept, rng: &bob.rng)
        _ = try bob.messenger.postToGroup(group, text: "after", now: .t0.plus(seconds: 2), rng: &bob.rng)
        mailboxes.cursors["bob"] = nil // and reads every mailbox from the start again
        try Self.settle([alice, bob, carol], mailboxes, now: .t0.plus(seconds: 2))
        #expect(try Self.texts(carol, group) == ["before", "after"])
        #expect(try Self.texts(bob, group) == ["before", "after"], "nothing shown twice after reading everything again")
        let parts = try bob.store.read { tx in try tx.groupState(group) }
        #expect(parts[[]] == nil && parts.count > 4, "the first change after the restart wrote every part")
        for peer in [alice, bob, carol] { try Self.expectStoredStateIsTheSession(peer, group) }
    }

    /// Bob is away while alice removes carol and adds dave, and what came into his epoch's mailbox
    /// meanwhile is lost: he hears no admin for three minutes, asks alice pairwise where the group
    /// is, her answer moves him on, and the group reads him again. A question from one not in the
    /// group and an answer from one not an admin are refused.
    @Test func aMemberLeftTwoEpochsBehindAsksAnAdminAndCatchesUp() throws {
        let (alice, bob, carol) = try Self.three()
        let dave = try Peer("dave")
        _ = try alice.add(dave)
        try Self.pairwise([alice, dave], now: .t0)
        let mailboxes = Mailboxes()
        let group = try alice.messenger.createGroup(name: "away", members: [bob.id, carol.id], now: .t0, rng: &alice.rng).record.id
        try Self.settle([alice, bob, carol], mailboxes, now: .t0)
        for peer in [bob, carol] { _ = try peer.messenger.acceptGroupInvitation(group, now: .t0, rng: &peer.rng) }
        try Self.settle([alice, bob, carol], mailboxes, now: .t0)
        for peer in [alice, bob, carol] { _ = try peer.messenger.catchUpWithGroups(now: .t0, rng: &peer.rng) } // quiet from now
        let away = try bob.messenger.group(id: group).epoch
        let mailbox = try #require(bob.messenger.groupFetchKeys().first?.keys.first).publicKey.id.rawValue

        _ = try alice.messenger.removeFromGroup(group, member: carol.id, now: .t0.plus(seconds: 1), rng: &alice.rng)
        try Self.settle([alice, carol], mailboxes, now: .t0.plus(seconds: 1))
        _ = try alice.messenger.addToGroup(group, contact: dave.id, now: .t0.plus(seconds: 2), rng: &alice.rng)
        try Self.settle([alice, dave], mailboxes, now: .t0.plus(seconds: 2))
        _ = try dave.messenger.acceptGroupInvitation(group, now: .t0.plus(seconds: 2), rng: &dave.rng)
        _ = try alice.messenger.postToGroup(group, text: "while bob was away", now: .t0.plus(seconds: 3), rng: &alice.rng)
        try Self.settle([alice, dave], mailboxes, now: .t0.plus(seconds: 3))
        mailboxes.bodies[mailbox] = Array((mailboxes.bodies[mailbox] ?? []).prefix(mailboxes.cursors["bob"]?[mailbox] ?? 0))
        #expect(try alice.messenger.group(id: group).epoch == away + 2)

        // Back, bob hears nothing; after three quiet minutes he asks alice (once, then he waits longer).
        let back = UnixTime.t0.plus(seconds: 200)
        try Self.settle([alice, bob, dave], mailboxes, now: back)
        #expect(try bob.messenger.group(id: group).epoch == away)
        #expect(try bob.messenger.catchUpWithGroups(now: back, rng: &bob.rng).invitations == 1, "a question to alice")
        #expect(try bob.messenger.catchUpWithGroups(now: back.plus(seconds: 30), rng: &bob.rng).invitations == 0)
        try Self.pairwise([alice, bob], now: back)
        #expect(try alice.messenger.catchUpWithGroups(now: back, rng: &alice.rng).invitations == 1, "the answer")
        try Self.pairwise([alice, bob], now: back)
        let moved = try bob.messenger.catchUpWithGroups(now: back, rng: &bob.rng)
        #expect(moved.deposits >= 1, "a forced request in the new mailbox")
        #expect(try bob.messenger.group(id: group).epoch == away + 2)
        #expect(bob.messenger.groupCatchUpCounts == GroupCatchUpCounts(asked: 1, answered: 0, taken: 1))
        #expect(alice.messenger.groupCatchUpCounts == GroupCatchUpCounts(asked: 0, answered: 1, taken: 0))
        try Self.settle([alice, bob, dave], mailboxes, now: back)
        let view = try bob.messenger.group(id: group)
        #expect(view.canPost && view.roster.members.count == 3 && view.roster.members.keys.contains { $0.id == dave.id })
        #expect(try Self.texts(bob, group).contains("while bob was away"))
        _ = try bob.messenger.postToGroup(group, text: "bob is back", now: back.plus(seconds: 1), rng: &bob.rng)
        try Self.settle([alice, bob, dave], mailboxes, now: back.plus(seconds: 1))
        #expect(try Self.texts(alice, group).last == "bob is back" && Self.texts(dave, group).last == "bob is back")
        let bobTexts = try Self.texts(bob, group)
        #expect(Set(bobTexts).count == bobTexts.count, "nothing shown twice")
        for peer in [alice, bob, dave] { try Self.expectStoredStateIsTheSession(peer, group) }

        // carol, out of the group, asks alice; alice's answer, sent by carol to dave (not an admin
        // of dave's roster... carol is not even a member), is refused.
        let answer = try #require(alice.messenger.groupSessions.withLock { $0[group] }?.session.catchUpTicket)
        _ = try carol.add(dave)
        try Self.pairwise([carol, dave], now: back)
        for (from, to, control) in [(carol, alice, GroupControl.epochQuery(group: group, epoch: 0, serial: 0)),
                                    (carol, dave, GroupControl.catchUp(answer.encoded))] {
            try from.store.write { tx in
                _ = try tx.insertMessage(id: MessageID(using: &from.rng), contact: to.id, direction: .outgoing, kind: .groupControl,
                                         timestampMs: back.milliseconds, body: control.encoded, state: .queued, nextAttemptMs: back.milliseconds)
            }
            try Self.pairwise([from, to], now: back)
            #expect(to.dropLabels.last == .groupCatchUpRefused, "\(to.name): \(to.dropLabels)")
        }
    }

    /// Dave's ticket came but its snapshot did not (lost from the ticket's epoch mailbox), and
    /// the group moved two epochs on: his requests there reach nobody. After three minutes he
    /// asks alice, who invited him, pairwise; her new ticket (current epoch, the snapshot
    /// deposited again there) lets him join. An older ticket coming late does not replace it;
    /// a request from one not in the roster is refused.
    @Test func aJoinerWhoseSnapshotNeverCameAsksItsInviterForANewTicket() throws {
        let (alice, bob, carol) = try Self.three()
        let dave = try Peer("dave")
        _ = try alice.add(dave)
        try Self.pairwise([alice, dave], now: .t0)
        let mailboxes = Mailboxes()
        let group = try alice.messenger.createGroup(name: "late", members: [bob.id, carol.id], now: .t0, rng: &alice.rng).record.id
        try Self.settle([alice, bob, carol], mailboxes, now: .t0)
        for peer in [bob, carol] { _ = try peer.messenger.acceptGroupInvitation(group, now: .t0, rng: &peer.rng) }
        try Self.settle([alice, bob, carol], mailboxes, now: .t0)

        // alice adds dave; his ticket arrives, the snapshot in its epoch's mailbox is lost.
        let added = UnixTime.t0.plus(seconds: 1)
        _ = try alice.messenger.addToGroup(group, contact: dave.id, now: added, rng: &alice.rng)
        try mailboxes.collect(alice, now: added)
        try Self.pairwise([alice, dave], now: added)
        let waiting = try #require(dave.messenger.groupFetchKeys().first { $0.waiting })
        let ticketMailbox = try #require(waiting.keys.first).publicKey.id.rawValue
        mailboxes.bodies[ticketMailbox] = []
        let oldTicket = try #require(dave.store.read { try $0.groupInvitations() }.first).invitation
        #expect(dave.messenger.snapshotRequests(now: added, rng: &dave.rng).isEmpty, "the wait starts")
        try Self.settle([alice, bob, carol, dave], mailboxes, now: added)
        // The group moves two epochs on; dave's request in his ticket's epoch reaches nobody.
        _ = try alice.messenger.removeFromGroup(group, member: carol.id, now: added.plus(seconds: 1), rng: &alice.rng)
        try Self.settle([alice, bob, carol, dave], mailboxes, now: added.plus(seconds: 1))
        _ = try alice.messenger.removeFromGroup(group, member: bob.id, now: added.plus(seconds: 2), rng: &alice.rng)
        try Self.settle([alice, bob, dave], mailboxes, now: added.plus(seconds: 2))
        #expect(!dave.messenger.snapshotRequests(now: added.plus(seconds: 61), rng: &dave.rng).isEmpty, "asked in the old mailbox")
        try Self.settle([alice, dave], mailboxes, now: added.plus(seconds: 61))
        #expect(try dave.messenger.groupInvitations().isEmpty && dave.messenger.groupTicketWaits().count == 1)

        // Three quiet minutes on, dave asks alice (once; then he waits longer).
        let asks = added.plus(seconds: 181)
        #expect(try dave.messenger.catchUpWithGroups(now: added.plus(seconds: 179), rng: &dave.rng).invitations == 0)
        #expect(try dave.messenger.catchUpWithGroups(now: asks, rng: &dave.rng).invitations == 1, "a question to alice")
        #expect(try dave.messenger.catchUpWithGroups(now: asks.plus(seconds: 30), rng: &dave.rng).invitations == 0)
        try Self.pairwise([alice, dave], now: asks)
        let answer = try alice.messenger.catchUpWithGroups(now: asks, rng: &alice.rng)
        #expect(answer.invitations == 1 && answer.deposits >= 1, "a new ticket and the snapshot again")
        #expect(alice.messenger.groupCatchUpCounts.ticketsReissued == 1 && dave.messenger.groupCatchUpCounts.ticketsAsked == 1)
        try Self.settle([alice, dave], mailboxes, now: asks)
        let invitation = try #require(dave.messenger.groupInvitations().first)
        #expect(invitation.group == group && invitation.memberCount == 2)

        // The old ticket, coming again late, does not replace the new one.
        try alice.store.write { tx in
            _ = try tx.insertMessage(id: MessageID(using: &alice.rng), contact: dave.id, direction: .outgoing, kind: .groupControl,
                                     timestampMs: asks.milliseconds, body: GroupControl.invitation(oldTicket).encoded,
                                     state: .queued, nextAttemptMs: asks.milliseconds)
        }
        try Self.pairwise([alice, dave], now: asks)
        #expect(try dave.messenger.groupInvitations().first?.invitation == invitation.invitation)

        _ = try dave.messenger.acceptGroupInvitation(group, now: asks, rng: &dave.rng)
        try Self.settle([alice, dave], mailboxes, now: asks)
        #expect(try dave.messenger.group(id: group).epoch == alice.messenger.group(id: group).epoch)
        _ = try alice.messenger.postToGroup(group, text: "welcome, dave", now: asks.plus(seconds: 1), rng: &alice.rng)
        _ = try dave.messenger.postToGroup(group, text: "here at last", now: asks.plus(seconds: 1), rng: &dave.rng)
        try Self.settle([alice, dave], mailboxes, now: asks.plus(seconds: 1))
        #expect(try Self.texts(dave, group) == ["welcome, dave", "here at last"] || Self.texts(dave, group) == ["here at last", "welcome, dave"])
        #expect(try Self.texts(alice, group).contains("here at last"))
        for peer in [alice, dave] { try Self.expectStoredStateIsTheSession(peer, group) }

        // carol, removed, asks alice for a ticket: refused.
        try carol.store.write { tx in
            _ = try tx.insertMessage(id: MessageID(using: &carol.rng), contact: alice.id, direction: .outgoing, kind: .groupControl,
                                     timestampMs: asks.milliseconds, body: GroupControl.ticketQuery(group: group, epoch: 0, serial: 0).encoded,
                                     state: .queued, nextAttemptMs: asks.milliseconds)
        }
        try Self.pairwise([carol, alice], now: asks)
        #expect(alice.dropLabels.last == .groupCatchUpRefused, "\(alice.dropLabels)")
    }

    /// Group control messages (§7.10): each type round-trips; the two questions are exactly 45
    /// bytes; an empty body, another type, or random bytes are refused or decode to what encodes
    /// back to them.
    @Test func theGroupControlDecoderRefusesTruncatedOversizedMalformedAndRandomInput() throws {
        let group = ID.byte(7)
        let messages: [GroupControl] = [.invitation([1, 2, 3]), .epochQuery(group: group, epoch: 3, serial: 9), .catchUp([4, 5]),
                                        .ticketQuery(group: group, epoch: .max, serial: .max)]
        for message in messages { #expect(try GroupControl.decode(message.encoded) == message) }
        for query in [messages[1], messages[3]] {
            let bytes = query.encoded
            #expect(bytes.count == 45)
            #expect(throws: DecodeError.incomplete(deficit: 1)) { try GroupControl.decode(Array(bytes.dropLast())) }
            #expect(throws: DecodeError.trailingBytes(count: 1)) { try GroupControl.decode(bytes + [0]) }
            #expect(throws: DecodeError.incomplete(deficit: 44)) { try GroupControl.decode([bytes[0]]) }
        }
        #expect(throws: DecodeError.incomplete(deficit: 1)) { try GroupControl.decode([]) }
        for type: UInt8 in [0, 5, 0xFF] { #expect(throws: DecodeError.self) { try GroupControl.decode([type] + Array(repeating: 0, count: 44)) } }
        var rng = SeededRandom(seed: "group control")
        for _ in 0..<2_000 {
            let bytes = (0..<Int(rng.next() % 64)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            if let decoded = try? GroupControl.decode(bytes) { #expect(decoded.encoded == bytes) }
        }
    }

    /// A catch-up waiting for the next round for a group deleted meanwhile is let go; the round
    /// still answers and asks for the others.
    @Test func aCatchUpForAGroupDeletedMeanwhileDoesNotStopTheRound() throws {
        let (alice, bob, carol) = try Self.three()
        let mailboxes = Mailboxes()
        let group = try alice.messenger.createGroup(name: "gone", members: [bob.id], now: .t0, rng: &alice.rng).record.id
        try Self.settle([alice, bob], mailboxes, now: .t0)
        _ = try bob.messenger.acceptGroupInvitation(group, now: .t0, rng: &bob.rng)
        try Self.settle([alice, bob], mailboxes, now: .t0)
        // alice moves the group on twice while bob reads nothing.
        _ = try alice.messenger.addToGroup(group, contact: carol.id, now: .t0, rng: &alice.rng)
        _ = try alice.messenger.removeFromGroup(group, member: carol.id, now: .t0, rng: &alice.rng)
        let answer = try #require(alice.messenger.groupSessions.withLock { $0[group] }?.session.catchUpTicket)
        try alice.store.write { tx in
            _ = try tx.insertMessage(id: MessageID(using: &alice.rng), contact: bob.id, direction: .outgoing, kind: .groupControl,
                                     timestampMs: UnixTime.t0.milliseconds, body: GroupControl.catchUp(answer.encoded).encoded,
                                     state: .queued, nextAttemptMs: UnixTime.t0.milliseconds)
        }
        try Self.pairwise([alice, bob], now: .t0)
        #expect(!bob.dropLabels.contains(.groupCatchUpRefused), "queued for the next round")
        _ = try bob.messenger.leaveGroup(group, now: .t0, rng: &bob.rng)
        try bob.messenger.deleteGroup(group)
        let round = try bob.messenger.catchUpWithGroups(now: .t0, rng: &bob.rng)
        #expect(round.deposits == 0 && bob.messenger.groupCatchUpCounts.taken == 0)
    }

    /// The parts in `peer`'s store, written change by change, are the session its messenger holds.
    static func expectStoredStateIsTheSession(_ peer: Peer, _ group: ID) throws {
        let held = try #require(peer.messenger.groupSessions.withLock { $0[group] }?.session)
        let stored = try peer.store.read { tx in try tx.groupState(group) }
        #expect(stored == held.stateParts, "\(peer.name)")
    }

    @Test func badRequestsAreRefusedWithAReason() throws {
        let (alice, bob, _) = try Self.three()
        #expect(throws: MessengerError.self) { try alice.messenger.createGroup(name: "", members: [bob.id], now: .t0, rng: &alice.rng) }
        #expect(throws: MessengerError.self) {
            try alice.messenger.createGroup(name: String(repeating: "x", count: 65), members: [], now: .t0, rng: &alice.rng)
        }
        #expect(throws: MessengerError.self) { try alice.messenger.createGroup(name: "a\u{7}b", members: [], now: .t0, rng: &alice.rng) }
        #expect(throws: MessengerError.self) {
            try alice.messenger.createGroup(name: "twice", members: [bob.id, bob.id], now: .t0, rng: &alice.rng)
        }
        #expect(throws: MessengerError.self) { try alice.messenger.createGroup(name: "stranger", members: [ID.byte(7)], now: .t0, rng: &alice.rng) }
        let group = try alice.messenger.createGroup(name: "solo", members: [], now: .t0, rng: &alice.rng).record.id
        #expect(throws: MessengerError.self) {
            try alice.messenger.postToGroup(group, text: String(repeating: "x", count: Messenger.maximumTextBytes + 1), now: .t0,
                                            rng: &alice.rng)
        }
        #expect(throws: MessengerError.self) { try alice.messenger.postToGroup(ID.byte(9), text: "x", now: .t0, rng: &alice.rng) }
        #expect(throws: MessengerError.self) { try alice.messenger.addToGroup(group, contact: alice.id, now: .t0, rng: &alice.rng) }
        #expect(throws: MessengerError.self) { try alice.messenger.leaveGroup(group, now: .t0, rng: &alice.rng) }
        #expect(try alice.messenger.groupMessages(in: group, before: 123_456, limit: 10).messages.isEmpty, "a cursor of no post: nothing before it")
        // Group bodies of no use are counted, never thrown.
        var rng = SeededRandom(seed: "junk")
        for length in [0, 1, 100, 814, 2_000] {
            let (change, notStored) = alice.messenger.receiveGroupBody(rng.bytes(length), group: group, now: .t0, rng: &alice.rng)
            #expect(!notStored && change.events.isEmpty && change.dropped.values.reduce(0, +) == 1)
        }
        try alice.messenger.deleteGroup(group) // its only member: deleted at once
        #expect(try alice.messenger.groups().isEmpty)
    }
}
