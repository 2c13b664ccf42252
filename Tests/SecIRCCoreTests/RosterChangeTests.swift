import SecIRCCore
import SecIRCCrypto
import Testing

/// Roster changes (docs/PROTOCOL.md §3.5): the chain a node follows from its configured roster,
/// each change signed by the threshold of the roster before it, and the bytes a second
/// implementation must agree on.
@Suite struct RosterChangeTests {
    struct Ring {
        var keys: [SigningPrivateKey]
        var genesis: Roster

        init(size: Int = 3, extra: Int = 2) {
            var rng = SeededRandom(seed: "roster change")
            keys = (0..<(size + extra)).map { _ in SigningPrivateKey(using: &rng) }
            let keys = keys
            genesis = Roster(members: (0..<size).map {
                Roster.Member(identityKey: keys[$0].publicKey, udp: "127.0.0.1:\(7000 + $0)", http: "http://127.0.0.1:\(8000 + $0)")
            })
        }

        func member(_ i: Int) -> Roster.Member {
            Roster.Member(identityKey: keys[i].publicKey, udp: "127.0.0.1:\(7000 + i)", http: "http://127.0.0.1:\(8000 + i)")
        }

        /// The change from `roster` to `members`, signed by the keys at `signers`.
        func change(from roster: Roster, to members: [Int], threshold: Int? = nil, network: GovernedParameters? = nil,
                    signers: [Int]) throws -> SignedDocument {
            let change = try RosterChange.following(roster, members: members.map { member($0) }, threshold: threshold,
                                                    network: network, proposedAt: 1_000, note: "test")
            var document = change.unsignedDocument()
            for i in signers { document.sign(with: keys[i]) }
            return document
        }
    }

    @Test func aChangeSignedByTheThresholdOfTheRosterBeforeItIsFollowed() throws {
        let ring = Ring()
        var chain = RosterChain(genesis: ring.genesis)
        let add = try ring.change(from: ring.genesis, to: [0, 1, 2, 3], signers: [0, 2])
        #expect(try chain.append(add))
        #expect(chain.current.epoch == 1 && chain.current.members.count == 4 && chain.current.threshold == 3)
        // The next one needs three of the four.
        let remove = try ring.change(from: chain.current, to: [1, 2, 3], signers: [1, 3])
        #expect(throws: DirectoryError.insufficientSignatures(valid: 2, required: 3)) { try chain.append(remove) }
        let removed = try ring.change(from: chain.current, to: [1, 2, 3], signers: [1, 2, 3])
        #expect(try chain.append(removed))
        #expect(chain.current.epoch == 2 && chain.current.keys == Set([1, 2, 3].map { ring.keys[$0].publicKey }))
        // Held already: nothing changes.
        #expect(try !chain.append(add))
        #expect(chain.changes(since: 0).count == 2 && chain.changes(since: 1).count == 1 && chain.changes(since: 9).isEmpty)
    }

    @Test func signaturesOfNonMembersOrOverOtherBytesDoNotCount() throws {
        let ring = Ring()
        var chain = RosterChain(genesis: ring.genesis)
        // Two signatures, but only one by a member of the roster in force.
        let outsider = try ring.change(from: ring.genesis, to: [0, 1, 2, 3], signers: [0, 3])
        #expect(throws: DirectoryError.insufficientSignatures(valid: 1, required: 2)) { try chain.append(outsider) }
        // A member's signature copied onto other bytes.
        var forged = try ring.change(from: ring.genesis, to: [0, 1, 2, 4], signers: [])
        let signed = try ring.change(from: ring.genesis, to: [0, 1, 2, 3], signers: [0, 1])
        forged.signatures = signed.signatures
        #expect(throws: DirectoryError.insufficientSignatures(valid: 0, required: 1)) { try chain.append(forged) }
        // The same member twice counts once.
        var twice = try ring.change(from: ring.genesis, to: [0, 1, 2, 3], signers: [0])
        twice.signatures += twice.signatures
        #expect(throws: DirectoryError.insufficientSignatures(valid: 1, required: 2)) { try chain.append(twice) }
        #expect(chain.current == ring.genesis)
    }

