public import SecIRCCrypto

/// What travels in a group's channel (issue 13): one message, cut into sealed packets to the
/// epoch's sealing key (§7.5) and deposited in the epoch's group mailbox.
///
/// ```
/// channel message = kind (1) | bytes
///   1 post    a SenderKeyMessage (§7.6) whose plaintext is a GroupPost (§7.8)
///   2 update  a GroupUpdate (§7.7)
///   3 rekey   a GroupRekey (§7.9)
///   4 chain   a GroupChain: a member's sender chain for the epoch
///   5 resend  a GroupResendRequest: what a member missed
/// ```
public enum GroupChannelMessage: Equatable, Sendable {
    case post(SenderKeyMessage)
    case update(GroupUpdate)
    case rekey(GroupRekey)
    case chain(GroupChain)
    case resend(GroupResendRequest)

    public var encoded: [UInt8] {
        switch self {
        case let .post(message): [1] + message.encoded
        case let .update(update): [2] + update.encoded
        case let .rekey(rekey): [3] + rekey.encoded
        case let .chain(chain): [4] + chain.encoded
        case let .resend(request): [5] + request.encoded
        }
    }

    /// Parses a reassembled channel message; each kind's own decoder checks the rest.
    public static func decode(_ bytes: [UInt8]) throws(DecodeError) -> GroupChannelMessage {
        guard let kind = bytes.first else { throw .incomplete(deficit: 1) }
        let rest = Array(bytes.dropFirst())
        switch kind {
        case 1: return .post(try SenderKeyMessage.decode(rest, maxPlaintext: GroupPost.fixedLength + 40 * GroupPost.maxReferences
                                                                 + GroupPost.maxBodyLength))
        case 2: return .update(try GroupUpdate.decode(rest))
        case 3: return .rekey(try GroupRekey.decode(rest))
        case 4: return .chain(try GroupChain.decode(rest))
        case 5: return .resend(try GroupResendRequest.decode(rest))
        default: throw .invalidValue("group channel message kind \(kind)")
        }
    }
}

/// A member's sender chain for one epoch, posted in the group channel when the member joins or
/// the epoch changes; signed by the member's identity key, so a chain is bound to a member of the
/// roster (the sealed layer keeps it to the epoch's members).
///
/// ```
/// chain = 0x01 | epoch (4) | member (32) | first sequence (8) | distribution (105, §7.6)
///         | owner signature (64) | signature (64)
/// owner signature = Ed25519(the chain's signing key, "secIRC group chain owner v1" | the 150 bytes before it)
/// signature       = Ed25519(member, "secIRC group chain v1" | every byte before it)
/// ```
/// Both are needed: every member reads a chain's distribution, so another member could announce
/// it under its own name — but only the chain's holder can sign for the member it names.
/// *first sequence* is the sequence (§7.8) of the chain's first post: earlier posts of the member
/// are not gaps for a reader that starts from this chain.
public struct GroupChain: Equatable, Sendable {
    public static let version: UInt8 = 1
    public static let label = Array("secIRC group chain v1".utf8)
    public static let ownerLabel = Array("secIRC group chain owner v1".utf8)
    public static let encodedLength = 1 + 4 + 32 + 8 + SenderKeyDistribution.encodedLength + 2 * Signature.byteCount

    public let epoch: UInt32
    public let member: SigningPublicKey
    public let firstSequence: UInt64
    public let distribution: SenderKeyDistribution
    public let ownerSignature: Signature
    public let signature: Signature

    /// `chain`'s announcement by `member`, from the chain's next message on.
    public static func signed(epoch: UInt32, firstSequence: UInt64, chain: SenderKeyChain, by member: SigningPrivateKey) -> GroupChain {
        let distribution = chain.distribution
        let body = Self.body(epoch: epoch, member: member.publicKey, firstSequence: firstSequence, distribution: distribution)
        let owner = chain.ownership(of: body)
        return GroupChain(epoch: epoch, member: member.publicKey, firstSequence: firstSequence, distribution: distribution,
                          ownerSignature: owner, signature: member.sign(label + body + owner.bytes))
    }

