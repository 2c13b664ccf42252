import SecIRCCore
import SecIRCCrypto
import Testing

/// Order and gaps in a group (issue 13 item 3): each post shown once, in one order at every
/// member whatever the arrival order; missing posts found from sequences and references; every
/// bound held against a member that lies; the post decoder fed bad input.
@Suite struct GroupTimelineTests {
    static func key(_ seed: String) -> SigningPublicKey {
        var rng = SeededRandom(seed: seed)
        return SigningPrivateKey(using: &rng).publicKey
    }

    static let alice = key("alice"), bob = key("bob"), carol = key("carol")

    /// A member posting into its own timeline as a client would.
    struct Poster {
        let key: SigningPublicKey
        var timeline = GroupTimeline()
        var sequence: UInt64 = 0
        var rng: SeededRandom

        init(_ key: SigningPublicKey) {
            self.key = key
            rng = SeededRandom(seed: key.rawValue.hex)
        }

        mutating func post(_ text: String) -> GroupPost {
            sequence += 1
            let (lamport, references) = timeline.nextPost(by: key)
            let post = GroupPost(rosterSerial: 0, sequence: sequence, lamport: lamport, id: MessageID(using: &rng),
                                 timestampMs: 0, kind: .text, references: references, body: Array(text.utf8))
            timeline.recordOwn(post, by: key)
            return post
        }

        mutating func receive(_ post: GroupPost, from member: SigningPublicKey) -> GroupTimeline.Acceptance {
            timeline.accept(post, from: member)
        }
    }

    @Test func everyMemberShowsEachPostOnceInTheSameOrder() throws {
        var alice = Poster(Self.alice), bob = Poster(Self.bob), carol = Poster(Self.carol)
        // A conversation: alice and bob at once, then carol answers having seen alice's only.
        let a1 = alice.post("hi"), b1 = bob.post("hello")
        _ = carol.receive(a1, from: Self.alice)
        let c1 = carol.post("hi alice")
        _ = alice.receive(b1, from: Self.bob)
        _ = alice.receive(c1, from: Self.carol)
        let a2 = alice.post("both of you")
        let all = [(a1, Self.alice), (b1, Self.bob), (c1, Self.carol), (a2, Self.alice)]
        #expect(c1.lamport > a1.lamport && a2.lamport > c1.lamport && a2.lamport > b1.lamport, "an answer sorts after what it answers")

        // Two observers, opposite arrival orders, every post delivered twice.
        var first = GroupTimeline(), second = GroupTimeline()
        var firstShown: [GroupTimeline.Position] = [], secondShown: [GroupTimeline.Position] = []
        for (post, member) in all + all {
            if case let .new(position) = first.accept(post, from: member) { firstShown.append(position) }
        }
        for (post, member) in (all + all).reversed() {
            if case let .new(position) = second.accept(post, from: member) { secondShown.append(position) }
        }
        #expect(firstShown.count == 4 && secondShown.count == 4, "each once")
        #expect(firstShown.sorted() == secondShown.sorted())
        let shown = firstShown.sorted()
        #expect(shown.map(\.lamport) == [1, 1, 2, 3] && shown.suffix(2).map(\.member) == [Self.carol, Self.alice])
        #expect(shown[0].member.bytes.lexicographicallyPrecedes(shown[1].member.bytes), "a tie on lamport goes by member key")
        #expect(first.gaps.isEmpty && second.gaps.isEmpty)
        #expect(first.clock == second.clock && first.clock == a2.lamport, "the same clock, whatever the order")
    }

    @Test func missingPostsAreFoundFromSequencesAndReferences() throws {
        var bob = Poster(Self.bob), carol = Poster(Self.carol)
        let b = (1...5).map { bob.post("b\($0)") }
        var timeline = GroupTimeline()
        _ = timeline.accept(b[0], from: Self.bob)
        _ = timeline.accept(b[2], from: Self.bob)
        #expect(timeline.gaps.map { [$0.from, $0.through] } == [[2, 3]] && timeline.gaps.first?.member == Self.bob)
        // carol saw all five of bob's: her post names bob's 5, so 4 and 5 are missing too.
        for post in b { _ = carol.receive(post, from: Self.bob) }
        let c1 = carol.post("seen")
        #expect(c1.references == [GroupPost.Reference(member: Self.bob, sequence: 5)])
        _ = timeline.accept(c1, from: Self.carol)
        #expect(timeline.gaps.map { [$0.from, $0.through] } == [[2, 5]])
        #expect(!timeline.holds(Self.bob, 2) && timeline.holds(Self.bob, 3))
        for i in [1, 3, 4] { _ = timeline.accept(b[i], from: Self.bob) }
        #expect(timeline.gaps.isEmpty && timeline.holds(Self.bob, 5))
    }

