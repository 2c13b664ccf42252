import SecIRCCore
import SecIRCCrypto
import Testing

/// Group epochs (issue 13): each roster change that adds or removes a member gets a new epoch
/// secret (a new group mailbox, sealing and control key); a join's secret is sealed under the
/// previous epoch, a removal's to each remaining member's X25519 key, so whoever left reads
/// nothing after; rekeys from non-admins, forgeries and bad bytes are refused.
@Suite struct GroupEpochTests {
    struct Person {
        let signing: SigningPrivateKey
        let agreement: AgreementPrivateKey
        var identity: GroupIdentity { GroupIdentity(signing: signing.publicKey, agreement: agreement.publicKey) }

        init(_ seed: String) {
            var rng = SeededRandom(seed: seed)
            signing = SigningPrivateKey(using: &rng)
            agreement = AgreementPrivateKey(using: &rng)
        }
    }

    static let alice = Person("alice"), bob = Person("bob"), carol = Person("carol"), dave = Person("dave")
    static let groupKey: SigningPrivateKey = { var rng = SeededRandom(seed: "group"); return SigningPrivateKey(using: &rng) }()

    static func roster() throws -> GroupRoster {
        try GroupRoster.create(groupKey: groupKey, name: "g", creator: alice.identity, others: [bob.identity, carol.identity]).1
    }

    static func next(_ roster: GroupRoster, _ operations: [GroupOperation]) throws -> GroupRoster {
        try roster.applying(GroupUpdate.signed(groupKey: roster.groupKey, serial: roster.serial + 1, previous: roster.hash,
                                               operations: operations, by: alice.signing))
    }

    @Test func eachEpochHasItsOwnMailboxSealingAndControlKeys() {
        var rng = SeededRandom(seed: "epochs")
        let first = GroupEpoch(number: 0, using: &rng), second = GroupEpoch(number: 1, using: &rng)
        let again = GroupEpoch(number: 0, secret: try! SymmetricKey(bytes: Array(repeating: 1, count: 32)))
        let same = GroupEpoch(number: 0, secret: try! SymmetricKey(bytes: Array(repeating: 1, count: 32)))
        #expect(again.mailboxID == same.mailboxID && again.sealingKey.publicKey == same.sealingKey.publicKey)
        #expect(again.controlKey == same.controlKey, "derived, not random")
        #expect(first.mailboxID != second.mailboxID && first.sealingKey.publicKey != second.sealingKey.publicKey)
        #expect(first.controlKey != second.controlKey && !first.hasSameSecret(as: second))
        #expect(first.mailboxID == first.mailboxKey.publicKey.id.rawValue)
    }

