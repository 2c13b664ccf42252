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
///   6 snapshot  a roster snapshot (§7.7) for those who join by a ticket (GroupInvitation)
/// ```
public enum GroupChannelMessage: Equatable, Sendable {
    case post(SenderKeyMessage)
    case update(GroupUpdate)
    case rekey(GroupRekey)
    case chain(GroupChain)
    case resend(GroupResendRequest)
    case snapshot([UInt8])

    public var encoded: [UInt8] {
        switch self {
        case let .post(message): [1] + message.encoded
        case let .update(update): [2] + update.encoded
        case let .rekey(rekey): [3] + rekey.encoded
        case let .chain(chain): [4] + chain.encoded
        case let .resend(request): [5] + request.encoded
        case let .snapshot(bytes): [6] + bytes
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
        case 6:
            guard rest.count <= GroupRoster.maxSnapshotLength else { throw .trailingBytes(count: rest.count - GroupRoster.maxSnapshotLength) }
            return .snapshot(rest)
        default: throw .invalidValue("group channel message kind \(kind)")
        }
    }
}

/// A member's sender chain for one epoch, posted in the group channel when the member joins or
/// the epoch changes; signed by the member's identity key, so a chain is bound to a member of the
/// roster (the sealed layer keeps it to the epoch's members).
///
/// ```
/// chain = 0x02 | epoch (4) | member (32) | first sequence (8) | since (8, 1 ≤ since ≤ first sequence)
///         | distribution (105, §7.6) | owner signature (64) | signature (64)
/// owner signature = Ed25519(the chain's signing key, "secIRC group chain owner v1" | the 158 bytes before it)
/// signature       = Ed25519(member, "secIRC group chain v1" | every byte before it)
/// ```
/// Both are needed: every member reads a chain's distribution, so another member could announce
/// it under its own name — but only the chain's holder can sign for the member it names.
/// *first sequence* is the sequence (§7.8) of the chain's first post: earlier posts of the member
/// are not gaps for a reader that starts from this chain. *since* is the first sequence of the
/// member's chain in the epoch before (*first sequence* when it held none): a reader that held
/// that epoch is owed the member's posts from *since* on, even when it never had that chain (a
/// post made just before the epoch changed, lost with its chain, is a gap, not skipped).
/// Version 1 (`0x01`, no *since*, 150 bytes before the owner signature) is still read — from
/// states stored before version 2 — and taken as *since* = *first sequence*.
public struct GroupChain: Equatable, Sendable {
    public static let version: UInt8 = 2
    public static let label = Array("secIRC group chain v1".utf8)
    public static let ownerLabel = Array("secIRC group chain owner v1".utf8)
    /// A version-2 chain's length; a version-1 chain is 8 bytes shorter.
    public static let encodedLength = 1 + 4 + 32 + 8 + 8 + SenderKeyDistribution.encodedLength + 2 * Signature.byteCount

    /// The length of a chain of `version`, which a reader of a stored state takes from the first byte.
    public static func encodedLength(version: UInt8) throws(DecodeError) -> Int {
        switch version {
        case 1: encodedLength - 8
        case Self.version: encodedLength
        default: throw .invalidValue("group chain version \(version)")
        }
    }

    public let format: UInt8
    public let epoch: UInt32
    public let member: SigningPublicKey
    public let firstSequence: UInt64
    public let since: UInt64
    public let distribution: SenderKeyDistribution
    public let ownerSignature: Signature
    public let signature: Signature

    /// `chain`'s announcement by `member`, from the chain's next message on; `since` is the first
    /// sequence of the member's chain in the epoch before (`firstSequence` when it held none).
    public static func signed(epoch: UInt32, firstSequence: UInt64, since: UInt64, chain: SenderKeyChain,
                              by member: SigningPrivateKey) -> GroupChain {
        precondition(since >= 1 && since <= firstSequence, "a chain's since is from 1 to its first sequence")
        let distribution = chain.distribution
        let body = Self.body(format: version, epoch: epoch, member: member.publicKey, firstSequence: firstSequence, since: since,
                             distribution: distribution)
        let owner = chain.ownership(of: body)
        return GroupChain(format: version, epoch: epoch, member: member.publicKey, firstSequence: firstSequence, since: since,
                          distribution: distribution, ownerSignature: owner, signature: member.sign(label + body + owner.bytes))
    }

