import Foundation
import SecIRCCore
import SecIRCCrypto
import Testing

/// What the first ring grants relays (docs/PROTOCOL.md §3.4): the consensus rates each listed
/// relay by the median of its voters' weights and the flags a majority granted, never by what
/// the descriptor claims; ratings travel in directories and diffs and are checked on decode.
@Suite struct RelayRatingTests {
    @Test func weightsKeepTwoSignificantDigits() {
        #expect(RelayRating.rounded(1_234) == 1_200)
        #expect(RelayRating.rounded(87.4) == 87)
        #expect(RelayRating.rounded(99.6) == 100)
        #expect(RelayRating.rounded(0.3) == 1)
        #expect(RelayRating.rounded(-5) == 1)
        #expect(RelayRating.rounded(.nan) == 1)
        #expect(RelayRating.rounded(.infinity) == 1)
        #expect(RelayRating.rounded(5e9) == RelayRating.maximumWeight)
    }

    @Test func badRatingsAreRefused() throws {
        #expect(throws: DirectoryError.self) { try RelayRating(weight: 0).validate(allowing: RelayRating.votedFlags) }
        #expect(throws: DirectoryError.self) { try RelayRating(weight: RelayRating.maximumWeight + 1).validate(allowing: RelayRating.votedFlags) }
        #expect(throws: DirectoryError.self) { try RelayRating(weight: 5, flags: ["first_ring"]).validate(allowing: RelayRating.votedFlags) }
        try RelayRating(weight: 5, flags: ["first_ring", "mailbox"]).validate(allowing: RelayRating.directoryFlags)
        // Decoded flags are checked as sent: unsorted or repeated ones are refused, not fixed.
        let unsorted = try DocumentCodingProbe.decodeRating(#"{"flags":["mailbox","first_ring"],"weight":3}"#)
        #expect(throws: DirectoryError.self) { try unsorted.validate(allowing: RelayRating.directoryFlags) }
        let twice = try DocumentCodingProbe.decodeRating(#"{"flags":["mailbox","mailbox"],"weight":3}"#)
        #expect(throws: DirectoryError.self) { try twice.validate(allowing: RelayRating.directoryFlags) }
    }

    @Test func theConsensusTakesTheMedianWeightAndTheFlagsAMajorityGranted() throws {
        let b = try ConsensusTests.Ballots()
        let d = b.documents
        let mailbox = ["mailbox"]
        let votes = try [
            b.vote(0, relays: [d[0], d[1], d[2]], ratings: [.init(weight: 100, flags: mailbox), .init(weight: 10), .init(weight: 7, flags: mailbox)]),
            b.vote(1, relays: [d[0], d[1], d[2]], ratings: [.init(weight: 9_000, flags: mailbox), .init(weight: 30, flags: mailbox), .init(weight: 8)]),
            b.vote(2, relays: [d[0], d[1]], ratings: [.init(weight: 200), .init(weight: 20, flags: mailbox)]),
        ]
        let directory = try Consensus.directory(from: votes, roster: b.f.roster, previous: nil)
        let listed = try directory.descriptors()
        func rating(_ relay: Int) throws -> RelayRating {
            let index = try #require(listed.firstIndex { $0.identityKey == b.f.relays[relay].publicKey })
            return directory.rating(at: index, of: listed[index])
        }
        // Relay 0: weights 100, 9,000, 200 → 200 (one member cannot lift it); mailbox from 2 of 3.
        #expect(try rating(0) == RelayRating(weight: 200, flags: mailbox))
        // Relay 1: 10, 30, 20 → 20; mailbox from 2 of 3.
        #expect(try rating(1) == RelayRating(weight: 20, flags: mailbox))
        // Relay 2: listed by 2 of 3 (7, 8 → the lower, 7); mailbox from 1 of the 3 votes only.
        #expect(try rating(2) == RelayRating(weight: 7))
        #expect(directory.ratings?.count == directory.relays.count)

        // A vote without ratings rates every relay 1 and grants nothing.
        let plain = try [b.vote(0, relays: [d[0]]), b.vote(1, relays: [d[0]]), b.vote(2, relays: [d[0]], ratings: [.init(weight: 50, flags: mailbox)])]
        let unrated = try Consensus.directory(from: plain, roster: b.f.roster, previous: nil)
        #expect(unrated.ratings == [RelayRating(weight: 1)])
    }

    /// `first_ring` is the roster's to grant: a member's descriptor does not need to claim it,
    /// and no vote can grant it.
    @Test func firstRingComesFromTheRosterAlone() throws {
        var f = DirectoryFixture(ringSize: 3, relayCount: 1, seed: "ratings-roster")
        var memberDescriptor = f.descriptor(f.ring[1], port: 9100)
        memberDescriptor.flags = []
        let member = try memberDescriptor.signed(by: f.ring[1])
        var otherDescriptor = f.descriptor(f.relays[0], port: 9200)
        otherDescriptor.flags = ["first_ring", "mailbox"]
        let other = try otherDescriptor.signed(by: f.relays[0])
        let votes = try (0..<3).map { i in
            let vote = DirectoryVote(serial: 3, previousSerial: 0, previous: .zero, voter: f.ring[i].publicKey, validAfter: 1_000,
                                     validUntil: 4_600, network: NetworkParameters(coverRate: 2, meanDelayMs: 50), relays: [member, other],
                                     ratings: [RelayRating(weight: 10, flags: ["mailbox"]), RelayRating(weight: 10)])
            let verified = try Unverified<DirectoryVote>(vote.signed(by: f.ring[i])).verified(roster: f.roster)
            return Consensus.CountedVote(vote: verified.vote, descriptors: verified.descriptors)
        }
        let directory = try Consensus.directory(from: votes, roster: f.roster, previous: nil)
        let listed = try directory.descriptors()
        for (index, descriptor) in listed.enumerated() {
            let flags = directory.rating(at: index, of: descriptor).flags
            #expect(flags == (descriptor.identityKey == f.ring[1].publicKey ? ["first_ring", "mailbox"] : []))
        }
        // A vote granting first_ring is refused.
        let forged = DirectoryVote(serial: 3, previousSerial: 0, previous: .zero, voter: f.ring[0].publicKey, validAfter: 1_000,
                                   validUntil: 4_600, network: NetworkParameters(coverRate: 2, meanDelayMs: 50), relays: [other],
                                   ratings: [RelayRating(weight: 10, flags: ["first_ring"])])
        #expect(throws: DirectoryError.self) { try Unverified<DirectoryVote>(forged.signed(by: f.ring[0])).verified(roster: f.roster) }
        let short = DirectoryVote(serial: 3, previousSerial: 0, previous: .zero, voter: f.ring[0].publicKey, validAfter: 1_000,
                                  validUntil: 4_600, network: NetworkParameters(coverRate: 2, meanDelayMs: 50), relays: [member, other],
                                  ratings: [RelayRating(weight: 10)])
        #expect(throws: DirectoryError.self) { try Unverified<DirectoryVote>(short.signed(by: f.ring[0])).verified(roster: f.roster) }
    }

    /// A directory without ratings keeps its bytes (no `ratings` key) and rates from the
    /// descriptors; one whose ratings do not match its relays is refused by every verifier.
    @Test func directoriesWithoutOrWithBrokenRatings() throws {
        var fixture = DirectoryFixture(relayCount: 2)
        var directory = try fixture.directory()
        #expect(!String(decoding: directory.unsignedDocument().body, as: UTF8.self).contains("ratings"))
        let listed = try directory.descriptors()
        #expect(directory.rating(at: 0, of: listed[0]).weight == 1)

        directory.ratings = [RelayRating(weight: 5)]
        let broken = fixture.sign(directory, by: [0, 1])
        #expect(throws: (any Error).self) { try Unverified<RelayDirectory>(broken).verified(trusting: fixture.roster, now: 1_100) }
        directory.ratings = [RelayRating(weight: 5), RelayRating(weight: 6, flags: ["mailbox"])]
        let good = fixture.sign(directory, by: [0, 1])
        let verified = try Unverified<RelayDirectory>(good).verified(trusting: fixture.roster, now: 1_100)
        #expect(verified.ratings == directory.ratings)
    }

    /// A diff carries ratings as runs of the base's and single new ones, and rebuilds the
    /// exact body; a run outside the base's ratings is refused.
    @Test func diffsCarryRatingsAsRuns() throws {
        var fixture = DirectoryFixture(relayCount: 6)
        var base = try fixture.directory()
        base.ratings = (0..<6).map { RelayRating(weight: 100 + $0, flags: ["mailbox"]) }
        let baseDocument = fixture.sign(base, by: [0, 1])
        var next = base
        next.serial = 2
        next.previous = baseDocument.bodyHash
        next.ratings![3] = RelayRating(weight: 1_200, flags: ["mailbox"])
        let nextDocument = fixture.sign(next, by: [1, 2])
        let diff = try #require(DirectoryDiff.make(from: baseDocument, base, to: nextDocument, next))
        #expect(diff.ratings == [.keep(from: 0, count: 3), .set(RelayRating(weight: 1_200, flags: ["mailbox"])), .keep(from: 4, count: 2)])
        let decoded = try DirectoryDiff.decode(json: diff.jsonBytes())
        #expect(try decoded.apply(to: baseDocument, base) == nextDocument)

        var outside = decoded
        outside.ratings = [.keep(from: 0, count: 3), .set(RelayRating(weight: 1_200)), .keep(from: 4, count: 3)]
        #expect(throws: DirectoryError.self) { try outside.apply(to: baseDocument, base) }
        var negative = decoded
        negative.ratings = [.keep(from: -1, count: 2)]
        #expect(throws: DirectoryError.self) { try negative.apply(to: baseDocument, base) }
        // A piece that is neither keep nor set, or both, does not decode.
        let text = String(decoding: diff.jsonBytes(), as: UTF8.self)
        let both = text.replacingOccurrences(of: #"{"keep":[4,2]}"#, with: #"{"keep":[4,2],"set":{"weight":1}}"#)
        #expect(throws: (any Error).self) { try DirectoryDiff.decode(json: Array(both.utf8)) }
    }
}

extension RelayRatingTests {
    /// `load` is optional (a descriptor without it keeps its bytes) and a multiple of 10 in 0...100.
    @Test func aDescriptorsLoadIsOptionalAndBounded() throws {
        var f = DirectoryFixture(relayCount: 1)
        var descriptor = f.descriptor(f.relays[0], port: 9000)
        let plain = try descriptor.signed(by: f.relays[0])
        #expect(!String(decoding: plain.body, as: UTF8.self).contains("load"))
        descriptor.load = 30
        let loaded = try descriptor.signed(by: f.relays[0])
        #expect(try Unverified<RelayDescriptor>(loaded).verified().load == 30)
        for bad in [-10, 35, 110] {
            descriptor.load = bad
            #expect(throws: (any Error).self) { try Unverified<RelayDescriptor>(descriptor.signed(by: f.relays[0])).verified() }
        }
    }
}

/// Decodes a rating the way documents are decoded (canonical JSON, strict).
enum DocumentCodingProbe {
    static func decodeRating(_ json: String) throws -> RelayRating {
        try JSONDecoder().decode(RelayRating.self, from: Data(json.utf8))
    }
}
