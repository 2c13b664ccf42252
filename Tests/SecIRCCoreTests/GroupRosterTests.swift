import SecIRCCore
import SecIRCCrypto
import Testing

/// Group rosters (issue 13): created by the group key, changed only by admin-signed chained
/// updates, concurrent updates settled the same way by every member, and the decoders of what
/// members send each other fed bad input.
@Suite struct GroupRosterTests {
    static func key(_ seed: String) -> SigningPrivateKey {
        var rng = SeededRandom(seed: seed)
        return SigningPrivateKey(using: &rng)
    }

    static let groupKey = key("group")
    static let alice = key("alice"), bob = key("bob"), carol = key("carol"), dave = key("dave")

    /// A member's roster identity: its Ed25519 key and an X25519 key.
    static func identity(_ key: SigningPrivateKey) -> GroupIdentity {
        var rng = SeededRandom(seed: key.publicKey.rawValue.hex)
        return GroupIdentity(signing: key.publicKey, agreement: AgreementPrivateKey(using: &rng).publicKey)
    }

    /// alice (admin), bob and carol.
    static func group() throws -> (GroupUpdate, GroupRoster) {
        try GroupRoster.create(groupKey: groupKey, name: "friends", creator: identity(alice),
                               others: [identity(bob), identity(carol)])
    }

    static func update(_ roster: GroupRoster, _ operations: [GroupOperation], by author: SigningPrivateKey) -> GroupUpdate {
        GroupUpdate.signed(groupKey: roster.groupKey, serial: roster.serial + 1, previous: roster.hash, operations: operations, by: author)
    }

    @Test func theGroupKeyCreatesAndAdminsChangeTheRoster() throws {
        let (creation, roster) = try Self.group()
        #expect(roster.groupID == Self.groupKey.publicKey.id)
        #expect(roster.serial == 0 && roster.hash == creation.hash && roster.name == "friends" && roster.limit == 1000)
        #expect(roster.members == [Self.alice.publicKey: .admin, Self.bob.publicKey: .member, Self.carol.publicKey: .member])
        #expect(roster.agreementKeys[Self.bob.publicKey] == Self.identity(Self.bob).agreement)

        let first = Self.update(roster, [.add(Self.identity(Self.dave), .member), .setRole(Self.bob.publicKey, .admin), .rename("family")], by: Self.alice)
        let changed = try roster.applying(first)
        #expect(changed.serial == 1 && changed.hash == first.hash && changed.name == "family")
        #expect(changed.admins == [Self.alice.publicKey, Self.bob.publicKey] && changed.members.count == 4)
        // bob, an admin now, removes carol; the chain goes on from the last hash.
        let second = Self.update(changed, [.remove(Self.carol.publicKey), .setLimit(3)], by: Self.bob)
        let after = try changed.applying(second)
        #expect(after.members[Self.carol.publicKey] == nil && after.agreementKeys[Self.carol.publicKey] == nil)
        #expect(after.limit == 3 && after.serial == 2)
        // Applying again, or out of order, is not the next update.
        #expect(throws: GroupRosterError.notNext) { try after.applying(second) }
        #expect(throws: GroupRosterError.notNext) { try roster.applying(second) }
    }

