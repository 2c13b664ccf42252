import SecIRCCore
import SecIRCCrypto
import Testing

/// The first ring's consensus: the same votes make the same bytes whatever their order; a relay
/// needs a majority of the votes; one member cannot move a number; the chain survives rounds
/// that made no directory.
@Suite struct ConsensusTests {
    /// Relays 0...3 signed, relay 0 also in a newer version (published 1,100).
    struct Ballots {
        var f = DirectoryFixture(ringSize: 3, relayCount: 4, seed: "consensus")
        var documents: [SignedDocument] = []
        var newerFirst: SignedDocument

        init() throws {
            for (i, key) in f.relays.enumerated() { documents.append(try f.descriptor(key, port: 9000 + 10 * i).signed(by: f.relays[i])) }
            var newer = try Unverified<RelayDescriptor>(documents[0]).verified()
            newer.published = 1_100
            newerFirst = try newer.signed(by: f.relays[0])
        }

        func vote(_ member: Int, relays: [SignedDocument], serial: UInt64 = 7, coverRate: Double = 2, meanDelayMs: Int = 50,
                  validAfter: Int64 = 1_000, ratings: [RelayRating]? = nil) throws -> Consensus.CountedVote {
            let vote = DirectoryVote(serial: serial, previousSerial: 0, previous: .zero, voter: f.ring[member].publicKey,
                                     validAfter: validAfter, validUntil: validAfter + 3_600,
                                     network: NetworkParameters(coverRate: coverRate, meanDelayMs: meanDelayMs), relays: relays,
                                     ratings: ratings)
            let verified = try Unverified<DirectoryVote>(vote.signed(by: f.ring[member])).verified(roster: f.roster)
            return Consensus.CountedVote(vote: verified.vote, descriptors: verified.descriptors)
        }
    }

    @Test func aRelayNeedsAMajorityOfTheVotesAndTheNewestVersionIsListed() throws {
        let b = try Ballots()
        let d = b.documents
        let votes = try [b.vote(0, relays: [d[0], d[1], d[2]]), b.vote(1, relays: [b.newerFirst, d[1]]), b.vote(2, relays: [d[0], d[3]])]
        let directory = try Consensus.directory(from: votes, roster: b.f.roster, previous: nil)
        let listed = try directory.descriptors()
        #expect(Set(listed.map(\.identityKey)) == [b.f.relays[0].publicKey, b.f.relays[1].publicKey], "2 of 3 votes list each")
        #expect(directory.relays.contains(b.newerFirst) && !directory.relays.contains(d[0]), "the newest version of relay 0")
        #expect(listed.map(\.id) == listed.map(\.id).sorted(), "sorted by relay ID")
        #expect(directory.serial == 7 && directory.previous == .zero && directory.earlier == nil)

        // Of two votes, a relay needs both.
        let two = try Consensus.directory(from: Array(votes.prefix(2)), roster: b.f.roster, previous: nil)
        #expect(try two.descriptors().map(\.identityKey) == [b.f.relays[0].publicKey, b.f.relays[1].publicKey].sorted { ID(of: $0) < ID(of: $1) })
    }

    /// Three votes of at most two relays each list three by majority: a consensus can be larger
    /// than any vote. Over the byte limit, the most-listed relays are kept, as many as fit, the
    /// same on every member.
    @Test func aConsensusOverTheByteLimitKeepsTheMostListedRelaysThatFit() throws {
        let b = try Ballots()
        let d = b.documents
        let votes = try [b.vote(0, relays: [d[0], d[1], d[3]]), b.vote(1, relays: [d[1], d[2], d[3]]), b.vote(2, relays: [d[0], d[2], d[3]])]
        let whole = try Consensus.directory(from: votes, roster: b.f.roster, previous: nil)
        #expect(whole.relays.count == 4)
        // Room for the envelope and about two relays.
        let limit = (whole.unsignedDocument().body.count - d[0].jsonBytes().count * 2) * 4 / 3 + 1_000
        let trimmed = try Consensus.directory(from: votes, roster: b.f.roster, previous: nil, maximumBytes: limit)
        #expect(trimmed.relays.count >= 1 && trimmed.relays.count < 4)
        #expect(trimmed.relays.contains(d[3]), "relay 3, listed by all three votes, is kept first")
        var signed = trimmed.unsignedDocument()
        for key in b.f.ring { signed.sign(with: key) }
        #expect(signed.jsonBytes().count <= limit)
        let again = try Consensus.directory(from: votes.reversed(), roster: b.f.roster, previous: nil, maximumBytes: limit)
        #expect(again.unsignedDocument().body == trimmed.unsignedDocument().body, "the same on every member")
    }

