import SecIRCCore
import SecIRCCrypto
import Testing

/// The group channel's own formats (issue 13): chains, invitations, resend requests and the
/// channel message around them, fed truncated, oversized, malformed and random bytes.
@Suite struct GroupChannelTests {
    static let member: SessionSetup.Identity = { var rng = SeededRandom(seed: "member"); return SessionSetup.Identity(using: &rng) }()

    static func samples() throws -> (chain: GroupChain, invitation: GroupInvitation, resend: GroupResendRequest) {
        var rng = SeededRandom(seed: "channel")
        let identity = GroupIdentity(signing: member.signing.publicKey, agreement: member.agreement.publicKey)
        let roster = try GroupRoster.create(groupKey: SigningPrivateKey(using: &rng), name: "g", creator: identity).1
        let senderChain = SenderKeyChain(groupID: roster.groupID.rawValue, using: &rng)
        let chain = GroupChain.signed(epoch: 3, firstSequence: 7, since: 2, chain: senderChain, by: member.signing)
        let resend = GroupResendRequest(epoch: 3, rosterSerial: 2, wantsRekey: true,
                                        posts: [.init(member: member.signing.publicKey, from: 1, through: 9)],
                                        chains: [.init(epoch: 3, chainID: 42)])
        return (chain, GroupInvitation(roster: roster, epoch: GroupEpoch(number: 3, using: &rng)), resend)
    }

