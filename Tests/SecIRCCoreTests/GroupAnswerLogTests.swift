import SecIRCCore
import SecIRCCrypto
import Testing

/// Answers to requests (§7.10, asking again): one answer serves everyone who reads the mailbox,
/// so an item goes into a mailbox again at most once a minute however many members ask.
@Suite struct GroupAnswerLogTests {
    typealias Network = GroupSessionTests.Network
    static let t0 = GroupSessionTests.t0
    static let alice = GroupSessionTests.alice, bob = GroupSessionTests.bob, carol = GroupSessionTests.carol
    static let dave = GroupSessionTests.dave

    @Test func anItemGoesIntoOneMailboxAgainAtMostOnceAMinute() {
        var log = GroupAnswerLog()
        let first = log.allows(.update(serial: 3), inMailboxOf: 1, now: Self.t0)
        let soon = log.allows(.update(serial: 3), inMailboxOf: 1, now: Self.t0.adding(.seconds(59)))
        let otherMailbox = log.allows(.update(serial: 3), inMailboxOf: 2, now: Self.t0.adding(.seconds(1)))
        let otherItems = [GroupAnswerLog.Item.update(serial: 4), .rekey(into: 3), .snapshot(serial: 3), .post(sequence: 3),
                          .chain(epoch: 1, chainID: 3)].map { log.allows($0, inMailboxOf: 1, now: Self.t0.adding(.seconds(1))) }
        let minuteLater = log.allows(.update(serial: 3), inMailboxOf: 1, now: Self.t0.adding(.seconds(60)))
        let afterThat = log.allows(.update(serial: 3), inMailboxOf: 1, now: Self.t0.adding(.seconds(61)))
        let clockBack = log.allows(.update(serial: 3), inMailboxOf: 1, now: Self.t0)
        #expect(first && !soon && otherMailbox && minuteLater && !afterThat)
        #expect(otherItems == [true, true, true, true, true], "another item")
        #expect(clockBack, "a clock that went back holds nothing back")
        #expect(log.count == 7)
    }

    /// Bounded: a full log forgets what is older than a minute; when nothing is, it holds
    /// nothing more back (and remembers nothing more) until something is.
    @Test func aFullLogForgetsWhatIsOlderThanAMinuteAndOtherwiseHoldsNothingBack() {
        var log = GroupAnswerLog()
        var allowed = 0
        for sequence in 0..<UInt64(GroupAnswerLog.maxItems) where log.allows(.post(sequence: sequence), inMailboxOf: 1, now: Self.t0) {
            allowed += 1
        }
        #expect(allowed == GroupAnswerLog.maxItems && log.count == GroupAnswerLog.maxItems)
        let overflow = (0..<3).map { _ in log.allows(.post(sequence: 1 << 40), inMailboxOf: 1, now: Self.t0.adding(.seconds(10))) }
        let stillHeld = log.allows(.post(sequence: 0), inMailboxOf: 1, now: Self.t0.adding(.seconds(10)))
        #expect(overflow == [true, true, true] && !stillHeld && log.count == GroupAnswerLog.maxItems)
        let later = log.allows(.post(sequence: 1 << 40), inMailboxOf: 1, now: Self.t0.adding(.seconds(61)))
        let heldNow = log.allows(.post(sequence: 1 << 40), inMailboxOf: 1, now: Self.t0.adding(.seconds(62)))
        #expect(later && !heldNow && log.count == 1)
    }

    /// An admin asked by several members behind for the updates and the rekey they missed, and
    /// a member asked for its post (which goes with its chain), deposit each once a minute per mailbox: the same request
    /// read again within the minute gets nothing, a minute later everything again, and read in
    /// the other epoch's mailbox its own answer.
    @Test func manyMembersAskingForTheSameGetOneAnswerAMinute() throws {
        var net = Network(seed: "answer log")
        let alice = Self.alice.signing.publicKey, bob = Self.bob.signing.publicKey
        try net.create(admin: Self.alice, others: [Self.bob, Self.carol])
        net.settle()
        let before = net.sessions[alice]!
        net.people[Self.dave.signing.publicKey] = Self.dave
        try net.act(alice) { session, rng in try session.add(GroupSessionTests.identity(Self.dave), now: Self.t0, rng: &rng) }
        net.settle()
        try net.post(bob, "b1")
        net.settle()
        var admin = net.sessions[alice]!, poster = net.sessions[bob]!
        let oldEpoch = before.epoch
        #expect(admin.epoch.number == oldEpoch.number + 1 && poster.epoch.number == admin.epoch.number)

        // Behind: the roster and epoch from before dave came, asking in the old epoch's mailbox.
        let behind = GroupResendRequest(epoch: oldEpoch.number, rosterSerial: before.roster.serial, wantsRekey: true, posts: [], chains: [])
        let sequence = poster.sequence
        let missing = GroupResendRequest(epoch: admin.epoch.number, rosterSerial: .max, wantsRekey: false,
                                         posts: [.init(member: bob, from: sequence, through: sequence)], chains: [])
        var adminLog = GroupAnswerLog(), posterLog = GroupAnswerLog()
        func asked(_ request: GroupResendRequest, in epoch: GroupEpoch, of session: inout GroupSession, log: inout GroupAnswerLog,
                   at seconds: Int64) throws -> [GroupSession.Deposit] {
            var deposits: [GroupSession.Deposit] = []
            for deposit in try GroupSession.deposits(of: .resend(request), in: epoch, rng: &net.rng) {
                deposits += session.receive(deposit.body, now: Self.t0.adding(.seconds(seconds)), rng: &net.rng, answered: &log).deposits
            }
            return deposits
        }
        let answer = try asked(behind, in: oldEpoch, of: &admin, log: &adminLog, at: 0)
        #expect(!answer.isEmpty && answer.allSatisfy { $0.mailbox == oldEpoch.mailboxID }, "the update and the rekey")
        for (seconds, expected) in [(10, 0), (30, 0), (59, 0), (60, answer.count), (90, 0)] as [(Int64, Int)] {
            let again = try asked(behind, in: oldEpoch, of: &admin, log: &adminLog, at: seconds)
            #expect(again.count == expected, "another member behind at +\(seconds) s")
        }
        let elsewhere = try asked(behind, in: admin.epoch, of: &admin, log: &adminLog, at: 90)
        #expect(elsewhere.count == answer.count && elsewhere.allSatisfy { $0.mailbox == admin.epoch.mailboxID },
                "the same asked in the other mailbox")

        let post = try asked(missing, in: admin.epoch, of: &poster, log: &posterLog, at: 0)
        let postAgain = try asked(missing, in: admin.epoch, of: &poster, log: &posterLog, at: 30)
        let postLater = try asked(missing, in: admin.epoch, of: &poster, log: &posterLog, at: 61)
        #expect(post.count == 2 && postAgain.isEmpty && postLater.count == 2, "bob's post, with his chain, asked for by many")
    }
}