    @Test func onlyAdminsSignChangesAndAMemberMayOnlyLeave() throws {
        let (_, roster) = try Self.group()
        #expect(throws: GroupRosterError.notAllowed) { try roster.applying(Self.update(roster, [.add(Self.identity(Self.dave), .member)], by: Self.bob)) }
        #expect(throws: GroupRosterError.notAllowed) { try roster.applying(Self.update(roster, [.remove(Self.carol.publicKey)], by: Self.bob)) }
        #expect(throws: GroupRosterError.notAllowed) { try roster.applying(Self.update(roster, [.remove(Self.dave.publicKey)], by: Self.dave)) }
        #expect(throws: GroupRosterError.notAllowed, "leaving is one operation, no more") {
            try roster.applying(Self.update(roster, [.remove(Self.bob.publicKey), .rename("mine")], by: Self.bob))
        }
        let left = try roster.applying(Self.update(roster, [.remove(Self.bob.publicKey)], by: Self.bob))
        #expect(left.members[Self.bob.publicKey] == nil)
        // The group key signs update 0 only; a stranger's creation is not the group's.
        #expect(throws: GroupRosterError.notAllowed) { try roster.applying(Self.update(roster, [.rename("x")], by: Self.groupKey)) }
        let forgedCreation = GroupUpdate.signed(groupKey: Self.groupKey.publicKey, serial: 0, previous: .zero,
                                                operations: [.add(Self.identity(Self.dave), .admin)], by: Self.dave)
        #expect(throws: GroupRosterError.notAllowed) { try GroupRoster(creation: forgedCreation) }
    }

    @Test func forgedSignaturesAndOtherGroupsAreRefused() throws {
        let (_, roster) = try Self.group()
        let genuine = Self.update(roster, [.rename("ours")], by: Self.alice)
        // bob's signature on an update naming alice as its author.
        var bytes = genuine.encoded
        let bobs = Self.update(roster, [.rename("ours")], by: Self.bob).encoded
        bytes.replaceSubrange((bytes.count - 64)..., with: bobs.suffix(64))
        #expect(throws: GroupRosterError.badSignature) { try roster.applying(GroupUpdate.decode(bytes)) }
        // Any flipped bit past the version byte: refused by the decoder or by the roster.
        let encoded = genuine.encoded
        for bit in stride(from: 8, to: encoded.count * 8, by: 5) {
            var flipped = encoded
            flipped[bit / 8] ^= 1 << UInt8(bit % 8)
            guard let update = try? GroupUpdate.decode(flipped) else { continue }
            #expect(throws: GroupRosterError.self) { try roster.applying(update) }
        }
        var otherKey = SeededRandom(seed: "other group")
        let (_, other) = try GroupRoster.create(groupKey: SigningPrivateKey(using: &otherKey), name: "other", creator: Self.identity(Self.alice))
        #expect(throws: GroupRosterError.wrongGroup) { try roster.applying(Self.update(other, [.rename("x")], by: Self.alice)) }
    }

    @Test func limitsNamesAndTheLastAdminHold() throws {
        let (_, roster) = try Self.group()
        func refused(_ operations: [GroupOperation]) -> Bool {
            do { _ = try roster.applying(Self.update(roster, operations, by: Self.alice)); return false } catch { return true }
        }
        #expect(refused([.add(Self.identity(Self.bob), .member)]), "a member twice")
        #expect(refused([.remove(Self.dave.publicKey)]), "not a member")
        #expect(refused([.setRole(Self.dave.publicKey, .admin)]), "not a member")
        #expect(refused([.remove(Self.alice.publicKey)]), "the last admin")
        #expect(refused([.setRole(Self.alice.publicKey, .member)]), "the last admin")
        #expect(refused([.setLimit(2)]), "below the members it has")
        #expect(refused([.setLimit(0)]) && refused([.setLimit(1001)]))
        #expect(refused([.setLimit(3), .add(Self.identity(Self.dave), .member)]), "over the limit")
        #expect(refused([.rename("")]) && refused([.rename(String(repeating: "é", count: 33))]) && refused([.rename("a\u{7}b")]))
        #expect(!refused([.rename(String(repeating: "é", count: 32))]), "64 bytes of UTF-8")
        #expect(!refused([.setRole(Self.bob.publicKey, .admin), .remove(Self.alice.publicKey)]), "an admin leaves once another is named")

        // 1,000 members fit (made in two updates); the 1,001st does not.
        var rng = SeededRandom(seed: "many members")
        let many = (0..<999).map { _ in
            GroupIdentity(signing: SigningPrivateKey(using: &rng).publicKey, agreement: AgreementPrivateKey(using: &rng).publicKey)
        }
        #expect(throws: GroupRosterError.self) {
            try GroupRoster.create(groupKey: Self.groupKey, name: "big", creator: Self.identity(Self.alice), others: many)
        }
        let (creation, half) = try GroupRoster.create(groupKey: Self.groupKey, name: "big", creator: Self.identity(Self.alice),
                                                      others: Array(many.prefix(500)))
        let rest = Self.update(half, many.dropFirst(500).map { .add($0, .member) }, by: Self.alice)
        let full = try half.applying(rest)
        #expect(full.members.count == 1000)
        #expect(creation.encoded.count <= GroupUpdate.maxEncodedLength && rest.encoded.count <= GroupUpdate.maxEncodedLength)
        #expect(rest.encoded.count == GroupUpdate.encodedLength(of: rest.operations) && creation.encoded.count == GroupUpdate.encodedLength(of: creation.operations))
        #expect(full.snapshot.count <= Envelope.maximumBodyLength, "a full group's snapshot fits one envelope")
        #expect(try GroupRoster(snapshot: full.snapshot) == full)
        #expect(throws: GroupRosterError.self) { try full.applying(Self.update(full, [.add(Self.identity(Self.dave), .member)], by: Self.alice)) }
    }

    @Test func concurrentUpdatesSettleTheSameForEveryMember() throws {
        let (_, roster) = try Self.group()
        let promoted = try roster.applying(Self.update(roster, [.setRole(Self.bob.publicKey, .admin)], by: Self.alice))
        // alice and bob change the roster at once, on the same parent; alice goes on on hers.
        let fromAlice = Self.update(promoted, [.remove(Self.carol.publicKey)], by: Self.alice)
        let fromBob = Self.update(promoted, [.add(Self.identity(Self.dave), .member)], by: Self.bob)
        let aliceFirst = Self.alice.publicKey.bytes.lexicographicallyPrecedes(Self.bob.publicKey.bytes)
        let (winner, loser) = aliceFirst ? (fromAlice, fromBob) : (fromBob, fromAlice)
        #expect(GroupLedger.wins(winner, over: loser) && !GroupLedger.wins(loser, over: winner))
        let onLoser = Self.update(try promoted.applying(loser), [.rename("after")], by: Self.alice)

        var first = GroupLedger(promoted), second = GroupLedger(promoted)
        #expect(first.receive(winner) == .applied(dropped: [], removed: winner == fromAlice ? [Self.carol.publicKey] : []))
        #expect(first.receive(loser) == .superseded)
        #expect(first.receive(onLoser) == .stale, "built on the branch that lost")
        #expect(first.receive(winner) == .duplicate)

        #expect(second.receive(loser) == .applied(dropped: [], removed: loser == fromAlice ? [Self.carol.publicKey] : []))
        #expect(second.receive(onLoser) == .applied(dropped: [], removed: []))
        let settled = second.receive(winner)
        // Back at the fork: the loser's change undone, the winner's made (relative to onLoser's roster).
        let undone: Set<SigningPublicKey> = winner == fromAlice ? [Self.carol.publicKey, Self.dave.publicKey] : []
        #expect(settled == .applied(dropped: [loser, onLoser], removed: undone))
        #expect(first.current == second.current && first.current.hash == winner.hash)

        // The author's key decides, not the hash an author could grind: eight pairs of updates.
        for i in 0..<8 {
            let byAlice = Self.update(promoted, [.rename("alice \(i)")], by: Self.alice)
            let byBob = Self.update(promoted, [.rename("bob \(i)")], by: Self.bob)
            #expect(GroupLedger.wins(byAlice, over: byBob) == aliceFirst && GroupLedger.wins(byBob, over: byAlice) == !aliceFirst)
        }

        // One author's two updates on one parent: the lower hash wins, for every member.
        let one = Self.update(promoted, [.rename("one")], by: Self.alice)
        let two = Self.update(promoted, [.rename("two")], by: Self.alice)
        let lower = one.hash.bytes.lexicographicallyPrecedes(two.hash.bytes) ? one : two
        var third = GroupLedger(promoted), fourth = GroupLedger(promoted)
        _ = third.receive(one); _ = third.receive(two)
        _ = fourth.receive(two); _ = fourth.receive(one)
        #expect(third.current.hash == lower.hash && fourth.current.hash == lower.hash)
    }

    @Test func gapsAndForksOlderThanTheDepthAreReported() throws {
        let (_, roster) = try Self.group()
        var ledger = GroupLedger(roster)
        var chain: [GroupUpdate] = []
        var head = roster
        for i in 0..<(GroupLedger.depth + 2) {
            let update = Self.update(head, [.rename("name \(i)")], by: Self.alice)
            chain.append(update)
            head = try head.applying(update)
        }
        #expect(ledger.receive(chain[2]) == .gap(next: 1))
        for update in chain { #expect(ledger.receive(update) == .applied(dropped: [], removed: [])) }
        #expect(ledger.current == head && ledger.rosters.count == GroupLedger.depth)
        // A fork at serial 1 is deeper than what the ledger keeps.
        let deep = Self.update(roster, [.rename("deep")], by: Self.alice)
        #expect(ledger.receive(deep) == .stale)
        #expect(ledger.receive(Self.update(head, [.add(Self.identity(Self.bob), .member)], by: Self.alice)) == .refused(.invalidOperation("\(Self.bob.publicKey.id) is a member already")))
        #expect(ledger.current == head)
    }

    @Test func snapshotsRoundTripAndTheirDecoderRefusesBadInput() throws {
        let (_, roster) = try Self.group()
        let changed = try roster.applying(Self.update(roster, [.setLimit(10)], by: Self.alice))
        let snapshot = changed.snapshot
        let decoded = try GroupRoster(snapshot: snapshot)
        #expect(decoded == changed)
        #expect(try decoded.applying(Self.update(changed, [.rename("next")], by: Self.alice)).serial == 2, "a joiner follows the chain from a snapshot")
        for length in 0..<snapshot.count { #expect(throws: DecodeError.self) { try GroupRoster(snapshot: Array(snapshot.prefix(length))) } }
        #expect(throws: DecodeError.self) { try GroupRoster(snapshot: snapshot + [0]) }
        // The members' order is part of the format: two swapped entries are refused.
        let entries = snapshot.count - 3 * 65
        var swapped = Array(snapshot.prefix(entries))
        swapped += snapshot[(entries + 65)..<(entries + 130)] + snapshot[entries..<(entries + 65)] + snapshot[(entries + 130)...]
        #expect(throws: DecodeError.self) { try GroupRoster(snapshot: swapped) }
        var noAdmin = snapshot
        for i in 0..<3 { noAdmin[entries + 65 * i + 64] = GroupRole.member.rawValue }
        #expect(throws: DecodeError.self) { try GroupRoster(snapshot: noAdmin) }
        var badRole = snapshot
        badRole[entries + 64] = 2
        #expect(throws: DecodeError.self) { try GroupRoster(snapshot: badRole) }
    }

    @Test func theUpdateDecoderRefusesTruncatedOversizedMalformedAndRandomInput() throws {
        let (creation, roster) = try Self.group()
        let bytes = creation.encoded
        #expect(try GroupUpdate.decode(bytes) == creation)
        for length in 0..<bytes.count { #expect(throws: DecodeError.self) { try GroupUpdate.decode(Array(bytes.prefix(length))) } }
        var trailing = Array(bytes.dropLast(64)) + [0] + bytes.suffix(64)
        #expect(throws: DecodeError.self) { try GroupUpdate.decode(trailing) }
        trailing = bytes
        trailing[0] = 2
        #expect(throws: DecodeError.self) { try GroupUpdate.decode(trailing) }
        var badTag = bytes
        badTag[GroupUpdate.headerLength] = 9
        #expect(throws: DecodeError.self) { try GroupUpdate.decode(badTag) }
        var zeroOperations = bytes
        zeroOperations[GroupUpdate.headerLength - 2] = 0
        zeroOperations[GroupUpdate.headerLength - 1] = 0
        #expect(throws: DecodeError.self) { try GroupUpdate.decode(zeroOperations) }

        var rng = SeededRandom(seed: "group update random input")
        var ledger = GroupLedger(roster)
        for round in 0..<3_000 {
            var input = rng.bytes(Int.random(in: 0..<400, using: &rng))
            if round % 2 == 0, input.count > GroupUpdate.headerLength {
                input[0] = GroupUpdate.version
                input.replaceSubrange(1..<33, with: Self.groupKey.publicKey.bytes)
            }
            _ = try? GroupRoster(snapshot: input)
            if let update = try? GroupUpdate.decode(input) {
                let outcome = ledger.receive(update)
                if case .applied = outcome { Issue.record("random bytes applied as an update: round \(round)") }
            }
        }
        #expect(ledger.current == roster)
    }
}
