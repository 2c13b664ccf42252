import SecIRCCrypto

/// Storage form of a ``GroupSession``, for the client to seal and keep between turns and across
/// restarts (no Codable). Everything that decides what the session does next, except the
/// member's identity (the caller holds it; its public keys are stored to check it):
/// ```
/// state = version (1) = 1 | group ID (32) | member Ed25519 key (32) | member X25519 key (32) | flags (1)
///       | ledger                                                          (GroupLedger+State.swift)
///       | epoch number (4) | epoch secret (32) | [previous epoch number (4) | its secret (32)]   flag bit 0
///       | own chain (72)                                                  (SenderKey+State.swift)
///       | sequence (8)
///       | receiver count (2, ≤ 2,000) | (epoch (4) | chain ID (4) | member (32) | receiver) × count
///       | own chain count (1, ≤ 2) | (epoch (4) | chain ID (4)) × count
///       | retired chain count (2, ≤ 2,000) | (epoch (4) | chain ID (4)) × count
///       | sent post count (2, ≤ 1,000) | (sequence (8) | epoch (4) | length (4) | sender-key message) × count
///       | announcement count (1, ≤ 2) | chain announcement (273) × count
///       | rekey count (1, ≤ 2) | (length (4) | rekey) × count
///       | epoch member count (2, ≤ 1,000) | Ed25519 key (32) × count
///       | [length (4) | resend request]                                   flag bit 3: what the last request found missing
///       | timeline                                                        (GroupTimeline+State.swift)
///       | held post count (2, ≤ 256) | (epoch (4) | length (4) | sender-key message) × count
///       | held rekey count (2, ≤ 256) | (length (4) | rekey) × count
///       | held update count (2, ≤ 256) | (length (4) | update) × count
/// ```
/// flags: bit 0 a previous epoch, bit 1 awaiting a rekey, bit 2 awaiting it after a member was
/// lost, bit 3 a last resend request; other bits are zero. Integers are big-endian. Keyed
/// collections are written in ascending key order (chains by (epoch, chain ID), posts by
/// sequence, announcements and rekeys by epoch, keys by their bytes), held messages in the order
/// they came, so equal sessions give equal bytes. The bytes hold the epoch secrets and chain
/// keys: the caller seals them at rest.
///
/// Not saved: the reassembler's unfinished multi-packet channel messages. A restored session
/// starts with none; what they carried is asked for again through resend requests
/// (``requestMissing(force:now:rng:)``), like any message lost on the way.
extension GroupSession {
    /// The format version written by ``state``.
    public static let stateVersion: UInt8 = 1

    private enum Flag {
        static let previousEpoch: UInt8 = 1 << 0
        static let awaitingRekey: UInt8 = 1 << 1
        static let awaitingRekeyAfterLoss: UInt8 = 1 << 2
        static let lastWants: UInt8 = 1 << 3
        static let all: UInt8 = 0x0F
    }

    /// Bounds the decoder holds counts and lengths to, before it allocates.
    private enum Limit {
        /// A chain per member for the current and the previous epoch.
        static let receivers = 2 * Int(GroupRoster.maxMembers)
        /// This member's chain for the current and the previous epoch (and so its announcements,
        /// and the rekeys that made them).
        static let perEpoch = 2
        static let postMessageLength = SenderKeyFormat.overhead + GroupPost.fixedLength + 40 * GroupPost.maxReferences
            + GroupPost.maxBodyLength
        static let rekeyLength = GroupRekey.headerLength + AgreementPublicKey.byteCount + 2
            + Int(GroupRoster.maxMembers) * GroupRekey.boxLength + SigningPublicKey.byteCount + Signature.byteCount
        static let resendLength = 1 + 4 + 8 + 1 + 1 + GroupResendRequest.maxEntries * (32 + 8 + 8) + 1
            + GroupResendRequest.maxEntries * (4 + 4)
    }