    @Test func liesAndFloodsStayBounded() throws {
        var timeline = GroupTimeline()
        var rng = SeededRandom(seed: "far")
        func post(_ sequence: UInt64, references: [GroupPost.Reference] = []) -> GroupPost {
            GroupPost(rosterSerial: 0, sequence: sequence, lamport: 1, id: MessageID(using: &rng), timestampMs: 0,
                      kind: .text, references: references, body: [])
        }
        #expect(timeline.accept(post(GroupTimeline.maxAhead + 1), from: Self.bob) == .tooFarAhead)
        #expect(timeline.accept(post(.max), from: Self.bob) == .tooFarAhead)
        #expect(timeline.gaps.isEmpty, "a refused post claims nothing")
        if case .new = timeline.accept(post(GroupTimeline.maxAhead), from: Self.bob) {} else { Issue.record("within the bound") }
        // A reference to a billion posts of carol's names at most maxAhead of them.
        _ = timeline.accept(post(1, references: [GroupPost.Reference(member: Self.carol, sequence: 1_000_000_000)]), from: Self.alice)
        let carolGap = try #require(timeline.gaps.first { $0.member == Self.carol })
        #expect(carolGap.through - carolGap.from + 1 == GroupTimeline.maxAhead)
        // A joiner reads from where it was handed a member's chain: older posts are not missing.
        var joiner = GroupTimeline()
        joiner.begin(Self.bob, after: 40)
        #expect(joiner.accept(post(40), from: Self.bob) == .duplicate)
        if case .new = joiner.accept(post(41), from: Self.bob) {} else { Issue.record("the first post after the start") }
        #expect(joiner.gaps.isEmpty)
        joiner.forget(Self.bob)
        #expect(!joiner.holds(Self.bob, 41))

        // The largest numbers a member can claim: no overflow, nothing unbounded.
        var edge = GroupTimeline()
        edge.begin(Self.carol, after: .max - 1)
        if case .new = edge.accept(post(.max, references: [GroupPost.Reference(member: Self.bob, sequence: .max)]), from: Self.carol) {} else {
            Issue.record("the last sequence")
        }
        #expect(edge.holds(Self.carol, .max) && edge.gaps.map(\.member) == [Self.bob])
        let huge = GroupPost(rosterSerial: 0, sequence: 1, lamport: .max, id: MessageID(using: &rng), timestampMs: 0, kind: .text,
                             references: [], body: [])
        _ = edge.accept(huge, from: Self.alice)
        let next = edge.nextPost(by: Self.bob)
        #expect(next.lamport == .max, "saturates")
    }

    @Test func thePostDecoderRefusesTruncatedOversizedMalformedAndRandomInput() throws {
        var rng = SeededRandom(seed: "post")
        let post = GroupPost(rosterSerial: 3, sequence: 7, lamport: 9, id: MessageID(using: &rng), timestampMs: 1_700_000_000_000,
                             kind: .text, references: [GroupPost.Reference(member: Self.carol, sequence: 2)], body: Array("hello".utf8))
        let bytes = post.encoded
        #expect(try GroupPost.decode(bytes) == post)
        for length in 0..<bytes.count { #expect(throws: DecodeError.self) { try GroupPost.decode(Array(bytes.prefix(length))) } }
        #expect(throws: DecodeError.self) { try GroupPost.decode(bytes + [0]) }
        var wrongVersion = bytes
        wrongVersion[0] = 2
        #expect(throws: DecodeError.self) { try GroupPost.decode(wrongVersion) }
        var zeroSequence = bytes
        for i in 9..<17 { zeroSequence[i] = 0 }
        #expect(throws: DecodeError.self) { try GroupPost.decode(zeroSequence) }
        let referencesAt = 1 + 8 + 8 + 8 + 16 + 8 + 1
        var tooManyReferences = bytes
        tooManyReferences[referencesAt] = UInt8(GroupPost.maxReferences + 1)
        #expect(throws: DecodeError.self) { try GroupPost.decode(tooManyReferences) }
        var hugeBody = bytes
        let lengthAt = referencesAt + 1 + 40
        hugeBody.replaceSubrange(lengthAt..<(lengthAt + 4), with: [0, 1, 0, 1])
        #expect(throws: DecodeError.self) { try GroupPost.decode(hugeBody + [UInt8](repeating: 0, count: 65_537 - 5)) }
        for round in 0..<3_000 {
            var input = rng.bytes(Int.random(in: 0..<200, using: &rng))
            if round % 2 == 0, !input.isEmpty { input[0] = GroupPost.version }
            if let decoded = try? GroupPost.decode(input) { #expect(decoded.encoded == input, "round \(round): canonical") }
        }
    }
}