    private init(format: UInt8, epoch: UInt32, member: SigningPublicKey, firstSequence: UInt64, since: UInt64,
                 distribution: SenderKeyDistribution, ownerSignature: Signature, signature: Signature) {
        self.format = format
        self.epoch = epoch
        self.member = member
        self.firstSequence = firstSequence
        self.since = since
        self.distribution = distribution
        self.ownerSignature = ownerSignature
        self.signature = signature
    }

    private static func body(format: UInt8, epoch: UInt32, member: SigningPublicKey, firstSequence: UInt64, since: UInt64,
                             distribution: SenderKeyDistribution) -> [UInt8] {
        var w = ByteWriter(capacity: encodedLength)
        w.write(format)
        w.write(epoch)
        w.write(member.rawValue)
        w.write(firstSequence)
        if format >= 2 { w.write(since) }
        w.write(distribution.encoded)
        return w.bytes
    }

    private var body: [UInt8] {
        Self.body(format: format, epoch: epoch, member: member, firstSequence: firstSequence, since: since, distribution: distribution)
    }

    public var encoded: [UInt8] { body + ownerSignature.bytes + signature.bytes }

    /// Both signatures: the chain's holder names this member, and the member announces it.
    public var signatureIsValid: Bool {
        let body = body
        return (try? distribution.signingKey.verify(ownerSignature, for: Self.ownerLabel + body)) != nil
            && (try? member.verify(signature, for: Self.label + body + ownerSignature.bytes)) != nil
    }

    /// Parses untrusted bytes: version 2 (or 1), exactly its length, a first sequence from 1 and
    /// a since from 1 to it; the signature is not checked.
    public static func decode(_ bytes: [UInt8]) throws(DecodeError) -> GroupChain {
        guard let format = bytes.first else { throw .incomplete(deficit: encodedLength) }
        let length = try encodedLength(version: format)
        guard bytes.count >= length else { throw .incomplete(deficit: length - bytes.count) }
        guard bytes.count == length else { throw .trailingBytes(count: bytes.count - length) }
        var r = ByteReader(bytes)
        do {
            _ = try r.readUInt8()
            let epoch = try r.readUInt32()
            let member = SigningPublicKey(rawValue: try r.readBytes32())
            let first = try r.readUInt64()
            guard first >= 1 else { throw DecodeError.invalidValue("group chain first sequence 0") }
            let since = format >= 2 ? try r.readUInt64() : first
            guard since >= 1, since <= first else { throw DecodeError.invalidValue("group chain since \(since) not in 1...\(first)") }
            let distribution = try SenderKeyDistribution.decode(r.readBytes(SenderKeyDistribution.encodedLength))
            let owner = try Signature(bytes: r.readBytes(Signature.byteCount))
            let signature = try Signature(bytes: r.readRest())
            return GroupChain(format: format, epoch: epoch, member: member, firstSequence: first, since: since,
                              distribution: distribution, ownerSignature: owner, signature: signature)
        } catch let error as DecodeError {
            throw error
        } catch {
            throw .invalidValue("group chain: \(error)")
        }
    }
}

/// What an admin hands a new member inside their pairwise session (envelope kind 6): a small
/// *ticket* — the epoch made for it (its secret too), the group key and the roster's serial and
/// the SHA-256 of its snapshot (§7.7), its name and size — while the snapshot itself, which grows
/// with the group (≈ 65 KB at 1,000 members), is deposited once in the epoch's group mailbox
/// (channel kind 6) for every joiner of the change. The ticket holds the epoch secret: it is sent
/// only inside an end-to-end session, whose sender the invitee knows; the snapshot is bound to
/// the ticket by its hash, so the joiner trusts the inviter for it as for the ticket.
///
/// ```
/// ticket   = 0x02 | epoch (4) | epoch secret (32) | group key (32) | serial (8)
///            | snapshot hash (32) | member count (2) | name length (1) | name
/// complete = 0x01 | epoch (4) | epoch secret (32) | snapshot (the rest)      (kept by a client
///            once the snapshot came; not sent)
/// ```
public struct GroupInvitation: Sendable {
    public static let ticketVersion: UInt8 = 2
    public static let completeVersion: UInt8 = 1
    /// The longest ticket.
    public static let maxTicketLength = 1 + 4 + 32 + 32 + 8 + 32 + 2 + 1 + GroupRoster.maxNameBytes