    private init(epoch: UInt32, member: SigningPublicKey, firstSequence: UInt64, distribution: SenderKeyDistribution,
                 ownerSignature: Signature, signature: Signature) {
        self.epoch = epoch
        self.member = member
        self.firstSequence = firstSequence
        self.distribution = distribution
        self.ownerSignature = ownerSignature
        self.signature = signature
    }

    private static func body(epoch: UInt32, member: SigningPublicKey, firstSequence: UInt64, distribution: SenderKeyDistribution) -> [UInt8] {
        var w = ByteWriter(capacity: encodedLength)
        w.write(version)
        w.write(epoch)
        w.write(member.rawValue)
        w.write(firstSequence)
        w.write(distribution.encoded)
        return w.bytes
    }

    public var encoded: [UInt8] {
        Self.body(epoch: epoch, member: member, firstSequence: firstSequence, distribution: distribution) + ownerSignature.bytes
            + signature.bytes
    }

    /// Both signatures: the chain's holder names this member, and the member announces it.
    public var signatureIsValid: Bool {
        let body = Self.body(epoch: epoch, member: member, firstSequence: firstSequence, distribution: distribution)
        return (try? distribution.signingKey.verify(ownerSignature, for: Self.ownerLabel + body)) != nil
            && (try? member.verify(signature, for: Self.label + body + ownerSignature.bytes)) != nil
    }

    /// Parses untrusted bytes: exactly ``encodedLength``, one version, a first sequence from 1;
    /// the signature is not checked.
    public static func decode(_ bytes: [UInt8]) throws(DecodeError) -> GroupChain {
        guard bytes.count >= encodedLength else { throw .incomplete(deficit: encodedLength - bytes.count) }
        guard bytes.count == encodedLength else { throw .trailingBytes(count: bytes.count - encodedLength) }
        guard bytes[0] == version else { throw .invalidValue("group chain version \(bytes[0])") }
        var r = ByteReader(bytes)
        do {
            _ = try r.readUInt8()
            let epoch = try r.readUInt32()
            let member = SigningPublicKey(rawValue: try r.readBytes32())
            let first = try r.readUInt64()
            guard first >= 1 else { throw DecodeError.invalidValue("group chain first sequence 0") }
            let distribution = try SenderKeyDistribution.decode(r.readBytes(SenderKeyDistribution.encodedLength))
            let owner = try Signature(bytes: r.readBytes(Signature.byteCount))
            let signature = try Signature(bytes: r.readRest())
            return GroupChain(epoch: epoch, member: member, firstSequence: first, distribution: distribution, ownerSignature: owner,
                              signature: signature)
        } catch let error as DecodeError {
            throw error
        } catch {
            throw .invalidValue("group chain: \(error)")
        }
    }
}

/// What an admin hands a new member inside their pairwise session (envelope kind 6): the
/// roster with the new member in it, and the epoch made for it. It holds the epoch secret: it is
/// sent only inside an end-to-end session, whose sender the invitee knows.
///
/// ```
/// invitation = 0x01 | epoch (4) | epoch secret (32) | snapshot (§7.7, the rest)
/// ```
public struct GroupInvitation: Sendable {
    public static let version: UInt8 = 1
    public let roster: GroupRoster
    public let epoch: GroupEpoch

    public init(roster: GroupRoster, epoch: GroupEpoch) {
        self.roster = roster
        self.epoch = epoch
    }

    public var encoded: [UInt8] {
        var w = ByteWriter()
        w.write(Self.version)
        w.write(epoch.number)
        epoch.secret.withUnsafeBytes { w.write($0) }
        w.write(roster.snapshot)
        return w.bytes
    }

    public static func decode(_ bytes: [UInt8]) throws(DecodeError) -> GroupInvitation {
        guard bytes.count >= 37 else { throw .incomplete(deficit: 37 - bytes.count) }
        guard bytes[0] == version else { throw .invalidValue("group invitation version \(bytes[0])") }
        let number = bytes[1..<5].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        guard let secret = try? SymmetricKey(secret: SecureBytes(Array(bytes[5..<37]))) else {
            throw .invalidValue("group invitation secret") // unreachable: 32 bytes by the length check
        }
        return GroupInvitation(roster: try GroupRoster(snapshot: Array(bytes[37...])), epoch: GroupEpoch(number: number, secret: secret))
    }
}

