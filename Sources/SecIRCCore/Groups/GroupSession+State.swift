import SecIRCCrypto

/// Storage form of a ``GroupSession``, for the client to seal and keep between turns and across
/// restarts (no Codable). Everything that decides what the session does next, except the
/// member's identity (the caller holds it; its public keys are stored to check it).
///
/// A session is stored in **parts**, each under a key, so that a change rewrites only the parts
/// it changed (``stateChange(from:)``): at 1,000 members the whole is ≈ 250 KB, and reading a
/// post changes the head, one receiver chain and one timeline stream — a few hundred bytes.
/// ```
/// key                                   part
/// 0x00                                  head
/// 0x01                                  roster
/// 0x02 | epoch (4) | chain ID (4)       receiver: member (32) | receiver    (SenderKey+State.swift)
/// 0x03 | member (32)                    stream                              (GroupTimeline+State.swift)
/// 0x04 | sequence (8)                   sent post: epoch (4) | sender-key message (the rest)
///
/// head   = version (1) = 2 | group ID (32) | member Ed25519 key (32) | member X25519 key (32) | flags (1)
///        | epoch number (4) | epoch secret (32) | [previous epoch number (4) | its secret (32)]   flag bit 0
///        | own chain (72)                                                 (SenderKey+State.swift)
///        | sequence (8)
///        | own chain count (1, ≤ 2) | (epoch (4) | chain ID (4)) × count
///        | [length (4) | resend request]                                  flag bit 3: what the last request found missing
///        | [roster serial (8)]                                            flag bit 4: a catch-up's, until the roster reaches it
///        | timeline clock (8) | recent count (1, ≤ 8) | member (32) × count, oldest first
///        | held post count (2, ≤ 256) | (epoch (4) | length (4) | sender-key message) × count
///        | held rekey count (2, ≤ 256) | (length (4) | rekey) × count
///        | held update count (2, ≤ 256) | (length (4) | update) × count
/// roster = ledger                                                         (GroupLedger+State.swift)
///        | announcement count (1, ≤ 2) | chain announcement (§7.10: 286 bytes; a version-1 one, 278) × count
///        | rekey count (1, ≤ 2) | (length (4) | rekey) × count
///        | epoch member count (2, ≤ 1,000) | Ed25519 key (32) × count
///        | retired chain count (2, ≤ 2,000) | (epoch (4) | chain ID (4)) × count
/// ```
/// A head and a roster always; a receiver per chain held (≤ 2,000), a stream per member the
/// timeline follows (≤ 1,001), a sent post per own post kept (≤ 1,000). flags: bit 0 a previous
/// epoch, bit 1 awaiting a rekey, bit 2 awaiting it after a member was lost, bit 3 a last resend
/// request, bit 4 catching up (``GroupSession/catchUpSerial``); other bits are zero. Integers are
/// big-endian. Keyed collections are written in ascending key order (chains by (epoch, chain ID),
/// announcements and rekeys by epoch, keys by their bytes), held messages in the order they came,
/// so equal sessions give equal parts.
///
/// ``state`` is the whole session in one piece (tests, tools, and a store that keeps one value):
/// ```
/// state = version (1) = 2 | part count (4, ≤ 4,003) | (key length (1) | key | length (4) | part) × count
/// ```
/// parts in ascending key order (bytewise). ``init(state:identity:)`` also reads the version-1
/// form that clients wrote before parts (one piece, fields in another order: decodeVersion1).
///
/// The parts hold the epoch secrets and chain keys: the caller seals them at rest.
///
/// Not saved: the reassembler's unfinished multi-packet channel messages. A restored session
/// starts with none; what they carried is asked for again through resend requests
/// (``requestMissing(force:now:rng:)``), like any message lost on the way.
extension GroupSession {
    /// The format version of the head and of ``state``.
    public static let stateVersion: UInt8 = 2

    /// The key of one part of a session's state.
    enum StatePart: Hashable, Sendable {
        case head
        case roster
        case receiver(epoch: UInt32, chainID: UInt32)
        case stream(SigningPublicKey)
        case sentPost(sequence: UInt64)

        var key: [UInt8] {
            var w = ByteWriter(capacity: 33)
            switch self {
            case .head: w.write(UInt8(0))
            case .roster: w.write(UInt8(1))
            case let .receiver(epoch, chainID):
                w.write(UInt8(2))
                w.write(epoch)
                w.write(chainID)
            case let .stream(member):
                w.write(UInt8(3))
                w.write(member.rawValue)
            case let .sentPost(sequence):
                w.write(UInt8(4))
                w.write(sequence)
            }
            return w.bytes
        }