    @Test func aChangeThatDoesNotContinueTheRosterInForceIsRefused() throws {
        let ring = Ring()
        var chain = RosterChain(genesis: ring.genesis)
        let first = try ring.change(from: ring.genesis, to: [0, 1, 2, 3], signers: [0, 1])
        // Skips an epoch.
        var ahead = ring.genesis
        ahead.epoch = 1
        let skipping = try ring.change(from: ahead, to: [0, 1], signers: [0, 1])
        #expect(throws: DirectoryError.self) { try chain.append(skipping) }
        try chain.append(first)
        // A rival change for epoch 1 (two members signing twice): a fork, refused.
        let rival = try ring.change(from: ring.genesis, to: [0, 1, 2, 4], signers: [1, 2])
        #expect(throws: DirectoryError.brokenChain("a different roster change for epoch 1 is in force")) { try chain.append(rival) }
        // Names another roster than the one it replaces.
        var other = ring.genesis
        other.threshold = 3
        var wrongPrevious = try RosterChange.following(other, members: [0, 1, 2, 3].map { ring.member($0) }, threshold: nil,
                                                       network: nil, proposedAt: 0, note: nil)
        wrongPrevious.epoch = 2
        wrongPrevious.roster.epoch = 2
        var document = wrongPrevious.unsignedDocument()
        for i in [0, 1, 2, 3] { document.sign(with: ring.keys[i]) }
        #expect(throws: DirectoryError.invalid("roster change replaces another roster")) { try chain.append(document) }
        #expect(chain.current.epoch == 1)
    }

    @Test func networkParametersSetByChangesMergeFieldByField() throws {
        let ring = Ring()
        var chain = RosterChain(genesis: ring.genesis)
        try chain.append(try ring.change(from: chain.current, to: [0, 1, 2], threshold: 2,
                                         network: GovernedParameters(coverRate: 4, meanDelayMs: 80), signers: [0, 1]))
        try chain.append(try ring.change(from: chain.current, to: [0, 1, 2], threshold: 2,
                                         network: GovernedParameters(meanDelayMs: 30), signers: [1, 2]))
        #expect(chain.network == GovernedParameters(coverRate: 4, meanDelayMs: 30))
        let applied = chain.network!.applied(to: NetworkParameters(coverRate: 1, loopRate: 0.5, meanDelayMs: 50))
        #expect(applied.coverRate == 4 && applied.loopRate == 0.5 && applied.meanDelayMs == 30)
        // The relays' cover rate is governed like the others, within 0...1000.
        try chain.append(try ring.change(from: chain.current, to: [0, 1, 2], threshold: 2,
                                         network: GovernedParameters(relayCoverRate: 0.25), signers: [0, 2]))
        #expect(chain.network == GovernedParameters(coverRate: 4, relayCoverRate: 0.25, meanDelayMs: 30))
        #expect(chain.network!.applied(to: NetworkParameters(coverRate: 1, meanDelayMs: 50)).relayCoverRate == 0.25)
        #expect(throws: DirectoryError.self) { try GovernedParameters(relayCoverRate: 1001).validate() }
        #expect(throws: DirectoryError.self) { try GovernedParameters(relayCoverRate: -1).validate() }
    }