    @Test func theSameVotesMakeTheSameBytesInAnyOrder() throws {
        let b = try Ballots()
        let d = b.documents
        let votes = try [b.vote(0, relays: [d[2], d[0], d[1]], coverRate: 1), b.vote(1, relays: [d[1], b.newerFirst], coverRate: 3),
                         b.vote(2, relays: [d[3], d[1], d[0]], coverRate: 2)]
        let bodies = try [[0, 1, 2], [2, 1, 0], [1, 2, 0]].map { order in
            try Consensus.directory(from: order.map { votes[$0] }, roster: b.f.roster, previous: nil).unsignedDocument().body
        }
        #expect(Set(bodies).count == 1)
    }

    /// Each number is the lower median: one member cannot move it however far it votes.
    @Test func oneMemberCannotMoveANumber() throws {
        let b = try Ballots()
        let votes = try [b.vote(0, relays: [], coverRate: 2, meanDelayMs: 50, validAfter: 1_000),
                         b.vote(1, relays: [], coverRate: 2.5, meanDelayMs: 40, validAfter: 1_001),
                         b.vote(2, relays: [], coverRate: 1_000, meanDelayMs: 1, validAfter: 9_999_999)]
        let directory = try Consensus.directory(from: votes, roster: b.f.roster, previous: nil)
        #expect(directory.network.coverRate == 2.5 && directory.network.meanDelayMs == 40)
        #expect(directory.validAfter == 1_001 && directory.validUntil == 4_601)
        let even = try Consensus.directory(from: Array(votes.prefix(2)), roster: b.f.roster, previous: nil)
        #expect(even.network.coverRate == 2 && even.network.meanDelayMs == 40, "of two, the lower")
    }