    /// Every field needed to go on exactly as before, identity excluded (the caller holds it).
    public var state: [UInt8] {
        var w = ByteWriter(capacity: 4096)
        w.write(Self.stateVersion)
        w.write(roster.groupID.rawValue)
        w.write(identity.signing.publicKey.rawValue)
        w.write(identity.agreement.publicKey.rawValue)
        var flags: UInt8 = 0
        if previousEpoch != nil { flags |= Flag.previousEpoch }
        if awaitingRekey { flags |= Flag.awaitingRekey }
        if awaitingRekeyAfterLoss { flags |= Flag.awaitingRekeyAfterLoss }
        if lastWants != nil { flags |= Flag.lastWants }
        w.write(flags)
        ledger.writeState(to: &w)
        for held in [epoch] + (previousEpoch.map { [$0] } ?? []) {
            w.write(held.number)
            w.writeSecret(held.secret)
        }
        chain.writeState(to: &w)
        w.write(sequence)

        w.write(UInt16(receivers.count))
        for (key, value) in receivers.sorted(by: { Self.precedes($0.key, $1.key) }) {
            Self.write(key, to: &w)
            w.write(value.member.rawValue)
            value.receiver.writeState(to: &w)
        }
        w.write(UInt8(ownChains.count))
        for key in ownChains.sorted(by: Self.precedes) { Self.write(key, to: &w) }
        w.write(UInt16(retiredChains.count))
        for key in retiredChains.sorted(by: Self.precedes) { Self.write(key, to: &w) }
        w.write(UInt16(sentPosts.count))
        for (sequence, sent) in sentPosts.sorted(by: { $0.key < $1.key }) {
            w.write(sequence)
            w.write(sent.epoch)
            w.writeLengthPrefixed(sent.message.encoded)
        }
        w.write(UInt8(announcements.count))
        for (_, announcement) in announcements.sorted(by: { $0.key < $1.key }) { w.write(announcement.encoded) }
        w.write(UInt8(rekeys.count))
        for (_, rekey) in rekeys.sorted(by: { $0.key < $1.key }) { w.writeLengthPrefixed(rekey.encoded) }
        w.write(UInt16(epochMembers.count))
        for member in epochMembers.sorted(by: { $0.rawValue.lexicographicallyPrecedes($1.rawValue) }) { w.write(member.rawValue) }
        if let lastWants { w.writeLengthPrefixed(lastWants.encoded) }

        timeline.writeState(to: &w)
        w.write(UInt16(heldPosts.count))
        for held in heldPosts {
            w.write(held.epoch)
            w.writeLengthPrefixed(held.message.encoded)
        }
        w.write(UInt16(heldRekeys.count))
        for rekey in heldRekeys { w.writeLengthPrefixed(rekey.encoded) }
        w.write(UInt16(heldUpdates.count))
        for update in heldUpdates { w.writeLengthPrefixed(update.encoded) }
        return w.bytes
    }

    /// Restores a session saved with ``state`` for `identity`. Throws ``DecodeError`` for another
    /// version, unknown flags, a count over its bound, keys out of order or repeated, an
    /// embedded message that does not decode, a ledger whose updates do not apply, a group ID
    /// that is not its roster's, input that ends early or goes on after the end, or a state
    /// saved for another identity. Never traps. The restored session has no unfinished
    /// multi-packet messages (see above).
    public init(state: [UInt8], identity: SessionSetup.Identity) throws(DecodeError) {
        do {
            var r = ByteReader(state)
            self = try Self.decodeState(&r, identity: identity)
            try r.finish()
        } catch let error as DecodeError {
            throw error
        } catch {
            throw .invalidValue("group state: \(error)")
        }
    }

    private init(identity: SessionSetup.Identity, ledger: GroupLedger, epoch: GroupEpoch, chain: SenderKeyChain) {
        self.identity = identity
        self.ledger = ledger
        self.epoch = epoch
        self.chain = chain
    }

