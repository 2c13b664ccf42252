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
/// ```
public enum GroupChannelMessage: Equatable, Sendable {
    case post(SenderKeyMessage)
    case update(GroupUpdate)
    case rekey(GroupRekey)
    case chain(GroupChain)

    public var encoded: [UInt8] {
        switch self {
        case let .post(message): [1] + message.encoded
        case let .update(update): [2] + update.encoded
        case let .rekey(rekey): [3] + rekey.encoded
        case let .chain(chain): [4] + chain.encoded
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
        default: throw .invalidValue("group channel message kind \(kind)")
        }
    }
}

/// A member's sender chain for one epoch, posted in the group channel when the member joins or
/// the epoch changes; signed by the member's identity key, so a chain is bound to a member of the
/// roster (the sealed layer keeps it to the epoch's members).
///
/// ```
/// chain = 0x01 | epoch (4) | member (32) | first sequence (8) | distribution (105, §7.6) | signature (64)
/// signature = Ed25519(member, "secIRC group chain v1" | every byte before it)
/// ```
/// *first sequence* is the sequence (§7.8) of the chain's first post: earlier posts of the member
/// are not gaps for a reader that starts from this chain.
public struct GroupChain: Equatable, Sendable {
    public static let version: UInt8 = 1
    public static let label = Array("secIRC group chain v1".utf8)
    public static let encodedLength = 1 + 4 + 32 + 8 + SenderKeyDistribution.encodedLength + Signature.byteCount

    public let epoch: UInt32
    public let member: SigningPublicKey
    public let firstSequence: UInt64
    public let distribution: SenderKeyDistribution
    public let signature: Signature

    public static func signed(epoch: UInt32, firstSequence: UInt64, distribution: SenderKeyDistribution,
                              by member: SigningPrivateKey) -> GroupChain {
        let body = Self.body(epoch: epoch, member: member.publicKey, firstSequence: firstSequence, distribution: distribution)
        return GroupChain(epoch: epoch, member: member.publicKey, firstSequence: firstSequence, distribution: distribution,
                          signature: member.sign(label + body))
    }

    private init(epoch: UInt32, member: SigningPublicKey, firstSequence: UInt64, distribution: SenderKeyDistribution, signature: Signature) {
        self.epoch = epoch
        self.member = member
        self.firstSequence = firstSequence
        self.distribution = distribution
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
        Self.body(epoch: epoch, member: member, firstSequence: firstSequence, distribution: distribution) + signature.bytes
    }

    public var signatureIsValid: Bool {
        let body = Self.body(epoch: epoch, member: member, firstSequence: firstSequence, distribution: distribution)
        return (try? member.verify(signature, for: Self.label + body)) != nil
    }

    /// Parses untrusted bytes: exactly ``encodedLength``, one version; the signature is not checked.
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
            let distribution = try SenderKeyDistribution.decode(r.readBytes(SenderKeyDistribution.encodedLength))
            let signature = try Signature(bytes: r.readRest())
            return GroupChain(epoch: epoch, member: member, firstSequence: first, distribution: distribution, signature: signature)
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