    @Test func aJoinsSecretIsSealedUnderThePreviousEpochForThoseWhoStay() throws {
        var rng = SeededRandom(seed: "join")
        let before = try Self.roster()
        let after = try Self.next(before, [.add(Self.dave.identity, .member)])
        let old = GroupEpoch(number: 4, using: &rng), new = GroupEpoch(number: 5, using: &rng)
        let rekey = GroupRekey.make(new, for: after, previous: old, author: Self.alice.signing, rng: &rng)
        for person in [Self.alice, Self.bob, Self.carol] {
            let opened = try rekey.open(as: person.signing.publicKey, agreement: person.agreement, roster: after, previous: old)
            #expect(opened.number == 5 && opened.hasSameSecret(as: new))
        }
        // Without the previous epoch (dave, who gets the new one in his invitation), or with another one.
        #expect(throws: GroupRekeyError.notForMe) {
            try rekey.open(as: Self.dave.signing.publicKey, agreement: Self.dave.agreement, roster: after, previous: nil)
        }
        #expect(throws: GroupRekeyError.self) {
            try rekey.open(as: Self.bob.signing.publicKey, agreement: Self.bob.agreement, roster: after, previous: new)
        }
        #expect(throws: GroupRekeyError.wrongRoster) {
            try rekey.open(as: Self.bob.signing.publicKey, agreement: Self.bob.agreement, roster: before, previous: old)
        }
    }

    @Test func aRemovalsSecretReachesTheMembersWhoStayAndNobodyElse() throws {
        var rng = SeededRandom(seed: "removal")
        let before = try Self.roster()
        let after = try Self.next(before, [.remove(Self.carol.signing.publicKey)])
        let new = GroupEpoch(number: 9, using: &rng)
        let rekey = GroupRekey.make(new, for: after, previous: nil, author: Self.alice.signing, rng: &rng)
        for person in [Self.alice, Self.bob] {
            let opened = try rekey.open(as: person.signing.publicKey, agreement: person.agreement, roster: after, previous: nil)
            #expect(opened.hasSameSecret(as: new) && opened.number == 9)
        }
        // carol: not in the roster it names; with the old roster, the wrong roster; posing as bob
        // with her own X25519 key, not bob's box.
        #expect(throws: GroupRekeyError.notForMe) {
            try rekey.open(as: Self.carol.signing.publicKey, agreement: Self.carol.agreement, roster: after, previous: nil)
        }
        #expect(throws: GroupRekeyError.wrongRoster) {
            try rekey.open(as: Self.carol.signing.publicKey, agreement: Self.carol.agreement, roster: before, previous: nil)
        }
        #expect(throws: GroupRekeyError.notForMe) {
            try rekey.open(as: Self.bob.signing.publicKey, agreement: Self.carol.agreement, roster: after, previous: nil)
        }
        // A 1,000-member rekey fits one envelope body.
        var many = SeededRandom(seed: "many")
        let others = (0..<999).map { _ in
            GroupIdentity(signing: SigningPrivateKey(using: &many).publicKey, agreement: AgreementPrivateKey(using: &many).publicKey)
        }
        let half = try GroupRoster.create(groupKey: Self.groupKey, name: "big", creator: Self.alice.identity, others: Array(others.prefix(500))).1
        let full = try Self.next(half, others.dropFirst(500).map { .add($0, .member) })
        let big = GroupRekey.make(new, for: full, previous: nil, author: Self.alice.signing, rng: &rng)
        #expect(big.encoded.count <= Envelope.maximumBodyLength)
        #expect(try big.open(as: Self.alice.signing.publicKey, agreement: Self.alice.agreement, roster: full, previous: nil).hasSameSecret(as: new))
    }

    @Test func onlyAnAdminsSignedRekeyIsTaken() throws {
        var rng = SeededRandom(seed: "forged")
        let roster = try Self.roster()
        let new = GroupEpoch(number: 1, using: &rng)
        let byBob = GroupRekey.make(new, for: roster, previous: nil, author: Self.bob.signing, rng: &rng)
        #expect(throws: GroupRekeyError.notAllowed) {
            try byBob.open(as: Self.carol.signing.publicKey, agreement: Self.carol.agreement, roster: roster, previous: nil)
        }
        let genuine = GroupRekey.make(new, for: roster, previous: nil, author: Self.alice.signing, rng: &rng)
        let bytes = genuine.encoded
        for bit in stride(from: 8, to: bytes.count * 8, by: 11) {
            var flipped = bytes
            flipped[bit / 8] ^= 1 << UInt8(bit % 8)
            guard let rekey = try? GroupRekey.decode(flipped) else { continue }
            #expect(throws: GroupRekeyError.self) {
                try rekey.open(as: Self.bob.signing.publicKey, agreement: Self.bob.agreement, roster: roster, previous: nil)
            }
        }
    }

    @Test func theRekeyDecoderRefusesTruncatedOversizedMalformedAndRandomInput() throws {
        var rng = SeededRandom(seed: "rekey bytes")
        let roster = try Self.roster()
        let epoch = GroupEpoch(number: 2, using: &rng)
        for previous in [nil, GroupEpoch(number: 1, using: &rng)] {
            let bytes = GroupRekey.make(epoch, for: roster, previous: previous, author: Self.alice.signing, rng: &rng).encoded
            #expect(try GroupRekey.decode(bytes).encoded == bytes)
            for length in 0..<bytes.count { #expect(throws: DecodeError.self) { try GroupRekey.decode(Array(bytes.prefix(length))) } }
            #expect(throws: DecodeError.self) { try GroupRekey.decode(bytes + [0]) }
            var version = bytes
            version[0] = 2
            #expect(throws: DecodeError.self) { try GroupRekey.decode(version) }
            var mode = bytes
            mode[GroupRekey.headerLength - 1] = 7
            #expect(throws: DecodeError.self) { try GroupRekey.decode(mode) }
        }
        var header = ByteWriter()
        header.write(GroupRekey.version)
        header.write(roster.groupID.rawValue)
        header.write(UInt32(1))
        header.write(UInt64(0))
        header.write(roster.hash)
        header.write(UInt8(1))
        let tooMany = header.bytes + [UInt8](repeating: 9, count: 32) + [0x03, 0xE9] // 1,001 boxes
        #expect(throws: DecodeError.self) { try GroupRekey.decode(tooMany + [UInt8](repeating: 0, count: 1001 * 48 + 96)) }
        for round in 0..<2_000 {
            var input = rng.bytes(Int.random(in: 0..<300, using: &rng))
            if round % 2 == 0, input.count > GroupRekey.headerLength { input[0] = GroupRekey.version; input[GroupRekey.headerLength - 1] = UInt8(round % 4 / 2) }
            if let rekey = try? GroupRekey.decode(input) {
                #expect(rekey.encoded == input)
                #expect(throws: GroupRekeyError.self) {
                    try rekey.open(as: Self.bob.signing.publicKey, agreement: Self.bob.agreement, roster: roster, previous: epoch)
                }
            }
        }
    }
}