    private static func decodeState(_ r: inout ByteReader, identity: SessionSetup.Identity) throws -> GroupSession {
        let version = try r.readUInt8()
        guard version == stateVersion else { throw DecodeError.invalidValue("group state version \(version)") }
        let groupID = try r.readBytes32()
        let signing = SigningPublicKey(rawValue: try r.readBytes32())
        let agreement = AgreementPublicKey(rawValue: try r.readBytes32())
        guard signing == identity.signing.publicKey, agreement == identity.agreement.publicKey else {
            throw DecodeError.invalidValue("group state of another member")
        }
        let flags = try r.readUInt8()
        guard flags & ~Flag.all == 0 else { throw DecodeError.invalidValue("group state flags \(flags)") }
        let ledger = try GroupLedger(state: &r)
        guard ledger.current.groupID.rawValue == groupID else { throw DecodeError.invalidValue("group state roster of another group") }
        let epoch = GroupEpoch(number: try r.readUInt32(), secret: try r.readSymmetricKey())
        var previous: GroupEpoch?
        if flags & Flag.previousEpoch != 0 {
            previous = GroupEpoch(number: try r.readUInt32(), secret: try r.readSymmetricKey())
            guard previous?.number == epoch.number &- 1 else { throw DecodeError.invalidValue("previous epoch not the one before") }
        }
        var session = GroupSession(identity: identity, ledger: ledger, epoch: epoch, chain: try SenderKeyChain(groupID: groupID, state: &r))
        session.previousEpoch = previous
        session.awaitingRekey = flags & Flag.awaitingRekey != 0
        session.awaitingRekeyAfterLoss = flags & Flag.awaitingRekeyAfterLoss != 0
        session.sequence = try r.readUInt64()

        var last: ChainKey?
        for _ in 0..<(try r.readCount(UInt16.self, max: Limit.receivers, of: "receivers")) {
            let key = try readChainKey(&r, after: &last)
            let member = SigningPublicKey(rawValue: try r.readBytes32())
            session.receivers[key] = (member, try SenderKeyReceiver(groupID: groupID, chainID: key.chainID, state: &r))
        }
        session.ownChains = try readChainKeys(&r, count: r.readCount(UInt8.self, max: Limit.perEpoch, of: "own chains"))
        session.retiredChains = try readChainKeys(&r, count: r.readCount(UInt16.self, max: maxRetiredChains, of: "retired chains"))
        var lastSequence: UInt64?
        for _ in 0..<(try r.readCount(UInt16.self, max: keptPosts, of: "sent posts")) {
            let sequence = try r.readUInt64()
            guard lastSequence.map({ $0 < sequence }) ?? true else { throw DecodeError.invalidValue("sent posts not ascending") }
            lastSequence = sequence
            session.sentPosts[sequence] = (try r.readUInt32(), try readPostMessage(&r))
        }
        for _ in 0..<(try r.readCount(UInt8.self, max: Limit.perEpoch, of: "chain announcements")) {
            let announcement = try GroupChain.decode(r.readBytes(GroupChain.encodedLength))
            guard announcement.member == signing, session.announcements.keys.allSatisfy({ $0 < announcement.epoch }) else {
                throw DecodeError.invalidValue("chain announcements not this member's or not ascending")
            }
            session.announcements[announcement.epoch] = announcement
        }
        for _ in 0..<(try r.readCount(UInt8.self, max: Limit.perEpoch, of: "rekeys")) {
            let rekey = try GroupRekey.decode(r.readLengthPrefixed(max: Limit.rekeyLength, of: "rekey"))
            guard session.rekeys.keys.allSatisfy({ $0 < rekey.epoch }) else { throw DecodeError.invalidValue("rekeys not ascending") }
            session.rekeys[rekey.epoch] = rekey
        }
        var lastMember: [UInt8]?
        for _ in 0..<(try r.readCount(UInt16.self, max: Int(GroupRoster.maxMembers), of: "epoch members")) {
            let member = SigningPublicKey(rawValue: try r.readBytes32())
            if let lastMember, !lastMember.lexicographicallyPrecedes(member.bytes) {
                throw DecodeError.invalidValue("epoch members not ascending")
            }
            lastMember = member.bytes
            session.epochMembers.insert(member)
        }
        if flags & Flag.lastWants != 0 {
            session.lastWants = try GroupResendRequest.decode(r.readLengthPrefixed(max: Limit.resendLength, of: "resend request"))
        }

        session.timeline = try GroupTimeline(state: &r)
        for _ in 0..<(try r.readCount(UInt16.self, max: maxHeld, of: "held posts")) {
            session.heldPosts.append((try r.readUInt32(), try readPostMessage(&r)))
        }
        for _ in 0..<(try r.readCount(UInt16.self, max: maxHeld, of: "held rekeys")) {
            session.heldRekeys.append(try GroupRekey.decode(r.readLengthPrefixed(max: Limit.rekeyLength, of: "rekey")))
        }
        for _ in 0..<(try r.readCount(UInt16.self, max: maxHeld, of: "held updates")) {
            session.heldUpdates.append(try GroupUpdate.decode(r.readLengthPrefixed(max: GroupUpdate.maxEncodedLength, of: "roster update")))
        }
        return session
    }