        /// Throws for an unknown kind or a key of the wrong length.
        init(key: [UInt8]) throws(DecodeError) {
            do {
                var r = ByteReader(key)
                switch try r.readUInt8() {
                case 0: self = .head
                case 1: self = .roster
                case 2: self = .receiver(epoch: try r.readUInt32(), chainID: try r.readUInt32())
                case 3: self = .stream(SigningPublicKey(rawValue: try r.readBytes32()))
                case 4: self = .sentPost(sequence: try r.readUInt64())
                case let kind: throw DecodeError.invalidValue("group state part kind \(kind)")
                }
                try r.finish()
            } catch let error as DecodeError {
                throw error
            } catch {
                throw .invalidValue("group state part key: \(error)")
            }
        }
    }

    /// What to write to and remove from a stored session's parts to make it this one.
    public struct StateChange: Sendable {
        /// Parts to write, by key.
        public var written: [[UInt8]: [UInt8]] = [:]
        /// Keys of stored parts to remove.
        public var removed: [[UInt8]] = []
        /// `written` is every part: whatever else is stored goes.
        public var isWhole = false

        public init(written: [[UInt8]: [UInt8]] = [:], removed: [[UInt8]] = [], isWhole: Bool = false) {
            self.written = written
            self.removed = removed
            self.isWhole = isWhole
        }
    }

    private enum Flag {
        static let previousEpoch: UInt8 = 1 << 0
        static let awaitingRekey: UInt8 = 1 << 1
        static let awaitingRekeyAfterLoss: UInt8 = 1 << 2
        static let lastWants: UInt8 = 1 << 3
        static let catchingUp: UInt8 = 1 << 4
        static let all: UInt8 = 0x1F
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
        /// Every part a session can have: head, roster, receivers, streams, sent posts.
        static let parts = 2 + receivers + GroupTimeline.maxStreams + GroupSession.keptPosts
        static let partLength = 1 << 24
    }

    // MARK: Writing

    /// Every part, by key.
    public var stateParts: [[UInt8]: [UInt8]] {
        var parts: [[UInt8]: [UInt8]] = [StatePart.head.key: headPart, StatePart.roster.key: rosterPart]
        parts.reserveCapacity(2 + receivers.count + timeline.streams.count + sentPosts.count)
        for (key, value) in receivers.entries { parts[Self.receiverKey(key)] = Self.receiverPart(value) }
        for (member, stream) in timeline.streams { parts[StatePart.stream(member).key] = GroupTimeline.part(stream) }
        for (sequence, sent) in sentPosts { parts[StatePart.sentPost(sequence: sequence).key] = Self.sentPostPart(sent) }
        return parts
    }

    /// The parts to write and remove to turn `stored` (exactly what the store holds) into this
    /// session; every part when nothing is stored. The head is always written (it is small);
    /// other parts only when their content changed, found by comparing with `stored` — for the
    /// sender chains, only those set or removed since `stored` was marked stored
    /// (``markStored(_:)``), when this session was made from it: the chain table records every
    /// change itself (``GroupReceivers``), so no path can forget to mark one.
    public func stateChange(from stored: GroupSession?) -> StateChange {
        guard let stored else { return StateChange(written: stateParts, isWhole: true) }
        var change = StateChange()
        change.written[StatePart.head.key] = headPart
        if ledger.rosters.map(\.hash) != stored.ledger.rosters.map(\.hash) || announcements != stored.announcements
            || rekeys != stored.rekeys || epochMembers != stored.epochMembers || retiredChains != stored.retiredChains {
            change.written[StatePart.roster.key] = rosterPart
        }
        let sameReceiver = { (a: GroupReceivers.Entry, b: GroupReceivers.Entry) in a.member == b.member && a.receiver.hasSameState(as: b.receiver) }
        if receivers.base != 0, receivers.base == stored.receivers.base {
            // Made from `stored` (markStored): the chains set or removed since are all that can differ.
            for key in receivers.touched {
                if let value = receivers[key] {
                    if let before = stored.receivers[key], sameReceiver(value, before) { continue }
                    change.written[Self.receiverKey(key)] = Self.receiverPart(value)
                } else if stored.receivers[key] != nil {
                    change.removed.append(Self.receiverKey(key))
                }
            }
        } else {
            Self.compare(receivers.entries, stored.receivers.entries, same: sameReceiver,
                         changed: { change.written[Self.receiverKey($0)] = Self.receiverPart($1) },
                         removed: { change.removed.append(Self.receiverKey($0)) })
        }
        Self.compare(timeline.streams, stored.timeline.streams, same: ==,
                     changed: { change.written[StatePart.stream($0).key] = GroupTimeline.part($1) },
                     removed: { change.removed.append(StatePart.stream($0).key) })
        Self.compare(sentPosts, stored.sentPosts, same: { $0.epoch == $1.epoch && $0.message == $1.message },
                     changed: { change.written[StatePart.sentPost(sequence: $0).key] = Self.sentPostPart($1) },
                     removed: { change.removed.append(StatePart.sentPost(sequence: $0).key) })
        return change
    }