    @Test func votesThatCannotMakeADirectoryAreRefused() throws {
        let b = try Ballots()
        let one = try b.vote(0, relays: [])
        #expect(throws: DirectoryError.insufficientSignatures(valid: 1, required: 2)) {
            try Consensus.directory(from: [one], roster: b.f.roster, previous: nil)
        }
        #expect(throws: DirectoryError.self) { try Consensus.directory(from: [one, one], roster: b.f.roster, previous: nil) }
        let otherRound = try b.vote(1, relays: [], serial: 8)
        #expect(throws: DirectoryError.self) { try Consensus.directory(from: [one, otherRound], roster: b.f.roster, previous: nil) }
        let stranger = DirectoryFixture(ringSize: 3, relayCount: 0, seed: "another ring")
        let foreign = Roster(members: stranger.roster.members, threshold: 2)
        #expect(throws: DirectoryError.self) {
            try Consensus.directory(from: [one, b.vote(1, relays: [])], roster: foreign, previous: nil)
        }
    }

    /// Round serials are periods: a round that made no directory leaves a gap, and the next
    /// directory still names the last one (zeros for the serials that had none).
    @Test func theChainSkipsRoundsThatMadeNoDirectory() throws {
        var f = DirectoryFixture(seed: "consensus chain")
        let fifth = try f.directory(serial: 5, previous: .zero)
        let fifthDocument = f.sign(fifth, by: [0, 1])
        let links = Consensus.chainLinks(serial: 8, previous: (fifthDocument, fifth))
        #expect(links.previous == .zero && links.earlier == [.zero, fifthDocument.bodyHash])
        var eighth = try f.directory(serial: 8, previous: links.previous)
        eighth.earlier = links.earlier
        try eighth.validate()
        try eighth.checkFollows(fifth, document: fifthDocument)

        let next = Consensus.chainLinks(serial: 6, previous: (fifthDocument, fifth))
        #expect(next.previous == fifthDocument.bodyHash && next.earlier == nil, "nothing before the fifth to name")
        let far = Consensus.chainLinks(serial: 5 + 65, previous: (fifthDocument, fifth))
        #expect(far.previous == .zero && far.earlier == nil, "beyond 64 rounds nothing is named")
    }

    @Test func aVoteMustBeSignedByItsVoterAMemberWithGenuineDescriptors() throws {
        let b = try Ballots()
        let good = DirectoryVote(serial: 7, previousSerial: 0, previous: .zero, voter: b.f.ring[0].publicKey, validAfter: 1_000,
                                 validUntil: 4_600, network: NetworkParameters(coverRate: 2, meanDelayMs: 50), relays: [b.documents[0]])
        var signedByAnother = SignedDocument(type: DirectoryVote.documentType, body: try good.signed(by: b.f.ring[0]).body)
        signedByAnother.sign(with: b.f.ring[1])
        #expect(throws: DirectoryError.self) { try Unverified<DirectoryVote>(signedByAnother).verified(roster: b.f.roster) }

        var forged = b.documents[1]
        forged.body[forged.body.count / 2] ^= 1
        var withForged = good
        withForged.relays = [forged]
        #expect(throws: (any Error).self) { try Unverified<DirectoryVote>(withForged.signed(by: b.f.ring[0])).verified(roster: b.f.roster) }
        var twice = good
        twice.relays = [b.documents[0], b.newerFirst]
        #expect(throws: DirectoryError.invalid("relay \(b.f.relays[0].publicKey.id) listed twice")) {
            try Unverified<DirectoryVote>(twice.signed(by: b.f.ring[0])).verified(roster: b.f.roster)
        }
        var outsiderRandom = SeededRandom(seed: "outsider")
        let outsider = SigningPrivateKey(using: &outsiderRandom)
        var byOutsider = good
        byOutsider.voter = outsider.publicKey
        #expect(throws: DirectoryError.invalid("the voter is not a member of the roster")) {
            try Unverified<DirectoryVote>(byOutsider.signed(by: outsider)).verified(roster: b.f.roster)
        }
        var halfChained = good
        halfChained.previousSerial = 3
        #expect(throws: DirectoryError.self) { try halfChained.validate() }
    }

    @Test func anEquivocationProofChecksOnlyTwoDifferentStatementsOfOneMember() throws {
        let b = try Ballots()
        let directory = try Consensus.directory(from: [b.vote(0, relays: []), b.vote(1, relays: [])], roster: b.f.roster, previous: nil)
        var other = directory
        other.network.coverRate = 9
        let first = DirectorySignatureShare.share(of: directory.unsignedDocument(), serial: 7, by: b.f.ring[2])
        let second = DirectorySignatureShare.share(of: other.unsignedDocument(), serial: 7, by: b.f.ring[2])
        try EquivocationProof(kind: .signature, member: b.f.ring[2].publicKey, serial: 7, first: first, second: second).check(roster: b.f.roster)
        #expect(throws: DirectoryError.self) {
            try EquivocationProof(kind: .signature, member: b.f.ring[2].publicKey, serial: 7, first: first, second: first).check(roster: b.f.roster)
        }
        let byAnother = DirectorySignatureShare.share(of: other.unsignedDocument(), serial: 7, by: b.f.ring[1])
        #expect(throws: DirectoryError.self) {
            try EquivocationProof(kind: .signature, member: b.f.ring[2].publicKey, serial: 7, first: first, second: byAnother).check(roster: b.f.roster)
        }
        let nextRound = DirectorySignatureShare.share(of: other.unsignedDocument(), serial: 8, by: b.f.ring[2])
        #expect(throws: DirectoryError.self) {
            try EquivocationProof(kind: .signature, member: b.f.ring[2].publicKey, serial: 7, first: first, second: nextRound).check(roster: b.f.roster)
        }
    }

    /// Votes and shares come from the network: every prefix, and random bytes, give an error.
    @Test func truncatedAndRandomVotesAndSharesAreRefused() throws {
        let b = try Ballots()
        let vote = try DirectoryVote(serial: 7, previousSerial: 0, previous: .zero, voter: b.f.ring[0].publicKey, validAfter: 1_000,
                                     validUntil: 4_600, network: NetworkParameters(coverRate: 2, meanDelayMs: 50),
                                     relays: [b.documents[0]]).signed(by: b.f.ring[0])
        let share = DirectorySignatureShare.share(of: vote, serial: 7, by: b.f.ring[1])
        for document in [vote, share] {
            let json = document.jsonBytes()
            for end in 0..<json.count {
                guard let parsed = try? SignedDocument.decode(json: Array(json[..<end])) else { continue }
                #expect(parsed != document)
            }
            let body = document.body
            for end in stride(from: 0, to: body.count, by: 7) {
                let cut = SignedDocument(type: document.type, body: Array(body[..<end]), signatures: document.signatures)
                #expect(throws: (any Error).self) { try Unverified<DirectoryVote>(cut).verified(roster: b.f.roster) }
                #expect(throws: (any Error).self) { try Unverified<DirectorySignatureShare>(cut).verified(roster: b.f.roster) }
            }
        }
        var rng = SeededRandom(seed: "random votes")
        for _ in 0..<200 {
            let junk = (0..<Int(rng.next() % 300)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            let document = SignedDocument(type: DirectoryVote.documentType, body: junk, signatures: vote.signatures)
            #expect(throws: (any Error).self) { try Unverified<DirectoryVote>(document).verified(roster: b.f.roster) }
        }
    }
}
