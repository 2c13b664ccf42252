import SecIRCCore
import SecIRCCrypto
import Testing

/// Rekeys after a loss when the admin who should make one is away, and forks of rekeys
/// (§7.9 *Forks*, §7.10 *Leave*): another admin stands in after its wait; one that comes back
/// follows the rekey made meanwhile, or — when it rekeyed too — everyone ends in the epoch of
/// the lower author key, with every post shown once by everyone.
@Suite struct GroupForkTests {
    typealias Network = GroupSessionTests.Network
    static let t0 = GroupSessionTests.t0
    static let alice = GroupSessionTests.alice, bob = GroupSessionTests.bob, carol = GroupSessionTests.carol
    static let dave = GroupSessionTests.dave, erin = GroupSessionTests.person("erin")

    /// alice and bob admins; carol, dave and erin members; erin leaves while the lower-key admin
    /// is away. Returns the network (the away admin's session taken out) and the away one.
    static func leaveWhileTheLowerAdminIsAway(seed: String) throws -> (net: Network, low: SigningPublicKey, high: SigningPublicKey,
                                                                      away: GroupSession, oldMailbox: Bytes32, departure: Range<Int>) {
        var net = Network(seed: seed)
        try net.create(admin: alice, others: [bob, carol, dave, erin])
        try net.act(alice.signing.publicKey) { session, rng in
            try session.change([.setRole(bob.signing.publicKey, .admin)], now: t0, rng: &rng)
        }
        net.settle()
        let (low, high) = [alice.signing.publicKey, bob.signing.publicKey]
            .sorted { $0.bytes.lexicographicallyPrecedes($1.bytes) }.pair
        let removed = net.sessions.removeValue(forKey: low)
        let away = try #require(removed)
        let oldMailbox = away.epoch.mailboxID
        let before = net.mailboxes[oldMailbox]?.count ?? 0
        try net.act(erin.signing.publicKey) { session, rng in try session.leave(now: t0, rng: &rng) }
        let departure = before..<(net.mailboxes[oldMailbox]?.count ?? 0)
        net.sessions[erin.signing.publicKey] = nil
        net.settle()
        return (net, low, high, away, oldMailbox, departure)
    }