    /// Calls `changed` for each entry of `new` not in `old` or not `same` as there, and `removed`
    /// for each key of `old` only. A session's collections are copies of the stored session's,
    /// changed in a few values, and two copies of a dictionary keep one layout until a key comes
    /// or goes: those are walked side by side, without hashing (at 1,000 members that is most of
    /// the cost); others by lookup.
    private static func compare<Key, Value>(_ new: [Key: Value], _ old: [Key: Value], same: (Value, Value) -> Bool,
                                            changed: (Key, Value) -> Void, removed: (Key) -> Void) {
        if new.count == old.count {
            var differing: [(Key, Value)] = []
            var sameLayout = true
            for (mine, theirs) in zip(new, old) {
                guard mine.key == theirs.key else {
                    sameLayout = false
                    break
                }
                if !same(mine.value, theirs.value) { differing.append((mine.key, mine.value)) }
            }
            if sameLayout {
                for (key, value) in differing { changed(key, value) }
                return
            }
        }
        for (key, value) in new {
            if let before = old[key], same(value, before) { continue }
            changed(key, value)
        }
        for key in old.keys where new[key] == nil { removed(key) }
    }

    /// The whole session in one piece (the layout above).
    public var state: [UInt8] {
        let parts = stateParts.sorted { $0.key.lexicographicallyPrecedes($1.key) }
        var w = ByteWriter(capacity: parts.reduce(5) { $0 + 5 + $1.key.count + $1.value.count })
        w.write(Self.stateVersion)
        w.write(UInt32(parts.count))
        for (key, part) in parts {
            w.write(UInt8(key.count))
            w.write(key)
            w.writeLengthPrefixed(part)
        }
        return w.bytes
    }

    private var headPart: [UInt8] {
        var w = ByteWriter(capacity: 512)
        w.write(Self.stateVersion)
        writeIdentity(flags: flags, to: &w)
        writeEpochs(to: &w)
        chain.writeState(to: &w)
        w.write(sequence)
        w.write(UInt8(ownChains.count))
        for key in ownChains.sorted(by: Self.precedes) { Self.write(key, to: &w) }
        if let lastWants { w.writeLengthPrefixed(lastWants.encoded) }
        if let catchUpSerial { w.write(catchUpSerial) }
        w.write(timeline.clock)
        timeline.writeRecent(to: &w)
        writeHeld(to: &w)
        return w.bytes
    }

    private var rosterPart: [UInt8] {
        var w = ByteWriter(capacity: 4096)
        ledger.writeState(to: &w)
        writeAnnouncements(to: &w)
        writeRekeys(to: &w)
        w.write(UInt16(epochMembers.count))
        for member in epochMembers.sorted(by: { $0.rawValue.lexicographicallyPrecedes($1.rawValue) }) { w.write(member.rawValue) }
        w.write(UInt16(retiredChains.count))
        for key in retiredChains.sorted(by: Self.precedes) { Self.write(key, to: &w) }
        return w.bytes
    }

    private static func receiverKey(_ key: ChainKey) -> [UInt8] { StatePart.receiver(epoch: key.epoch, chainID: key.chainID).key }

    private static func receiverPart(_ value: (member: SigningPublicKey, receiver: SenderKeyReceiver)) -> [UInt8] {
        var w = ByteWriter(capacity: 128)
        w.write(value.member.rawValue)
        value.receiver.writeState(to: &w)
        return w.bytes
    }

    private static func sentPostPart(_ sent: (epoch: UInt32, message: SenderKeyMessage)) -> [UInt8] {
        var w = ByteWriter(capacity: 4 + sent.message.ciphertext.count + SenderKeyFormat.overhead)
        w.write(sent.epoch)
        w.write(sent.message.encoded)
        return w.bytes
    }