/// What a member asks the others to post again (issue 13 item 3): posts it knows exist and lacks,
/// chains it holds posts for but never got, roster updates after the roster it holds, and the
/// rekey into the epoch after its own.
///
/// ```
/// resend = 0x01 | epoch (4) | roster serial (8) | flags (1: bit 0 the next epoch's rekey)
///          | post ranges (1, ≤ 8) × (member (32) | from (8) | through (8))
///          | chains (1, ≤ 8) × (epoch (4) | chain ID (4))
/// ```
/// A post range is answered by its member only (its own posts, at most 64 a request, from the
/// epochs it still holds); a chain by its owner; the updates after `roster serial`, and the
/// rekey into `epoch + 1`, by the admins. Requests are only readable by the epoch's members.
public struct GroupResendRequest: Hashable, Sendable {
    public static let version: UInt8 = 1
    public static let maxEntries = 8

    public struct Range: Hashable, Sendable {
        public let member: SigningPublicKey
        public let from: UInt64
        public let through: UInt64

        public init(member: SigningPublicKey, from: UInt64, through: UInt64) {
            self.member = member
            self.from = from
            self.through = through
        }
    }

    public struct Chain: Hashable, Sendable {
        public let epoch: UInt32
        public let chainID: UInt32

        public init(epoch: UInt32, chainID: UInt32) {
            self.epoch = epoch
            self.chainID = chainID
        }
    }

    public let epoch: UInt32
    public let rosterSerial: UInt64
    public let wantsRekey: Bool
    public let posts: [Range]
    public let chains: [Chain]

    public init(epoch: UInt32, rosterSerial: UInt64, wantsRekey: Bool, posts: [Range], chains: [Chain]) {
        self.epoch = epoch
        self.rosterSerial = rosterSerial
        self.wantsRekey = wantsRekey
        self.posts = Array(posts.prefix(Self.maxEntries))
        self.chains = Array(chains.prefix(Self.maxEntries))
    }

    public var encoded: [UInt8] {
        var w = ByteWriter()
        w.write(Self.version)
        w.write(epoch)
        w.write(rosterSerial)
        w.write(UInt8(wantsRekey ? 1 : 0))
        w.write(UInt8(posts.count))
        for range in posts {
            w.write(range.member.rawValue)
            w.write(range.from)
            w.write(range.through)
        }
        w.write(UInt8(chains.count))
        for chain in chains {
            w.write(chain.epoch)
            w.write(chain.chainID)
        }
        return w.bytes
    }

    public static func decode(_ bytes: [UInt8]) throws(DecodeError) -> GroupResendRequest {
        var r = ByteReader(bytes)
        do {
            let version = try r.readUInt8()
            guard version == Self.version else { throw DecodeError.invalidValue("group resend version \(version)") }
            let epoch = try r.readUInt32()
            let serial = try r.readUInt64()
            let flags = try r.readUInt8()
            guard flags <= 1 else { throw DecodeError.invalidValue("group resend flags \(flags)") }
            let postCount = Int(try r.readUInt8())
            guard postCount <= maxEntries else { throw DecodeError.invalidValue("group resend with \(postCount) ranges") }
            var posts: [Range] = []
            for _ in 0..<postCount {
                let member = SigningPublicKey(rawValue: try r.readBytes32())
                let from = try r.readUInt64(), through = try r.readUInt64()
                guard from >= 1, from <= through else { throw DecodeError.invalidValue("group resend range \(from)…\(through)") }
                posts.append(Range(member: member, from: from, through: through))
            }
            let chainCount = Int(try r.readUInt8())
            guard chainCount <= maxEntries else { throw DecodeError.invalidValue("group resend with \(chainCount) chains") }
            var chains: [Chain] = []
            for _ in 0..<chainCount { chains.append(Chain(epoch: try r.readUInt32(), chainID: try r.readUInt32())) }
            guard r.remaining == 0 else { throw DecodeError.trailingBytes(count: r.remaining) }
            return GroupResendRequest(epoch: epoch, rosterSerial: serial, wantsRekey: flags == 1, posts: posts, chains: chains)
        } catch let error as DecodeError {
            throw error
        } catch {
            throw .invalidValue("group resend: \(error)")
        }
    }
}