    @Test func theNextAdminRekeysAfterItsWaitAndTheOneBackFollowsIt() throws {
        let setUp = try Self.leaveWhileTheLowerAdminIsAway(seed: "stand in")
        var net = setUp.net
        let (low, high, away, oldMailbox) = (setUp.low, setUp.high, setUp.away, setUp.oldMailbox)
        let members = [high, Self.carol.signing.publicKey, Self.dave.signing.publicKey]
        for member in members { #expect(!net.sessions[member]!.canPost, "waiting for the rekey after erin left") }
        // The higher admin (ranked second) waits 2 × 300 s from when it found itself waiting.
        let epoch = net.sessions[high]!.epoch.number
        for seconds in [0, 300, 599] as [Int64] {
            net.act(high) { session, rng in session.requestMissing(now: Self.t0.adding(.seconds(seconds)), rng: &rng) }
            #expect(net.sessions[high]!.epoch.number == epoch, "not yet at +\(seconds) s")
        }
        net.act(high) { session, rng in session.requestMissing(now: Self.t0.adding(.seconds(600)), rng: &rng) }
        #expect(net.sessions[high]!.epoch.number == epoch + 1, "stood in at +600 s")
        net.settle()
        for member in members { #expect(net.sessions[member]!.canPost && net.sessions[member]!.epoch.number == epoch + 1) }
        try net.post(Self.carol.signing.publicKey, "c1")
        try net.post(Self.dave.signing.publicKey, "d1")
        net.settle()
        // The lower admin comes back and reads the old mailbox in one fetch: the departure and
        // the rekey made meanwhile. It follows that rekey and makes none of its own.
        let deposits = net.mailboxes[oldMailbox]!.count
        net.sessions[low] = away
        net.settle()
        // (It answers the requests the others made meanwhile with the rekey it followed.)
        let rekeys = net.mailboxes[oldMailbox]![deposits...].compactMap { body -> GroupRekey? in
            guard let fragment = try? SealedPacket.open(body, with: away.epoch.sealingKey), fragment.count == 1,
                  case let .rekey(rekey)? = try? GroupChannelMessage.decode(fragment.data) else { return nil }
            return rekey
        }
        #expect(!rekeys.isEmpty && rekeys.allSatisfy { $0.author == high }, "no second rekey in the old mailbox")
        let back = net.sessions[low]!
        #expect(back.epoch.hasSameSecret(as: net.sessions[high]!.epoch) && back.canPost)
        #expect(Set(net.texts(low)).isSuperset(of: ["c1", "d1"]))
        try net.post(low, "back")
        net.settle()
        for member in members { #expect(net.texts(member).filter { $0 == "back" }.count == 1) }
    }

    @Test func twoRekeysIntoOneEpochEndInTheLowerAuthorsAndEveryPostIsShownOnce() throws {
        let setUp = try Self.leaveWhileTheLowerAdminIsAway(seed: "fork")
        var net = setUp.net
        let (low, high, away, oldMailbox, departure) = (setUp.low, setUp.high, setUp.away, setUp.oldMailbox, setUp.departure)
        let carol = Self.carol.signing.publicKey, dave = Self.dave.signing.publicKey
        net.act(high) { session, rng in session.requestMissing(now: Self.t0, rng: &rng) }
        net.act(high) { session, rng in session.requestMissing(now: Self.t0.adding(.seconds(600)), rng: &rng) }
        net.settle()
        try net.post(carol, "c1")
        try net.post(high, "h1")
        try net.post(carol, "c2")
        net.settle()
        let standIn = net.sessions[high]!.epoch
        // The lower admin comes back and reads only the departure before it rekeys: two rekeys
        // into one epoch. Its own wins (its key is lower), so everyone else moves to it.
        var back = away
        var answered = GroupAnswerLog()
        for body in net.mailboxes[oldMailbox]![departure] {
            net.take(back.receive(body, now: Self.t0, rng: &net.rng, answered: &answered), by: low)
        }
        net.take(back.finishReading(now: Self.t0, rng: &net.rng), by: low)
        #expect(back.epoch.number == standIn.number && !back.epoch.hasSameSecret(as: standIn), "a fork")
        net.sessions[low] = back
        net.cursors[low, default: [:]][oldMailbox] = departure.upperBound
        net.settle()
        for member in [high, carol, dave] {
            let session = net.sessions[member]!
            #expect(session.epoch.hasSameSecret(as: net.sessions[low]!.epoch), "\(member) moved to the lower author's epoch")
            #expect(session.canPost)
        }
        #expect(net.sessions[low]!.epoch.hasSameSecret(as: back.epoch), "the winner stays")
        // What was posted in the losing epoch was posted again in the winning one: read by the
        // admin who was never there, and by everyone once.
        try net.post(dave, "d1")
        try net.post(low, "l1")
        net.recover(rounds: 4)
        for member in [low, high, carol, dave] {
            let texts = net.texts(member)
            #expect(Set(texts) == ["c1", "h1", "c2", "d1", "l1"], "\(texts)")
            #expect(texts.count == Set(texts).count, "nothing shown twice: \(texts)")
        }
        for member in [low, high, carol, dave] { #expect(net.drops(member)[.rekeyRefused] == nil) }
    }

    /// A rekey into the same epoch for an earlier roster — one that still holds a member removed
    /// since (signed by an admin of that roster: a stale concurrent one, or a removed admin's) —
    /// loses to the one for the later roster whatever its author's key, and a member that read
    /// it first waits for the rekey instead of posting where the removed member could read.
    @Test func aRekeyForAnEarlierRosterLosesToOneForTheLater() throws {
        var net = Network(seed: "earlier roster")
        try net.create(admin: Self.alice, others: [Self.bob, Self.carol, Self.dave])
        try net.act(Self.alice.signing.publicKey) { session, rng in
            try session.change([.setRole(Self.bob.signing.publicKey, .admin)], now: Self.t0, rng: &rng)
        }
        net.settle()
        let admins = [Self.alice, Self.bob].sorted { $0.signing.publicKey.bytes.lexicographicallyPrecedes($1.signing.publicKey.bytes) }
        let (low, high) = (admins[0], admins[1])
        let carol = Self.carol.signing.publicKey, dave = Self.dave.signing.publicKey
        let before = net.sessions[low.signing.publicKey]!
        // The higher-key admin removes carol; the lower-key one's rekey for the roster before
        // that lands in the same mailbox, read first by some.
        let removalAt = net.mailboxes[before.epoch.mailboxID]?.count ?? 0
        try net.act(high.signing.publicKey) { session, rng in try session.remove(carol, now: Self.t0, rng: &rng) }
        let removal = net.mailboxes[before.epoch.mailboxID]![removalAt] // the update (its rekey follows)
        let stale = GroupRekey.make(GroupEpoch(number: before.epoch.number + 1, using: &net.rng), for: before.roster, previous: nil,
                                    author: low.signing, rng: &net.rng)
        let staleDeposits = try GroupSession.deposits(of: .rekey(stale), in: before.epoch, rng: &net.rng)
        for deposit in staleDeposits { net.mailboxes[deposit.mailbox, default: []].append(deposit.body) }
        // A member that applied the removal and then took the stale rekey holds an epoch carol
        // holds: it posts nothing there and waits for the rekey after the removal.
        var early = net.sessions[dave]!
        var answered = GroupAnswerLog()
        for body in [removal] + staleDeposits.map(\.body) { _ = early.receive(body, now: Self.t0, rng: &net.rng, answered: &answered) }
        #expect(early.epoch.number == before.epoch.number + 1 && early.roster.members[carol] == nil)
        #expect(!early.canPost, "the epoch it took was made for a roster with carol")
        net.settle()
        let group = net.sessions[high.signing.publicKey]!.epoch
        for member in [low.signing.publicKey, dave] {
            let session = net.sessions[member]!
            #expect(session.epoch.hasSameSecret(as: group) && session.canPost, "\(session.readingState(of: carol))")
        }
        try net.post(dave, "after carol")
        net.settle()
        #expect(!net.texts(carol).contains("after carol"))
        #expect(net.texts(low.signing.publicKey).contains("after carol"))
    }

    /// A post held for its chain is dropped once its epoch is older than the member's previous
    /// one: no chain of that epoch is taken any more, so asking for it would only cost requests.
    @Test func aPostHeldForAChainOfAnEpochGoneIsDropped() throws {
        var net = Network(seed: "held gone")
        let alice = Self.alice.signing.publicKey, bob = Self.bob.signing.publicKey, carol = Self.carol.signing.publicKey
        try net.create(admin: Self.alice, others: [Self.bob, Self.carol])
        net.people[Self.dave.signing.publicKey] = Self.dave
        net.settle()
        let mailbox = net.sessions[bob]!.epoch.mailboxID
        try net.post(bob, "b1")
        net.mailboxes[mailbox]!.remove(at: net.mailboxes[mailbox]!.count - 2) // bob's chain, just before his post
        net.settle()
        #expect(net.sessions[carol]!.readingState(of: bob).hasSuffix("held 1 posts"), "\(net.sessions[carol]!.readingState(of: bob))")
        try net.act(alice) { session, rng in try session.add(GroupSessionTests.identity(Self.dave), now: Self.t0, rng: &rng) }
        net.settle()
        #expect(net.sessions[carol]!.readingState(of: bob).hasSuffix("held 1 posts"), "its epoch is the previous one: still readable")
        try net.act(alice) { session, rng in try session.remove(Self.dave.signing.publicKey, now: Self.t0, rng: &rng) }
        net.settle()
        #expect(net.sessions[carol]!.readingState(of: bob).hasSuffix("held 0 posts"), "\(net.sessions[carol]!.readingState(of: bob))")
    }
}

extension Array {
    /// The first two elements (the array has two).
    fileprivate var pair: (Element, Element) { (self[0], self[1]) }
}