    private var flags: UInt8 {
        var flags: UInt8 = 0
        if previousEpoch != nil { flags |= Flag.previousEpoch }
        if awaitingRekey { flags |= Flag.awaitingRekey }
        if awaitingRekeyAfterLoss { flags |= Flag.awaitingRekeyAfterLoss }
        if lastWants != nil { flags |= Flag.lastWants }
        if catchUpSerial != nil { flags |= Flag.catchingUp }
        return flags
    }

    private func writeIdentity(flags: UInt8, to w: inout ByteWriter) {
        w.write(roster.groupID.rawValue)
        w.write(identity.signing.publicKey.rawValue)
        w.write(identity.agreement.publicKey.rawValue)
        w.write(flags)
    }

    func writeEpochs(to w: inout ByteWriter) {
        for held in [epoch] + (previousEpoch.map { [$0] } ?? []) {
            w.write(held.number)
            w.writeSecret(held.secret)
        }
    }

    func writeAnnouncements(to w: inout ByteWriter) {
        w.write(UInt8(announcements.count))
        for (_, announcement) in announcements.sorted(by: { $0.key < $1.key }) { w.write(announcement.encoded) }
    }

    func writeRekeys(to w: inout ByteWriter) {
        w.write(UInt8(rekeys.count))
        for (_, rekey) in rekeys.sorted(by: { $0.key < $1.key }) { w.writeLengthPrefixed(rekey.encoded) }
    }

    func writeHeld(to w: inout ByteWriter) {
        w.write(UInt16(heldPosts.count))
        for held in heldPosts {
            w.write(held.epoch)
            w.writeLengthPrefixed(held.message.encoded)
        }
        w.write(UInt16(heldRekeys.count))
        for rekey in heldRekeys { w.writeLengthPrefixed(rekey.encoded) }
        w.write(UInt16(heldUpdates.count))
        for update in heldUpdates { w.writeLengthPrefixed(update.encoded) }
    }

    // MARK: Reading

    /// Restores a session saved with ``state`` (either version) for `identity`. Throws
    /// ``DecodeError`` for another version, parts out of order or twice, input that ends early
    /// or goes on after the end, and whatever ``init(parts:identity:)`` refuses. Never traps.
    public init(state: [UInt8], identity: SessionSetup.Identity) throws(DecodeError) {
        do {
            var r = ByteReader(state)
            switch try r.readUInt8() {
            case 1: self = try Self.decodeVersion1(&r, identity: identity)
            case Self.stateVersion:
                var parts: [[UInt8]: [UInt8]] = [:]
                var last: [UInt8]?
                for _ in 0..<(try r.readCount(UInt32.self, max: Limit.parts, of: "group state parts")) {
                    let key = try r.readBytes(Int(try r.readUInt8()))
                    if let last, !last.lexicographicallyPrecedes(key) { throw DecodeError.invalidValue("group state parts not ascending") }
                    last = key
                    parts[key] = try r.readLengthPrefixed(max: Limit.partLength, of: "group state part")
                }
                self = try Self.decodeParts(parts, identity: identity)
            case let version: throw DecodeError.invalidValue("group state version \(version)")
            }
            try r.finish()
        } catch let error as DecodeError {
            throw error
        } catch {
            throw .invalidValue("group state: \(error)")
        }
    }