    public let epoch: GroupEpoch
    public let groupKey: SigningPublicKey
    public let serial: UInt64
    public let snapshotHash: Bytes32
    public let memberCount: Int
    public let name: String
    /// The roster, once its snapshot is here (nil for a ticket alone).
    public let roster: GroupRoster?

    public var groupID: ID { ID(rawValue: SHA256.hash(groupKey.rawValue.bytes)) }

    /// The invitation to `roster` in `epoch`, complete.
    public init(roster: GroupRoster, epoch: GroupEpoch) {
        self.epoch = epoch
        groupKey = roster.groupKey
        serial = roster.serial
        snapshotHash = SHA256.hash(roster.snapshot)
        memberCount = roster.members.count
        name = roster.name
        self.roster = roster
    }

    private init(epoch: GroupEpoch, groupKey: SigningPublicKey, serial: UInt64, snapshotHash: Bytes32, memberCount: Int, name: String) {
        self.epoch = epoch
        self.groupKey = groupKey
        self.serial = serial
        self.snapshotHash = snapshotHash
        self.memberCount = memberCount
        self.name = name
        roster = nil
    }

    /// The ticket, as sent.
    public var encoded: [UInt8] {
        var w = ByteWriter(capacity: Self.maxTicketLength)
        w.write(Self.ticketVersion)
        w.write(epoch.number)
        epoch.secret.withUnsafeBytes { w.write($0) }
        w.write(groupKey.rawValue)
        w.write(serial)
        w.write(snapshotHash)
        w.write(UInt16(clamping: memberCount))
        w.write(UInt8(name.utf8.count))
        w.write(name.utf8)
        return w.bytes
    }

    /// The complete form (the ticket's epoch and the snapshot), as a client keeps it; nil for a
    /// ticket alone.
    public var completeEncoding: [UInt8]? {
        guard let roster else { return nil }
        var w = ByteWriter()
        w.write(Self.completeVersion)
        w.write(epoch.number)
        epoch.secret.withUnsafeBytes { w.write($0) }
        w.write(roster.snapshot)
        return w.bytes
    }

    /// This ticket with the snapshot it names: nil when `snapshot` is not the one (its hash), or
    /// does not parse.
    public func completed(with snapshot: [UInt8]) -> GroupInvitation? {
        guard SHA256.hash(snapshot) == snapshotHash, let roster = try? GroupRoster(snapshot: snapshot),
              roster.groupKey == groupKey, roster.serial == serial else { return nil }
        return GroupInvitation(roster: roster, epoch: epoch)
    }

    /// Parses a ticket or a complete invitation (untrusted): each field checked, nothing left over.
    public static func decode(_ bytes: [UInt8]) throws(DecodeError) -> GroupInvitation {
        guard bytes.count >= 37 else { throw .incomplete(deficit: 37 - bytes.count) }
        let number = bytes[1..<5].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        guard let secret = try? SymmetricKey(secret: SecureBytes(Array(bytes[5..<37]))) else {
            throw .invalidValue("group invitation secret") // unreachable: 32 bytes by the length check
        }
        let epoch = GroupEpoch(number: number, secret: secret)
        switch bytes[0] {
        case completeVersion:
            return GroupInvitation(roster: try GroupRoster(snapshot: Array(bytes[37...])), epoch: epoch)
        case ticketVersion:
            var r = ByteReader(Array(bytes[37...]))
            do {
                let key = SigningPublicKey(rawValue: try r.readBytes32())
                let serial = try r.readUInt64()
                let hash = try r.readBytes32()
                let count = Int(try r.readUInt16())
                let name = try GroupRoster.readName(&r)
                guard r.remaining == 0 else { throw DecodeError.trailingBytes(count: r.remaining) }
                guard (1...Int(GroupRoster.maxMembers)).contains(count) else { throw DecodeError.invalidValue("group ticket of \(count) members") }
                return GroupInvitation(epoch: epoch, groupKey: key, serial: serial, snapshotHash: hash, memberCount: count, name: name)
            } catch let error as DecodeError {
                throw error
            } catch {
                throw .invalidValue("group ticket: \(error)")
            }
        default:
            throw .invalidValue("group invitation version \(bytes[0])")
        }
    }
}