    private static func readPostMessage(_ r: inout ByteReader) throws -> SenderKeyMessage {
        try SenderKeyMessage.decode(r.readLengthPrefixed(max: Limit.postMessageLength, of: "sender-key message"),
                                    maxPlaintext: Limit.postMessageLength - SenderKeyFormat.overhead)
    }

    private static func precedes(_ a: ChainKey, _ b: ChainKey) -> Bool { (a.epoch, a.chainID) < (b.epoch, b.chainID) }

    private static func write(_ key: ChainKey, to w: inout ByteWriter) {
        w.write(key.epoch)
        w.write(key.chainID)
    }

    /// A chain key that must sort after `last` (so none is there twice).
    private static func readChainKey(_ r: inout ByteReader, after last: inout ChainKey?) throws -> ChainKey {
        let key = ChainKey(epoch: try r.readUInt32(), chainID: try r.readUInt32())
        if let last, !precedes(last, key) { throw DecodeError.invalidValue("chains not ascending") }
        last = key
        return key
    }

    private static func readChainKeys(_ r: inout ByteReader, count: Int) throws -> Set<ChainKey> {
        var keys: Set<ChainKey> = []
        keys.reserveCapacity(count)
        var last: ChainKey?
        for _ in 0..<count { keys.insert(try readChainKey(&r, after: &last)) }
        return keys
    }
}

// Field helpers of the storage forms (group session, ledger, timeline, sender chains).
extension ByteWriter {
    /// A key's bytes, for state the caller seals at rest.
    mutating func writeSecret(_ key: SymmetricKey) { key.withUnsafeBytes { write($0) } }

    mutating func writeSecret(_ secret: SecureBytes) { secret.withUnsafeBytes { write($0) } }

    /// length (4) | bytes.
    mutating func writeLengthPrefixed(_ data: [UInt8]) {
        write(UInt32(data.count))
        write(data)
    }
}

extension ByteReader {
    /// `count` secret bytes into zero-on-free memory (the transient array is wiped).
    mutating func readSecret(_ count: Int) throws -> SecureBytes {
        var raw = try readBytes(count)
        defer { ConstantTime.wipe(&raw) }
        return SecureBytes(raw)
    }

    mutating func readSymmetricKey() throws -> SymmetricKey { try SymmetricKey(secret: readSecret(SymmetricKey.byteCount)) }

    /// A count field of type `T`, refused above `max` (before anything is allocated for it).
    mutating func readCount<T: FixedWidthInteger & UnsignedInteger>(_: T.Type, max: Int, of what: String) throws -> Int {
        precondition(T.bitWidth <= 32, "count fields are 1, 2 or 4 bytes")
        let count = try readBytes(T.bitWidth / 8).reduce(0) { $0 << 8 | Int($1) }
        guard count <= max else { throw DecodeError.invalidValue("\(count) \(what) (at most \(max))") }
        return count
    }

    /// length (4) | bytes, the length refused above `max`.
    mutating func readLengthPrefixed(max: Int, of what: String) throws -> [UInt8] {
        let length = try readCount(UInt32.self, max: max, of: "bytes of \(what)")
        return try readBytes(length)
    }
}