    @Test func proposalsThatChangeNothingOrBreakTheRulesAreRefused() throws {
        let ring = Ring()
        #expect(throws: DirectoryError.invalid("the proposal changes nothing")) {
            try RosterChange.following(ring.genesis, members: ring.genesis.members, threshold: 2, network: nil, proposedAt: 0, note: nil)
        }
        #expect(throws: DirectoryError.self) { // a minority threshold
            try RosterChange.following(ring.genesis, members: [0, 1, 2, 3].map { ring.member($0) }, threshold: 2, network: nil,
                                       proposedAt: 0, note: nil)
        }
        #expect(throws: DirectoryError.self) { // a member twice
            try RosterChange.following(ring.genesis, members: [0, 0, 1].map { ring.member($0) }, threshold: nil, network: nil,
                                       proposedAt: 0, note: nil)
        }
        #expect(throws: DirectoryError.self) { // no member at all
            try RosterChange.following(ring.genesis, members: [], threshold: nil, network: nil, proposedAt: 0, note: nil)
        }
        #expect(throws: DirectoryError.self) {
            try RosterChange.following(ring.genesis, members: ring.genesis.members, threshold: 2,
                                       network: GovernedParameters(coverRate: 0), proposedAt: 0, note: nil)
        }
        #expect(throws: DirectoryError.self) {
            try RosterChange.following(ring.genesis, members: ring.genesis.members, threshold: 2, network: GovernedParameters(),
                                       proposedAt: 0, note: nil)
        }
        #expect(throws: DirectoryError.self) {
            try RosterChange.following(ring.genesis, members: [0, 1, 2, 3].map { ring.member($0) }, threshold: nil, network: nil,
                                       proposedAt: 0, note: String(repeating: "x", count: RosterChange.maximumNoteLength + 1))
        }
    }

    /// The configured roster keeps its bytes (no `epoch` key at 0), so directories signed before
    /// governance still verify; a later roster carries its epoch; the hash is over those bytes.
    @Test func rosterBytesAndHash() throws {
        let ring = Ring()
        let directory = RelayDirectory(serial: 1, previous: .zero, validAfter: 0, validUntil: 10,
                                       network: NetworkParameters(coverRate: 1, meanDelayMs: 50), roster: ring.genesis, relays: [])
        let directoryBody = String(decoding: directory.unsignedDocument().body, as: UTF8.self)
        #expect(directoryBody.contains("\"roster\":{\"members\":["), "\(directoryBody)")
        let change = try RosterChange.following(ring.genesis, members: [0, 1, 2, 3].map { ring.member($0) }, threshold: nil,
                                                network: nil, proposedAt: 7, note: nil)
        let body = String(decoding: change.unsignedDocument().body, as: UTF8.self)
        #expect(body.contains("\"previous\":\"\(ring.genesis.hash.hex)\""), "\(body)")
        #expect(body.contains("\"roster\":{\"epoch\":1,\"members\":["), "\(body)")
        #expect(try Unverified<RosterChange>(change.unsignedDocument()).claimedEpoch == 1)
        var genesis = ring.genesis
        let before = genesis.hash
        genesis.epoch = 1
        #expect(genesis.hash != before)
        genesis.epoch = 0
        #expect(genesis.hash == before)
    }

    @Test func chainAnswersFromTheNetworkAreBounded() throws {
        let ring = Ring()
        let change = try ring.change(from: ring.genesis, to: [0, 1, 2, 3], signers: [0, 1])
        let answer = RosterChainAnswer(epoch: 1, roster: ring.genesis, changes: [change])
        let bytes = answer.jsonBytes()
        #expect(try RosterChainAnswer.decode(json: bytes) == answer)
        for cut in [0, 1, bytes.count / 2, bytes.count - 1] {
            #expect(throws: DirectoryError.self) { try RosterChainAnswer.decode(json: Array(bytes.prefix(cut))) }
        }
        #expect(throws: DirectoryError.self) {
            try RosterChainAnswer.decode(json: Array(repeating: UInt8(ascii: " "), count: SignedDocument.maximumEncodedLength + 1))
        }
        #expect(throws: DirectoryError.self) { try RosterChainAnswer.decode(json: Array(#"{"epoch":-1,"roster":{},"changes":[]}"#.utf8)) }
        var rng = SeededRandom(seed: "random answers")
        for _ in 0..<200 {
            let junk = (0..<Int(rng.next() % 300)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            _ = try? RosterChainAnswer.decode(json: junk)
        }
        // A decoded answer's changes are verified only when appended.
        var chain = RosterChain(genesis: ring.genesis)
        var tampered = change
        tampered.body[tampered.body.count / 2] ^= 1
        #expect(throws: (any Error).self) { try chain.append(tampered) }
    }
}