/// A joiner's wait for the snapshot its ticket names (§7.10): it opens bodies of the ticket's
/// epoch mailbox, reassembles channel messages and keeps the first snapshot whose hash is the
/// ticket's. A value with no clock of its own; bounded (its own small reassembler).
public struct GroupSnapshotWait: Sendable {
    public let ticket: GroupInvitation
    private var reassembler = Reassembler(maxTransfers: 16, maxBytes: 512 << 10, timeout: .seconds(3_600))
    /// Bodies of the ticket's epoch read so far (a stranded wait's diagnosis).
    public private(set) var bodiesRead = 0

    public init(ticket: GroupInvitation) {
        self.ticket = ticket
    }

    /// Channel messages begun and not finished (a snapshot missing some of its packets, say).
    public var partialMessages: Int { reassembler.pendingTransfers }

    /// A body of the ticket's epoch mailbox: the complete invitation when it finishes the
    /// snapshot; nil otherwise (another channel message, a part of one, or not for this epoch).
    public mutating func receive(_ body: [UInt8], now: UnixTime) -> GroupInvitation? {
        guard let fragment = try? SealedPacket.open(body, with: ticket.epoch.sealingKey) else { return nil }
        bodiesRead += 1
        guard let whole = try? reassembler.add(fragment, now: now),
              case let .snapshot(snapshot)? = try? GroupChannelMessage.decode(whole) else { return nil }
        return ticket.completed(with: snapshot)
    }

    /// A request for the snapshot (§7.10, flag bit 1), to deposit in the ticket's epoch mailbox
    /// when it has not come.
    public func request(rng: inout some RandomSource) throws -> [GroupSession.Deposit] {
        let request = GroupResendRequest(epoch: ticket.epoch.number, rosterSerial: ticket.serial, wantsRekey: false, wantsSnapshot: true,
                                         posts: [], chains: [])
        return try GroupSession.deposits(of: .resend(request), in: ticket.epoch, rng: &rng)
    }
}

/// What a member asks the others to post again (issue 13 item 3): posts it knows exist and lacks,
/// chains it holds posts for but never got, roster updates after the roster it holds, and the
/// rekey into the epoch after its own.
///
/// ```
/// resend = 0x01 | epoch (4) | roster serial (8) | flags (1: bit 0 the next epoch's rekey,
///          bit 1 the snapshot of the roster at `roster serial`)
///          | post ranges (1, ≤ 8) × (member (32) | from (8) | through (8))
///          | chains (1, ≤ 8) × (epoch (4) | chain ID (4))
/// ```
/// A post range is answered by its member only (its own posts, at most 64 a request, from the
/// epochs it still holds); a chain by its owner; the updates after `roster serial`, the rekey
/// into `epoch + 1` and the snapshot, by the admins (the snapshot when they still hold that
/// roster: the last 16). Requests are only readable by the epoch's members and those it was
/// made for (a joiner with a ticket asks for its snapshot before it is a member).
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
    public let wantsSnapshot: Bool
    public let posts: [Range]
    public let chains: [Chain]

    public init(epoch: UInt32, rosterSerial: UInt64, wantsRekey: Bool, wantsSnapshot: Bool = false, posts: [Range], chains: [Chain]) {
        self.epoch = epoch
        self.rosterSerial = rosterSerial
        self.wantsRekey = wantsRekey
        self.wantsSnapshot = wantsSnapshot
        self.posts = Array(posts.prefix(Self.maxEntries))
        self.chains = Array(chains.prefix(Self.maxEntries))
    }

    public var encoded: [UInt8] {
        var w = ByteWriter()
        w.write(Self.version)
        w.write(epoch)
        w.write(rosterSerial)
        w.write(UInt8(wantsRekey ? 1 : 0) | UInt8(wantsSnapshot ? 2 : 0))
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
            guard flags <= 3 else { throw DecodeError.invalidValue("group resend flags \(flags)") }
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
            return GroupResendRequest(epoch: epoch, rosterSerial: serial, wantsRekey: flags & 1 != 0, wantsSnapshot: flags & 2 != 0, posts: posts, chains: chains)
        } catch let error as DecodeError {
            throw error
        } catch {
            throw .invalidValue("group resend: \(error)")
        }
    }
}
