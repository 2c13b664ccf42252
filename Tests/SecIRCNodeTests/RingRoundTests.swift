import SecIRCCore
import SecIRCCrypto
import SecIRCNode
import Testing

/// A round of the first ring's vote, three members (threshold 2) run as three `RingRound`s with
/// the messages carried by hand: who gets what, and when, is the test's choice.
@Suite struct RingRoundTests {
    struct Ring {
        var members: [SigningPrivateKey]
        var relays: [SigningPrivateKey]
        var roster: Roster
        var descriptors: [SignedDocument] = []

        init(size: Int = 3, seed: String = "ring round") throws {
            var rng = SeededRandom(seed: seed)
            members = (0..<size).map { _ in SigningPrivateKey(using: &rng) }
            relays = (0..<3).map { _ in SigningPrivateKey(using: &rng) }
            roster = Roster(members: members.enumerated().map { i, key in
                Roster.Member(identityKey: key.publicKey, udp: "127.0.0.1:\(7000 + i)", http: "http://127.0.0.1:\(8000 + i)")
            })
            for (i, key) in relays.enumerated() {
                let descriptor = RelayDescriptor(
                    identityKey: key.publicKey, linkKey: AgreementPrivateKey(using: &rng).publicKey, udp: "127.0.0.1:\(9000 + i)",
                    http: "http://127.0.0.1:\(9100 + i)",
                    onionKeys: [.init(epoch: 1, key: AgreementPrivateKey(using: &rng).publicKey, validAfter: 0, validUntil: 10_000)],
                    capacity: 100, flags: ["mailbox"], published: 1_000)
                descriptors.append(try descriptor.signed(by: key))
            }
        }

        /// Member `i`'s round 10, accepting the relays at `relays`.
        func round(_ i: Int, relays: [Int] = [0, 1, 2], coverRate: Double = 2) throws -> RingRound {
            try RingRound(serial: 10, roster: roster, identity: members[i], previous: nil, validAfter: 36_000, validUntil: 46_800,
                          network: NetworkParameters(coverRate: coverRate, meanDelayMs: 50), relays: relays.map { descriptors[$0] })
        }
    }

    /// Every vote to every member, deadlines, every share to every member.
    static func run(_ rounds: inout [RingRound], up: Set<Int>) throws {
        for from in up { for to in up where to != from { _ = try rounds[to].receiveVote(rounds[from].ownVote) } }
        var shares: [Int: SignedDocument] = [:]
        for i in up { shares[i] = rounds[i].closeVoting() }
        for (from, share) in shares { for to in up where to != from { _ = try rounds[to].receiveShare(share) } }
    }