    @Test func eachFormatRoundTripsAndAChainIsBoundToItsMember() throws {
        let (chain, invitation, resend) = try Self.samples()
        #expect(try GroupChain.decode(chain.encoded) == chain && chain.signatureIsValid)
        var forged = chain.encoded
        forged[10] ^= 1 // inside the member key
        #expect(try !GroupChain.decode(forged).signatureIsValid)
        // Another member announcing this chain under its own name (it read the distribution): the
        // chain's owner signature names the member, so the claim does not verify.
        var rng = SeededRandom(seed: "thief")
        let thief = SigningPrivateKey(using: &rng)
        var claimed = chain.encoded
        claimed.replaceSubrange(5..<37, with: thief.publicKey.bytes)
        let signedPart = Array(claimed.prefix(GroupChain.encodedLength - 64))
        claimed.replaceSubrange((GroupChain.encodedLength - 64)..., with: thief.sign(GroupChain.label + signedPart).bytes)
        let claim = try GroupChain.decode(claimed)
        #expect(claim.member == thief.publicKey && !claim.signatureIsValid)
        // What travels is the ticket: the snapshot it names completes it.
        let roster = try #require(invitation.roster)
        let ticket = try GroupInvitation.decode(invitation.encoded)
        #expect(ticket.roster == nil && ticket.epoch.hasSameSecret(as: invitation.epoch) && ticket.epoch.number == 3)
        #expect(ticket.groupID == roster.groupID && ticket.serial == roster.serial && ticket.name == "g" && ticket.memberCount == 1)
        #expect(invitation.encoded.count <= GroupInvitation.maxTicketLength)
        let decoded = try #require(ticket.completed(with: roster.snapshot))
        #expect(decoded.roster == roster && decoded.encoded == invitation.encoded)
        let kept = try GroupInvitation.decode(try #require(decoded.completeEncoding))
        #expect(kept.roster == roster && kept.epoch.hasSameSecret(as: invitation.epoch) && kept.encoded == invitation.encoded)
        // Another group's roster, and a cut snapshot, are not the one it names.
        var otherRng = SeededRandom(seed: "other")
        let creator = GroupIdentity(signing: Self.member.signing.publicKey, agreement: Self.member.agreement.publicKey)
        let other = try GroupRoster.create(groupKey: SigningPrivateKey(using: &otherRng), name: "g", creator: creator).1
        #expect(ticket.completed(with: other.snapshot) == nil && ticket.completed(with: roster.snapshot.dropLast().map { $0 }) == nil)
        #expect(try GroupResendRequest.decode(resend.encoded) == resend)
        let snapshotRequest = GroupResendRequest(epoch: 3, rosterSerial: 0, wantsRekey: false, wantsSnapshot: true, posts: [], chains: [])
        #expect(try GroupResendRequest.decode(snapshotRequest.encoded) == snapshotRequest)
        for message in [GroupChannelMessage.chain(chain), .resend(resend), .snapshot(roster.snapshot)] {
            #expect(try GroupChannelMessage.decode(message.encoded) == message)
        }
    }

    /// Version 1 (no since), as states stored before version 2 hold it: read, its signatures
    /// verify, and it owes nothing before its first sequence.
    @Test func aVersionOneChainIsStillRead() throws {
        var rng = SeededRandom(seed: "version 1")
        let senderChain = SenderKeyChain(groupID: try Bytes32([UInt8](repeating: 7, count: 32)), using: &rng)
        var body: [UInt8] = [1, 0, 0, 0, 3] + Self.member.signing.publicKey.bytes + [0, 0, 0, 0, 0, 0, 0, 7]
        body += senderChain.distribution.encoded
        let owner = senderChain.ownership(of: body)
        let bytes = body + owner.bytes + Self.member.signing.sign(GroupChain.label + body + owner.bytes).bytes
        let version1Length = try GroupChain.encodedLength(version: 1)
        #expect(bytes.count == GroupChain.encodedLength - 8 && bytes.count == version1Length)
        let chain = try GroupChain.decode(bytes)
        #expect(chain.format == 1 && chain.epoch == 3 && chain.firstSequence == 7 && chain.since == 7 && chain.signatureIsValid)
        #expect(chain.encoded == bytes)
        #expect(throws: DecodeError.self) { try GroupChain.decode(bytes + [0]) }
        #expect(throws: DecodeError.self) { try GroupChain.decode(Array(bytes.dropLast())) }
    }

    @Test func decodersRefuseTruncatedOversizedMalformedAndRandomInput() throws {
        let (chain, invitation, resend) = try Self.samples()
        let inputs: [(String, [UInt8], ([UInt8]) throws -> Void)] = [
            ("chain", chain.encoded, { _ = try GroupChain.decode($0) }),
            ("invitation", invitation.encoded, { _ = try GroupInvitation.decode($0) }),
            ("complete invitation", try #require(invitation.completeEncoding), { _ = try GroupInvitation.decode($0) }),
            ("resend", resend.encoded, { _ = try GroupResendRequest.decode($0) }),
            ("channel", GroupChannelMessage.resend(resend).encoded, { _ = try GroupChannelMessage.decode($0) }),
        ]
        for (name, bytes, decode) in inputs {
            for length in 0..<bytes.count { #expect(throws: DecodeError.self, "\(name) cut to \(length)") { try decode(Array(bytes.prefix(length))) } }
            #expect(throws: DecodeError.self, "\(name) with a byte after") { try decode(bytes + [0]) }
            var version = bytes
            version[name == "channel" ? 1 : 0] = 9
            #expect(throws: DecodeError.self, "\(name) of another version") { try decode(version) }
        }
        var zeroFirst = chain.encoded
        for i in 37..<45 { zeroFirst[i] = 0 }
        #expect(throws: DecodeError.self, "a chain's first sequence is at least 1") { try GroupChain.decode(zeroFirst) }
        // since is from 1 to the first sequence (7 here).
        for since: UInt64 in [0, 8, .max] {
            var bad = chain.encoded
            bad.replaceSubrange(45..<53, with: withUnsafeBytes(of: since.bigEndian, Array.init))
            #expect(throws: DecodeError.self, "a chain's since \(since)") { try GroupChain.decode(bad) }
        }
        var backwards = resend.encoded
        backwards.replaceSubrange(47..<55, with: [0, 0, 0, 0, 0, 0, 0, 10]) // from 10 through 9
        #expect(throws: DecodeError.self) { try GroupResendRequest.decode(backwards) }
        var tooMany = resend.encoded
        tooMany[14] = 9
        #expect(throws: DecodeError.self) { try GroupResendRequest.decode(tooMany) }
        #expect(throws: DecodeError.self) { try GroupChannelMessage.decode([7, 1, 2]) }
        #expect(throws: DecodeError.self, "a snapshot longer than a full group's") {
            try GroupChannelMessage.decode([6] + [UInt8](repeating: 1, count: GroupRoster.maxSnapshotLength + 1))
        }
        // A ticket for no member, or with a name no roster takes.
        var empty = invitation.encoded
        empty.replaceSubrange(109..<111, with: [0, 0])
        #expect(throws: DecodeError.self) { try GroupInvitation.decode(empty) }
        var badName = invitation.encoded
        badName[badName.count - 1] = 0x07
        #expect(throws: DecodeError.self) { try GroupInvitation.decode(badName) }
        var flags = resend.encoded
        flags[13] = 4
        #expect(throws: DecodeError.self, "an unknown resend flag") { try GroupResendRequest.decode(flags) }
        var rng = SeededRandom(seed: "channel random")
        for round in 0..<3_000 {
            var input = rng.bytes(Int.random(in: 0..<260, using: &rng))
            if !input.isEmpty { input[0] = UInt8(round % 7) }
            if let message = try? GroupChannelMessage.decode(input) { #expect(message.encoded == input) }
            _ = try? GroupInvitation.decode(input)
        }
    }
}