    /// Restores a session from its parts (``stateParts``), as a store keeps them. Throws
    /// ``DecodeError`` for a missing head or roster, an unknown part, more parts of a kind than a
    /// session holds, a head of another version, unknown flags, a count over its bound, keys out
    /// of order or repeated, an embedded message that does not decode, a ledger whose updates do
    /// not apply, a group ID that is not its roster's, a part that ends early or goes on after
    /// its end, or a state saved for another identity. Never traps. The restored session has no
    /// unfinished multi-packet messages (see above).
    ///
    /// A version-1 state stored whole, under the empty key, is read as such (stores written
    /// before parts; the next change writes it as parts).
    public init(parts: [[UInt8]: [UInt8]], identity: SessionSetup.Identity) throws(DecodeError) {
        if parts.count == 1, let whole = parts[[]] {
            try self.init(state: whole, identity: identity)
            return
        }
        do {
            self = try Self.decodeParts(parts, identity: identity)
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

    private static func decodeParts(_ parts: [[UInt8]: [UInt8]], identity: SessionSetup.Identity) throws -> GroupSession {
        guard parts.count <= Limit.parts else { throw DecodeError.invalidValue("\(parts.count) group state parts (at most \(Limit.parts))") }
        guard let head = parts[StatePart.head.key], let roster = parts[StatePart.roster.key] else {
            throw DecodeError.invalidValue("group state without its head or roster")
        }
        var h = ByteReader(head)
        let version = try h.readUInt8()
        guard version == stateVersion else { throw DecodeError.invalidValue("group state head version \(version)") }
        var o = ByteReader(roster)
        let (groupID, flags) = try readIdentity(&h, identity: identity)
        var session = try readSession(&h, groupID: groupID, flags: flags, ledger: GroupLedger(state: &o), identity: identity)
        session.ownChains = try readChainKeys(&h, count: h.readCount(UInt8.self, max: Limit.perEpoch, of: "own chains"))
        if flags & Flag.lastWants != 0 { try session.readLastWants(&h) }
        if flags & Flag.catchingUp != 0 { session.catchUpSerial = try h.readUInt64() }
        session.timeline.clock = try h.readUInt64()
        try session.timeline.readRecent(&h)
        try session.readHeld(&h)
        try h.finish()
        try session.readAnnouncements(&o)
        try session.readRekeys(&o)
        try session.readEpochMembers(&o)
        session.retiredChains = try readChainKeys(&o, count: o.readCount(UInt16.self, max: maxRetiredChains, of: "retired chains"))
        try o.finish()

        var streams = 0
        for (key, bytes) in parts {
            var r = ByteReader(bytes)
            switch try StatePart(key: key) {
            case .head, .roster: continue
            case let .receiver(epoch, chainID):
                guard session.receivers.count < Limit.receivers else {
                    throw DecodeError.invalidValue("more than \(Limit.receivers) receivers")
                }
                let member = SigningPublicKey(rawValue: try r.readBytes32())
                session.receivers[ChainKey(epoch: epoch, chainID: chainID)] =
                    (member, try SenderKeyReceiver(groupID: groupID, chainID: chainID, state: &r))
            case let .stream(member):
                streams += 1
                guard streams <= GroupTimeline.maxStreams else {
                    throw DecodeError.invalidValue("more than \(GroupTimeline.maxStreams) timeline streams")
                }
                session.timeline.streams[member] = try GroupTimeline.readStream(&r)
            case let .sentPost(sequence):
                guard session.sentPosts.count < keptPosts else { throw DecodeError.invalidValue("more than \(keptPosts) sent posts") }
                let epoch = try r.readUInt32()
                session.sentPosts[sequence] = (epoch, try readPostMessage(r.readBytes(r.remaining)))
            }
            try r.finish()
        }
        return session
    }

    /// The version-1 form: one piece, the fields of the parts in another order.
    /// ```
    /// state = version (1) = 1 | group ID (32) | member Ed25519 key (32) | member X25519 key (32) | flags (1)
    ///       | ledger | epoch number (4) | epoch secret (32) | [previous epoch number (4) | its secret (32)]
    ///       | own chain (72) | sequence (8)
    ///       | receiver count (2, ≤ 2,000) | (epoch (4) | chain ID (4) | member (32) | receiver) × count
    ///       | own chain count (1, ≤ 2) | (epoch (4) | chain ID (4)) × count
    ///       | retired chain count (2, ≤ 2,000) | (epoch (4) | chain ID (4)) × count
    ///       | sent post count (2, ≤ 1,000) | (sequence (8) | epoch (4) | length (4) | sender-key message) × count
    ///       | announcements | rekeys | epoch members | [length (4) | resend request]
    ///       | timeline clock (8) | stream count (2, ≤ 1,001) | (member (32) | stream) × count | recent
    ///       | held posts | held rekeys | held updates
    /// ```
    /// chains, sent posts and streams in ascending key order.
    private static func decodeVersion1(_ r: inout ByteReader, identity: SessionSetup.Identity) throws -> GroupSession {
        let (groupID, flags) = try readIdentity(&r, identity: identity)
        guard flags & Flag.catchingUp == 0 else { throw DecodeError.invalidValue("group state flags \(flags) in version 1") }
        var session = try readSession(&r, groupID: groupID, flags: flags, ledger: GroupLedger(state: &r), identity: identity)
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
        try session.readAnnouncements(&r)
        try session.readRekeys(&r)
        try session.readEpochMembers(&r)
        if flags & Flag.lastWants != 0 { try session.readLastWants(&r) }
        session.timeline = try GroupTimeline(state: &r)
        try session.readHeld(&r)
        return session
    }

    /// The group ID and flags, after the member's keys (checked against `identity`).
    private static func readIdentity(_ r: inout ByteReader, identity: SessionSetup.Identity) throws -> (groupID: Bytes32, flags: UInt8) {
        let groupID = try r.readBytes32()
        let signing = SigningPublicKey(rawValue: try r.readBytes32())
        let agreement = AgreementPublicKey(rawValue: try r.readBytes32())
        guard signing == identity.signing.publicKey, agreement == identity.agreement.publicKey else {
            throw DecodeError.invalidValue("group state of another member")
        }
        let flags = try r.readUInt8()
        guard flags & ~Flag.all == 0 else { throw DecodeError.invalidValue("group state flags \(flags)") }
        return (groupID, flags)
    }

    /// A session on `ledger`, with the epochs, own chain and sequence read from `r`.
    private static func readSession(_ r: inout ByteReader, groupID: Bytes32, flags: UInt8, ledger: GroupLedger,
                                    identity: SessionSetup.Identity) throws -> GroupSession {
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
        return session
    }

    private mutating func readAnnouncements(_ r: inout ByteReader) throws {
        for _ in 0..<(try r.readCount(UInt8.self, max: Limit.perEpoch, of: "chain announcements")) {
            let format = try r.readUInt8()
            let announcement = try GroupChain.decode([format] + r.readBytes(GroupChain.encodedLength(version: format) - 1))
            guard announcement.member == me, announcements.keys.allSatisfy({ $0 < announcement.epoch }) else {
                throw DecodeError.invalidValue("chain announcements not this member's or not ascending")
            }
            announcements[announcement.epoch] = announcement
        }
    }

    private mutating func readRekeys(_ r: inout ByteReader) throws {
        for _ in 0..<(try r.readCount(UInt8.self, max: Limit.perEpoch, of: "rekeys")) {
            let rekey = try GroupRekey.decode(r.readLengthPrefixed(max: Limit.rekeyLength, of: "rekey"))
            guard rekeys.keys.allSatisfy({ $0 < rekey.epoch }) else { throw DecodeError.invalidValue("rekeys not ascending") }
            rekeys[rekey.epoch] = rekey
        }
    }

    private mutating func readEpochMembers(_ r: inout ByteReader) throws {
        var lastMember: [UInt8]?
        for _ in 0..<(try r.readCount(UInt16.self, max: Int(GroupRoster.maxMembers), of: "epoch members")) {
            let member = SigningPublicKey(rawValue: try r.readBytes32())
            if let lastMember, !lastMember.lexicographicallyPrecedes(member.bytes) {
                throw DecodeError.invalidValue("epoch members not ascending")
            }
            lastMember = member.bytes
            epochMembers.insert(member)
        }
    }

    private mutating func readLastWants(_ r: inout ByteReader) throws {
        lastWants = try GroupResendRequest.decode(r.readLengthPrefixed(max: Limit.resendLength, of: "resend request"))
    }

    private mutating func readHeld(_ r: inout ByteReader) throws {
        for _ in 0..<(try r.readCount(UInt16.self, max: Self.maxHeld, of: "held posts")) {
            heldPosts.append((try r.readUInt32(), try Self.readPostMessage(&r)))
        }
        for _ in 0..<(try r.readCount(UInt16.self, max: Self.maxHeld, of: "held rekeys")) {
            heldRekeys.append(try GroupRekey.decode(r.readLengthPrefixed(max: Limit.rekeyLength, of: "rekey")))
        }
        for _ in 0..<(try r.readCount(UInt16.self, max: Self.maxHeld, of: "held updates")) {
            heldUpdates.append(try GroupUpdate.decode(r.readLengthPrefixed(max: GroupUpdate.maxEncodedLength, of: "roster update")))
        }
    }

    private static func readPostMessage(_ r: inout ByteReader) throws -> SenderKeyMessage {
        try readPostMessage(r.readLengthPrefixed(max: Limit.postMessageLength, of: "sender-key message"))
    }

    private static func readPostMessage(_ bytes: [UInt8]) throws -> SenderKeyMessage {
        guard bytes.count <= Limit.postMessageLength else { throw DecodeError.invalidValue("a sender-key message of \(bytes.count) bytes") }
        return try SenderKeyMessage.decode(bytes, maxPlaintext: Limit.postMessageLength - SenderKeyFormat.overhead)
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