    @Test func threeMembersPublishOneDirectorySignedByAll() throws {
        let ring = try Ring()
        var rounds = try (0..<3).map { try ring.round($0) }
        try Self.run(&rounds, up: [0, 1, 2])
        let published = try rounds.map { try #require($0.published) }
        #expect(Set(published.map(\.body)).count == 1, "one body")
        for document in published {
            #expect(document.validSigners(among: ring.roster.keys).count == 3)
            let directory = try Unverified<RelayDirectory>(document).verified(trusting: ring.roster, now: 40_000)
            #expect(directory.serial == 10 && directory.relays.count == 3)
        }
        #expect(rounds.allSatisfy { $0.equivocations.isEmpty && $0.disagreeing.isEmpty })
    }

    @Test func oneMemberDownChangesNothingTwoDownMakeNoDirectory() throws {
        let ring = try Ring()
        var rounds = try (0..<3).map { try ring.round($0) }
        try Self.run(&rounds, up: [0, 2])
        for i in [0, 2] {
            let document = try #require(rounds[i].published)
            #expect(document.validSigners(among: ring.roster.keys) == [ring.members[0].publicKey, ring.members[2].publicKey])
        }
        var alone = try ring.round(1)
        #expect(alone.closeVoting() == nil, "one vote of a threshold of two: no directory this round")
        #expect(alone.published == nil)
    }

    /// A vote the member holds only through another member (forwarded) counts the same; the
    /// same vote twice is a duplicate; a vote after the deadline is refused.
    @Test func forwardedDuplicateAndLateVotes() throws {
        let ring = try Ring()
        var a = try ring.round(0), b = try ring.round(1)
        let c = try ring.round(2)
        #expect(try a.receiveVote(c.ownVote) == .counted)
        #expect(try a.receiveVote(c.ownVote) == .duplicate)
        #expect(try b.receiveVote(c.ownVote) == .counted, "forwarded by a: the voter's signature is what counts")
        _ = b.closeVoting()
        #expect(throws: RingRound.Refusal.late) { try b.receiveVote(a.ownVote) }
        #expect(b.voteCount == 2)
    }

    @Test func votesAndSharesOfOtherRoundsAndStrangersAreRefused() throws {
        let ring = try Ring()
        var a = try ring.round(0)
        let stranger = try Ring(seed: "another ring")
        #expect(throws: RingRound.Refusal.self) { try a.receiveVote(stranger.round(1).ownVote) }
        let nextRound = try RingRound(serial: 11, roster: ring.roster, identity: ring.members[1], previous: nil, validAfter: 39_600,
                                      validUntil: 50_400, network: NetworkParameters(coverRate: 2, meanDelayMs: 50), relays: [])
        #expect(throws: RingRound.Refusal.otherRound(11)) { try a.receiveVote(nextRound.ownVote) }
        var corrupted = ring.descriptors[0]
        corrupted.body[3] ^= 1
        #expect(throws: RingRound.Refusal.self) { try a.receiveShare(corrupted) }
        #expect(a.voteCount == 1)
    }

    /// Member c sends one vote to a and another to b: the vote forwarded between them shows it.
    @Test func aMemberVotingTwiceIsCaughtWithAProof() throws {
        let ring = try Ring()
        var a = try ring.round(0), b = try ring.round(1)
        let cToA = try ring.round(2, relays: [0]), cToB = try ring.round(2, relays: [1])
        #expect(try a.receiveVote(cToA.ownVote) == .counted)
        #expect(try b.receiveVote(cToB.ownVote) == .counted)
        #expect(try b.receiveVote(cToA.ownVote) == .equivocation, "forwarded by a")
        let proof = try #require(b.equivocations.first)
        #expect(proof.kind == .vote && proof.member == ring.members[2].publicKey)
        try proof.check(roster: ring.roster)
        #expect(try b.receiveVote(cToA.ownVote) == .equivocation)
        #expect(b.equivocations.count == 1, "one proof per member")
    }

    /// The limit of n = 3, t = 2 (docs/PROTOCOL.md §3.4): a member that shows its vote to one
    /// honest member only, at the deadline, and signs both consensuses, makes two directories
    /// for one round — and both honest members hold the proof once they forward the shares.
    @Test func aByzantineMemberOfThreeCanForkARoundButIsCaught() throws {
        let ring = try Ring()
        // c's vote decides relay 2: with it 2 of 3 votes list it, without it 1 of 2.
        var a = try ring.round(0, relays: [0, 1]), b = try ring.round(1, relays: [0, 1, 2])
        let c = try ring.round(2, relays: [0, 1, 2])
        _ = try a.receiveVote(b.ownVote)
        _ = try b.receiveVote(a.ownVote)
        _ = try a.receiveVote(c.ownVote) // only a hears c
        let closedA = a.closeVoting(), closedB = b.closeVoting()
        let shareA = try #require(closedA), shareB = try #require(closedB)
        #expect(shareA != shareB)
        // c signs both bodies.
        let bodyA = try #require(a.consensus?.document), bodyB = try #require(b.consensus?.document)
        let cForA = DirectorySignatureShare.share(of: bodyA, serial: 10, by: ring.members[2])
        let cForB = DirectorySignatureShare.share(of: bodyB, serial: 10, by: ring.members[2])
        #expect(try a.receiveShare(cForA) == .counted)
        #expect(try b.receiveShare(cForB) == .counted)
        #expect(a.published != nil && b.published != nil && a.published?.body != b.published?.body, "the fork")
        // Honest members forward the shares they take.
        #expect(try a.receiveShare(shareB) == .disagrees)
        #expect(try a.receiveShare(cForB) == .equivocation)
        #expect(try b.receiveShare(cForA) == .equivocation)
        for round in [a, b] {
            let proof = try #require(round.equivocations.first)
            #expect(proof.kind == .signature && proof.member == ring.members[2].publicKey)
            try proof.check(roster: ring.roster)
        }
        #expect(a.disagreeing == [ring.members[1].publicKey])
    }

    /// A share that comes before this member computed its consensus is held and then counted.
    @Test func anEarlyShareIsHeldUntilTheConsensus() throws {
        let ring = try Ring()
        var a = try ring.round(0), b = try ring.round(1)
        _ = try a.receiveVote(b.ownVote)
        _ = try b.receiveVote(a.ownVote)
        let closed = b.closeVoting()
        let shareB = try #require(closed)
        #expect(try a.receiveShare(shareB) == .held)
        #expect(a.published == nil)
        _ = a.closeVoting()
        let document = try #require(a.published)
        #expect(document.validSigners(among: ring.roster.keys).count == 2)
        #expect(a.closeVoting() == nil, "a member signs once per round")
    }

    /// The chain: a round continues the directory the member holds; a vote continuing another
    /// one is not counted (the member must catch up first).
    @Test func aVoteContinuingAnotherDirectoryIsNotCounted() throws {
        let ring = try Ring()
        var rounds = try (0..<3).map { try ring.round($0) }
        try Self.run(&rounds, up: [0, 1, 2])
        let tenth = try #require(rounds[0].published)
        let directory = try Unverified<RelayDirectory>(tenth).verified(trusting: ring.roster, now: 40_000)
        func next(_ i: Int, previous: (SignedDocument, RelayDirectory)?) throws -> RingRound {
            try RingRound(serial: 12, roster: ring.roster, identity: ring.members[i], previous: previous, validAfter: 43_200,
                          validUntil: 54_000, network: NetworkParameters(coverRate: 2, meanDelayMs: 50), relays: ring.descriptors)
        }
        var a = try next(0, previous: (tenth, directory)), b = try next(1, previous: (tenth, directory))
        let behind = try next(2, previous: nil)
        #expect(throws: RingRound.Refusal.otherPredecessor(serial: 0)) { try a.receiveVote(behind.ownVote) }
        _ = try a.receiveVote(b.ownVote)
        _ = try b.receiveVote(a.ownVote)
        let closed = b.closeVoting()
        let share = try #require(closed)
        _ = a.closeVoting()
        _ = try a.receiveShare(share)
        let twelfth = try Unverified<RelayDirectory>(try #require(a.published)).verified(trusting: ring.roster, now: 45_000)
        #expect(twelfth.serial == 12 && twelfth.previous == .zero && twelfth.earlier == [tenth.bodyHash], "round 11 made none")
        try twelfth.checkFollows(directory, document: tenth)
    }
}
