public import SecIRCCrypto

/// Why something read from the group channel was dropped (counted by the caller).
public enum GroupDropReason: String, Hashable, Sendable, CaseIterable {
    /// A body that no epoch this member holds opens (another group's, cover, a corrupted one).
    case notForUs = "not_for_us"
    /// Bytes that are not a valid fragment or channel message.
    case malformed
    /// A roster update the ledger refused, or one from a branch it does not keep.
    case updateRefused = "update_refused"
    /// A rekey not for this member's roster or epoch, or not an admin's.
    case rekeyRefused = "rekey_refused"
    /// A chain not signed by a current member, or for another group or epoch.
    case chainRefused = "chain_refused"
    /// A post that did not decrypt under its chain, or whose poster is not a member any more.
    case postRefused = "post_refused"
    /// A post, rekey or update held for what it needs (a chain, a roster) was let go at the bound.
    case heldTooMany = "held_too_many"
    /// A snapshot that came for a ticket (an invitation) whose roster does not make its sender
    /// an admin or does not hold this client's keys: the invitation is dropped.
    case invitationRefused = "invitation_refused"
}

/// One member's state in one group (issue 13): its roster ledger (§7.7), the epoch it holds
/// (§7.9), its own sender chain and the other members' (§7.6), its timeline (§7.8). A value
/// with no clock, no randomness and no I/O of its own: every call takes `now` and `rng` and
/// returns an ``Output`` — the sealed packets to deposit in the group mailbox, the invitations
/// to hand over pairwise, the posts to show.
///
/// The group channel: every message (post, update, rekey, chain) is cut into sealed packets to
/// the epoch's sealing key and deposited once in the epoch's group mailbox, whatever the group's
/// size; members fetch it with the epoch's mailbox key. Membership changes make a new epoch
/// (a new mailbox): an admin adding a member posts the update and a rekey under the old control
/// key in the old mailbox and hands the joiner an invitation; an admin removing one posts the
/// update and a rekey sealed to each remaining member; a member leaving posts its own removal
/// and the admin whose key sorts lowest in the new roster posts the rekey. On a new epoch each
/// member starts a fresh sender chain and posts it in the new mailbox.
public struct GroupSession: Sendable {
    /// What a call produced.
    public struct Output: Sendable {
        /// Mailbox bodies (sealed packets) to deposit in the group mailbox `mailbox`.
        public var deposits: [Deposit] = []
        /// Invitations to send to new members inside their pairwise sessions.
        public var invitations: [Invitation] = []
        /// New posts to show (this member's own included), in the order they came.
        public var shown: [Shown] = []
        /// What was dropped, by reason.
        public var dropped: [GroupDropReason: Int] = [:]
        /// The roster changed.
        public var rosterChanged = false
        /// Something an admin wrote was read in the current epoch's mailbox (or this member moved
        /// to a new epoch): the group has not moved on without this member (§7.10, catching up).
        public var heardAdmin = false

        public init() {}

        /// Adds what a later call produced (in order).
        public mutating func merge(_ other: Output) {
            deposits += other.deposits
            invitations += other.invitations
            shown += other.shown
            dropped.merge(other.dropped, uniquingKeysWith: +)
            rosterChanged = rosterChanged || other.rosterChanged
            heardAdmin = heardAdmin || other.heardAdmin
        }
    }

    public struct Deposit: Hashable, Sendable {
        public let mailbox: Bytes32
        public let body: [UInt8]
    }

    public struct Invitation: Sendable {
        public let member: SigningPublicKey
        public let bytes: [UInt8]
    }

    public struct Shown: Hashable, Sendable {
        public let position: GroupTimeline.Position
        public let post: GroupPost
    }

    struct ChainKey: Hashable {
        let epoch: UInt32
        let chainID: UInt32
    }

    /// Held for what they need, at most this many each (posts waiting for their chain, rekeys
    /// and updates waiting for their roster).
    public static let maxHeld = 256
    /// Own posts kept to post again, and the most posted again for one request.
    public static let keptPosts = 1_000
    public static let maxResentPerRequest = 64
    /// Chains of departed members remembered at most (those of two epochs of a full group);
    /// past it the oldest are forgotten, and their posts are held (within ``maxHeld``) instead
    /// of refused. Bounds ``state`` too.
    public static let maxRetiredChains = 2 * Int(GroupRoster.maxMembers)

    let identity: SessionSetup.Identity
    public internal(set) var ledger: GroupLedger
    public internal(set) var epoch: GroupEpoch
    var previousEpoch: GroupEpoch?
    var chain: SenderKeyChain
    /// This member's posts so far (its last sequence).
    public internal(set) var sequence: UInt64 = 0
    var receivers = GroupReceivers()
    /// This member's own chains (the current epoch's and the previous one's).
    var ownChains: Set<ChainKey> = []
    /// Chains of members who left or were removed: their posts are refused, not held.
    var retiredChains: Set<ChainKey> = []
    /// This member's own posts, by sequence, with the epoch they were posted in (the last
    /// ``keptPosts``), to post again when someone missed them.
    var sentPosts: [UInt64: (epoch: UInt32, message: SenderKeyMessage)] = [:]
    /// This member's chain announcements, by epoch (the current and the previous one).
    var announcements: [UInt32: GroupChain] = [:]
    /// Whether this member's chain for the current epoch went out: with its first post there,
    /// or on entering the epoch when it posted in the one before.
    public var chainAnnounced: Bool { announcements[epoch.number] != nil }
    /// The rekeys into the current and the previous epoch, by the epoch they made.
    var rekeys: [UInt32: GroupRekey] = [:]
    /// A membership change was applied and its rekey has not come yet.
    var awaitingRekey = false
    /// ... and it lost a member: this member posts nothing until the rekey (the one who left
    /// still holds the epoch).
    var awaitingRekeyAfterLoss = false
    /// The members the current epoch was made for: a rekey under its control key is only for
    /// a roster that lost none of them.
    var epochMembers: Set<SigningPublicKey> = []
    /// After a catch-up (``catchUp(_:from:now:rng:)``), the roster serial its epoch was made for,
    /// until this member's roster reaches it: the updates up to it made no new epoch for this
    /// member (the epoch it holds already follows them).
    public internal(set) var catchUpSerial: UInt64?
    /// When the lowest-key admin last posted its chain as a sign of life (not saved).
    private var lastBeacon: UnixTime?
    /// How often the lowest-key admin posts its chain again when nothing else shows that the
    /// current epoch is alive (§7.10, catching up).
    public static let beaconInterval = Duration.seconds(60)
    /// What the last ``requestMissing(force:now:rng:)`` found missing (only what is still
    /// missing one call later is asked for: the rest was in flight).
    var lastWants: GroupResendRequest?
    /// This member is the admin to rekey after a member left, once it has read the batch the
    /// departure came in (``finishReading(now:rng:)``; not saved: after a start the fallback
    /// below makes the rekey).
    private var owesRekey = false
    /// When this member, an admin, first found itself awaiting the rekey after a loss (not
    /// saved): the admin ranked k-th by key makes it itself after (k + 1) × ``rekeyFallback``.
    private var lossNoticed: UnixTime?
    /// How long the admin ranked first by key waits for a rekey after a loss before making one
    /// itself (the admin that should have is away); each next admin waits that much longer.
    public static let rekeyFallback = Duration.seconds(300)
    public internal(set) var timeline = GroupTimeline()
    /// Unfinished multi-packet channel messages; not saved by ``state`` (GroupSession+State.swift).
    private var reassembler = Reassembler(maxTransfers: 64, maxBytes: 4 << 20)
    var heldPosts: [(epoch: UInt32, message: SenderKeyMessage)] = []
    var heldRekeys: [GroupRekey] = []
    var heldUpdates: [GroupUpdate] = []

    public var roster: GroupRoster { ledger.current }
    public var me: SigningPublicKey { identity.signing.publicKey }
    /// Whether this member is in the current roster.
    public var isMember: Bool { roster.members[me] != nil }
    /// Whether ``post(_:kind:now:rng:)`` takes a post now: a member, not waiting for the rekey
    /// after someone left (who still holds the current epoch).
    public var canPost: Bool { isMember && !awaitingRekeyAfterLoss }
    /// The state stored under `tag` (a caller's random, non-zero) is this session: the next
    /// ``stateChange(from:)`` of a session made from it, against it, writes the sender chains
    /// changed since without comparing the others.
    public mutating func markStored(_ tag: UInt64) { receivers.markStored(tag) }

    /// The mailbox keys to fetch with: the current epoch's, then the previous one's (posts in
    /// flight when the epoch changed).
    public var fetchKeys: [SigningPrivateKey] { [epoch.mailboxKey] + (previousEpoch.map { [$0.mailboxKey] } ?? []) }

    /// What this member holds of `member`'s posts, in one line (the simulator names it for a post
    /// some member never showed): its epochs and roster serial, the epochs of the poster's chains
    /// it holds, its stream of the poster (`contiguous`/`known` +held above), how many posts it
    /// holds waiting for their chain, and whether it awaits a rekey.
    /// No secret in it.
    public func readingState(of member: SigningPublicKey) -> String {
        let chains = receivers.chains(of: member).map(\.epoch).sorted()
        let stream = timeline.streams[member].map { "stream \($0.contiguous)/\($0.known) +\($0.above.count)" } ?? "no stream"
        return "epoch \(epoch.number)\(previousEpoch.map { " (and \($0.number))" } ?? ""), serial \(roster.serial), "
            + "chains at epochs \(chains), \(stream), held \(heldPosts.count) posts\(awaitingRekey ? ", awaiting a rekey" : "")"
    }

    private init(identity: SessionSetup.Identity, roster: GroupRoster, epoch: GroupEpoch, rng: inout some RandomSource) {
        self.identity = identity
        ledger = GroupLedger(roster)
        self.epoch = epoch
        epochMembers = Set(roster.members.keys)
        chain = SenderKeyChain(groupID: roster.groupID.rawValue, using: &rng)
        ownChains = [ChainKey(epoch: epoch.number, chainID: chain.chainID)]
    }

    /// A new group with this member as its admin and `others` as members: the session, and the
    /// invitations for the others and the snapshot to deposit. More others than update 0
    /// holds (``GroupRoster/maxOthersAtCreation``) are added by update 1, in epoch 1, and every
    /// ticket is for that epoch.
    public static func create(groupKey: SigningPrivateKey, name: String, identity: SessionSetup.Identity, others: [GroupIdentity],
                              now: UnixTime, rng: inout some RandomSource) throws(GroupRosterError) -> (GroupSession, Output) {
        guard others.count > GroupRoster.maxOthersAtCreation else {
            return try createInOneUpdate(groupKey: groupKey, name: name, identity: identity, others: others, depositSnapshot: true,
                                         now: now, rng: &rng)
        }
        let first = Array(others.prefix(GroupRoster.maxOthersAtCreation))
        var (session, output) = try createInOneUpdate(groupKey: groupKey, name: name, identity: identity, others: first,
                                                      depositSnapshot: false, now: now, rng: &rng)
        do {
            let rest = try session.change(others.dropFirst(first.count).map { .add($0, .member) }, now: now, rng: &rng)
            output.deposits += rest.deposits
        } catch let error as GroupRosterError {
            throw error
        } catch {
            throw .invalidOperation("\(error)")
        }
        // Every member joins in the last epoch, from the last roster (whose snapshot is deposited there).
        let ticket = GroupInvitation(roster: session.roster, epoch: session.epoch).encoded
        output.invitations = others.map { Invitation(member: $0.signing, bytes: ticket) }
        return (session, output)
    }

    private static func createInOneUpdate(groupKey: SigningPrivateKey, name: String, identity: SessionSetup.Identity,
                                          others: [GroupIdentity], depositSnapshot: Bool, now: UnixTime,
                                          rng: inout some RandomSource) throws(GroupRosterError) -> (GroupSession, Output) {
        let me = GroupIdentity(signing: identity.signing.publicKey, agreement: identity.agreement.publicKey)
        let (_, roster) = try GroupRoster.create(groupKey: groupKey, name: name, creator: me, others: others)
        let session = GroupSession(identity: identity, roster: roster, epoch: GroupEpoch(number: 0, using: &rng), rng: &rng)
        var output = Output()
        if !others.isEmpty {
            let ticket = GroupInvitation(roster: roster, epoch: session.epoch).encoded
            for other in others { output.invitations.append(Invitation(member: other.signing, bytes: ticket)) }
            if depositSnapshot { try? session.deposit(.snapshot(roster.snapshot), in: session.epoch, now: now, rng: &rng, into: &output) }
        }
        return (session, output)
    }

    /// Joins from a complete invitation (its sender is the inviting admin, known from the
    /// pairwise session; its snapshot came: ``GroupSnapshotWait``); nil when this member is not in
    /// its roster, or the snapshot is not here. The output is empty: this member's chain is
    /// announced with its first post.
    public static func join(_ invitation: GroupInvitation, identity: SessionSetup.Identity, now: UnixTime,
                            rng: inout some RandomSource) -> (GroupSession, Output)? {
        guard let roster = invitation.roster, roster.agreementKeys[identity.signing.publicKey] == identity.agreement.publicKey,
              roster.serial < .max - 1, invitation.epoch.number < .max - 1 else { return nil }
        return (GroupSession(identity: identity, roster: roster, epoch: invitation.epoch, rng: &rng), Output())
    }

    // MARK: Sending

    /// Posts `body` (of `kind`) to the group: encrypted once, deposited once — after this
    /// member's chain for the epoch, the first time it posts in it.
    public mutating func post(_ body: [UInt8], kind: EnvelopeKind = .text, now: UnixTime, rng: inout some RandomSource) throws -> Output {
        guard isMember, !awaitingRekeyAfterLoss else { throw GroupRosterError.notAllowed }
        guard body.count <= GroupPost.maxBodyLength else { throw GroupRosterError.invalidOperation("a post of \(body.count) bytes") }
        var output = Output()
        if announcements[epoch.number] == nil { announceChain(now: now, rng: &rng, into: &output) }
        sequence += 1
        let (lamport, references) = timeline.nextPost(by: me)
        let post = GroupPost(rosterSerial: roster.serial, sequence: sequence, lamport: lamport, id: MessageID(using: &rng),
                             timestampMs: UInt64(max(0, now.nanoseconds / 1_000_000)), kind: kind, references: references, body: body)
        if case let .new(position) = timeline.recordOwn(post, by: me) { output.shown.append(Shown(position: position, post: post)) }
        let sealed = try chain.encrypt(post.encoded)
        sentPosts[sequence] = (epoch.number, sealed)
        if sentPosts.count > Self.keptPosts, let oldest = sentPosts.keys.min() { sentPosts[oldest] = nil }
        try deposit(.post(sealed), in: epoch, now: now, rng: &rng, into: &output)
        return output
    }

    /// An admin adds `member`: the update and a rekey (under the current epoch) go to the current
    /// mailbox, the invitation to the new member; this member moves to the new epoch.
    public mutating func add(_ member: GroupIdentity, now: UnixTime, rng: inout some RandomSource) throws -> Output {
        try change([.add(member, .member)], now: now, rng: &rng)
    }

    /// An admin removes `member`: the update and a rekey sealed to each remaining member.
    public mutating func remove(_ member: SigningPublicKey, now: UnixTime, rng: inout some RandomSource) throws -> Output {
        try change([.remove(member)], now: now, rng: &rng)
    }

    /// An admin's other changes (roles, name, limit): an update, no new epoch unless it adds or
    /// removes members.
    public mutating func change(_ operations: [GroupOperation], now: UnixTime, rng: inout some RandomSource) throws -> Output {
        let before = roster
        guard (1...GroupUpdate.maxOperations).contains(operations.count),
              GroupUpdate.encodedLength(of: operations) <= GroupUpdate.maxEncodedLength,
              before.serial < .max - 1, epoch.number < .max - 1 else {
            throw GroupRosterError.invalidOperation("\(operations.count) operations, \(GroupUpdate.encodedLength(of: operations)) bytes")
        }
        let update = GroupUpdate.signed(groupKey: before.groupKey, serial: before.serial + 1, previous: before.hash,
                                        operations: operations, by: identity.signing)
        let after = try before.applying(update)
        _ = ledger.receive(update)
        var output = Output()
        output.rosterChanged = true
        try deposit(.update(update), in: epoch, now: now, rng: &rng, into: &output)
        let joined = Set(after.members.keys).subtracting(before.members.keys)
        let left = Set(before.members.keys).subtracting(after.members.keys)
        guard !joined.isEmpty || !left.isEmpty else { return output }
        forget(left)
        let next = GroupEpoch(number: epoch.number + 1, using: &rng)
        // Under the current control key only when nobody the epoch was made for is gone (by this
        // update or an earlier one whose rekey has not come): else sealed to each member.
        let lostAny = !epochMembers.isSubset(of: after.members.keys) || awaitingRekeyAfterLoss
        let rekey = GroupRekey.make(next, for: after, previous: lostAny ? nil : epoch, author: identity.signing, rng: &rng)
        rekeys[next.number] = rekey
        try deposit(.rekey(rekey), in: epoch, now: now, rng: &rng, into: &output)
        if !joined.isEmpty {
            // One ticket for every joiner; the snapshot once, in the new epoch's mailbox.
            let ticket = GroupInvitation(roster: after, epoch: next).encoded
            for member in joined.sorted(by: { $0.bytes.lexicographicallyPrecedes($1.bytes) }) {
                output.invitations.append(Invitation(member: member, bytes: ticket))
            }
            try deposit(.snapshot(after.snapshot), in: next, now: now, rng: &rng, into: &output)
        }
        enter(next, now: now, rng: &rng, into: &output)
        return output
    }

    /// This member leaves: its own removal goes to the current mailbox; an admin rekeys.
    public mutating func leave(now: UnixTime, rng: inout some RandomSource) throws -> Output {
        guard isMember, roster.serial < .max - 1 else { throw GroupRosterError.notAllowed }
        let update = GroupUpdate.signed(groupKey: roster.groupKey, serial: roster.serial + 1, previous: roster.hash,
                                        operations: [.remove(me)], by: identity.signing)
        _ = try roster.applying(update)
        _ = ledger.receive(update)
        var output = Output()
        output.rosterChanged = true
        try deposit(.update(update), in: epoch, now: now, rng: &rng, into: &output)
        return output
    }

    // MARK: Receiving

    /// A body fetched from (or pushed by) the group mailbox of the current or previous epoch.
    /// A request in it is answered only with what `answered` allows (the caller keeps that log
    /// for this session, in memory: ``GroupAnswerLog``).
    public mutating func receive(_ body: [UInt8], now: UnixTime, rng: inout some RandomSource,
                                 answered: inout GroupAnswerLog) -> Output {
        var output = Output()
        var opened: (Fragment, GroupEpoch)?
        for candidate in [epoch] + (previousEpoch.map { [$0] } ?? []) {
            if let fragment = try? SealedPacket.open(body, with: candidate.sealingKey) {
                opened = (fragment, candidate)
                break
            }
        }
        guard let (fragment, from) = opened else {
            output.dropped[.notForUs, default: 0] += 1
            return output
        }
        let whole: [UInt8]?
        do { whole = try reassembler.add(fragment, now: now) } catch {
            output.dropped[.malformed, default: 0] += 1
            return output
        }
        guard let whole else { return output }
        guard let message = try? GroupChannelMessage.decode(whole) else {
            output.dropped[.malformed, default: 0] += 1
            return output
        }
        handle(message, epoch: from.number, now: now, rng: &rng, answered: &answered, into: &output)
        return output
    }

    private mutating func handle(_ message: GroupChannelMessage, epoch number: UInt32, now: UnixTime, rng: inout some RandomSource,
                                 answered: inout GroupAnswerLog, into output: inout Output) {
        switch message {
        case let .post(sealed): take(sealed, epoch: number, into: &output)
        case let .chain(chain): take(chain, into: &output)
        case let .update(update): take(update, now: now, rng: &rng, into: &output)
        case let .rekey(rekey): take(rekey, now: now, rng: &rng, into: &output)
        case let .resend(request): answer(request, epoch: number, now: now, rng: &rng, answered: &answered, into: &output)
        case .snapshot: break // for joiners (``GroupSnapshotWait``); a member has its roster
        }
    }

    /// Posts again what `request` (read in epoch `number`'s mailbox) asks of this member: its own
    /// posts and chains; and, as an admin, the updates after the requester's roster and the rekey
    /// into the epoch after the requester's. Into the mailbox the request came from; each item at
    /// most once a minute there (`answered`), since one answer serves everyone who reads it.
    private mutating func answer(_ request: GroupResendRequest, epoch number: UInt32, now: UnixTime, rng: inout some RandomSource,
                                 answered: inout GroupAnswerLog, into output: inout Output) {
        guard isMember, let target = [epoch, previousEpoch].compactMap({ $0 }).first(where: { $0.number == number }) else { return }
        // Posts and chains only for requests read in the current epoch's mailbox (one who left may
        // still hold the previous epoch: it gets updates and rekeys, which tell it nothing new).
        let current = number == epoch.number
        var resent = 0
        for range in request.posts where current && range.member == me {
            let last = range.through - range.from < UInt64(Self.maxResentPerRequest) ? range.through
                : range.from + UInt64(Self.maxResentPerRequest) - 1
            for sequence in range.from...last {
                guard resent < Self.maxResentPerRequest, let kept = sentPosts[sequence],
                      let postEpoch = [epoch, previousEpoch].compactMap({ $0 }).first(where: { $0.number == kept.epoch }) else { continue }
                resent += 1
                guard answered.allows(.post(sequence: sequence), inMailboxOf: postEpoch.number, now: now) else { continue }
                // With its chain (once a minute): one who missed the post often missed the chain
                // too, and asking for it would take another round — by when, under churn, the
                // epoch may be gone from this member.
                if let announcement = announcements[kept.epoch], announcement.distribution.chainID == kept.message.chainID,
                   answered.allows(.chain(epoch: kept.epoch, chainID: kept.message.chainID), inMailboxOf: postEpoch.number, now: now) {
                    try? deposit(.chain(announcement), in: postEpoch, now: now, rng: &rng, into: &output)
                }
                try? deposit(.post(kept.message), in: postEpoch, now: now, rng: &rng, into: &output)
            }
        }
        for wanted in request.chains where current && ownChains.contains(ChainKey(epoch: wanted.epoch, chainID: wanted.chainID)) {
            guard let announcement = announcements[wanted.epoch],
                  let chainEpoch = [epoch, previousEpoch].compactMap({ $0 }).first(where: { $0.number == wanted.epoch }),
                  answered.allows(.chain(epoch: wanted.epoch, chainID: wanted.chainID), inMailboxOf: chainEpoch.number, now: now)
            else { continue }
            try? deposit(.chain(announcement), in: chainEpoch, now: now, rng: &rng, into: &output)
        }
        guard roster.members[me] == .admin else { return }
        for update in ledger.updates(after: request.rosterSerial)
        where answered.allows(.update(serial: update.serial), inMailboxOf: target.number, now: now) {
            try? deposit(.update(update), in: target, now: now, rng: &rng, into: &output)
        }
        if request.wantsRekey || request.epoch < epoch.number, let rekey = rekeys[request.epoch &+ 1],
           answered.allows(.rekey(into: request.epoch &+ 1), inMailboxOf: target.number, now: now) {
            try? deposit(.rekey(rekey), in: target, now: now, rng: &rng, into: &output)
        }
        if request.wantsSnapshot, let asked = ledger.rosters.last(where: { $0.serial == request.rosterSerial }),
           answered.allows(.snapshot(serial: asked.serial), inMailboxOf: target.number, now: now) {
            try? deposit(.snapshot(asked.snapshot), in: target, now: now, rng: &rng, into: &output)
        }
    }

    /// Asks the group for what this member misses — posts it knows exist (§7.8 gaps), chains of
    /// posts it holds, updates a held one needs, the rekey after a membership change — when it
    /// was missing at the previous call too (the rest may be in flight). `force` asks anyway
    /// with this member's roster serial and epoch, so that admins send updates and a rekey it
    /// never heard of (for a member back from offline; it costs one deposit). The caller calls it
    /// from time to time (every 30 s, say).
    public mutating func requestMissing(force: Bool = false, now: UnixTime, rng: inout some RandomSource) -> Output {
        var output = Output()
        guard isMember else { return output }
        beacon(now: now, rng: &rng, into: &output)
        fallBackToOwnRekey(now: now, rng: &rng, into: &output)
        let ranges = timeline.gaps.map {
            GroupResendRequest.Range(member: $0.member, from: $0.from,
                                     through: $0.through - $0.from < UInt64(Self.maxResentPerRequest) ? $0.through
                                         : $0.from + UInt64(Self.maxResentPerRequest) - 1)
        }
        let chains = Set(heldPosts.map { GroupResendRequest.Chain(epoch: $0.epoch, chainID: $0.message.chainID) })
        let wants = GroupResendRequest(epoch: epoch.number, rosterSerial: heldUpdates.isEmpty && !force ? .max : roster.serial,
                                       wantsRekey: awaitingRekey, posts: ranges, chains: chains.sorted { ($0.epoch, $0.chainID) < ($1.epoch, $1.chainID) })
        defer { lastWants = wants }
        let previous = lastWants
        let posts = wants.posts.filter { range in previous?.posts.contains { $0.member == range.member && $0.from <= range.from } == true }
        let stillChains = wants.chains.filter { previous?.chains.contains($0) == true }
        let updates = wants.rosterSerial != .max && (force || previous?.rosterSerial == wants.rosterSerial)
        let rekey = wants.wantsRekey && (force || previous?.wantsRekey == true)
        guard force || !posts.isEmpty || !stillChains.isEmpty || updates || rekey else { return output }
        let request = GroupResendRequest(epoch: epoch.number, rosterSerial: updates ? roster.serial : .max, wantsRekey: rekey,
                                         posts: posts, chains: stillChains)
        try? deposit(.resend(request), in: epoch, now: now, rng: &rng, into: &output)
        return output
    }

    /// The lowest-key admin posts its chain in the current mailbox every ``beaconInterval`` (the
    /// first time it is asked, and each time after that interval): members who read nothing from
    /// an admin in their current epoch for a while ask an admin, pairwise, where the group is.
    private mutating func beacon(now: UnixTime, rng: inout some RandomSource, into output: inout Output) {
        guard roster.members[me] == .admin, !awaitingRekeyAfterLoss, catchUpSerial == nil,
              roster.admins.min(by: { $0.bytes.lexicographicallyPrecedes($1.bytes) }) == me else { return }
        guard let last = lastBeacon, now >= last else {
            lastBeacon = now // the first call (or the clock stepped back): the next is due an interval on
            return
        }
        guard now.duration(since: last) >= Self.beaconInterval else { return }
        lastBeacon = now
        if let announcement = announcements[epoch.number] {
            try? deposit(.chain(announcement), in: epoch, now: now, rng: &rng, into: &output)
        } else {
            announceChain(now: now, rng: &rng, into: &output)
        }
    }

    private mutating func take(_ message: SenderKeyMessage, epoch number: UInt32, into output: inout Output) {
        // This member's own posts come back from the mailbox: shown when sent.
        if ownChains.contains(ChainKey(epoch: number, chainID: message.chainID)) { return }
        if retiredChains.contains(ChainKey(epoch: number, chainID: message.chainID)) {
            output.dropped[.postRefused, default: 0] += 1
            return
        }
        guard let (member, receiver) = receivers[ChainKey(epoch: number, chainID: message.chainID)] else {
            hold(&heldPosts, (number, message), into: &output)
            return
        }
        var reading = receiver
        let plaintext: [UInt8]
        do { plaintext = try reading.decrypt(message) } catch {
            if error != .duplicate { output.dropped[.postRefused, default: 0] += 1 }
            return // a repeat of a post read already is no news
        }
        guard let post = try? GroupPost.decode(plaintext), roster.members[member] != nil else {
            output.dropped[.postRefused, default: 0] += 1
            return
        }
        receivers[ChainKey(epoch: number, chainID: message.chainID)]?.receiver = reading
        if number == epoch.number, roster.members[member] == .admin { output.heardAdmin = true }
        // References to anyone not in the roster would make streams (and gaps) for keys that post nothing.
        let references = post.references.filter { roster.members[$0.member] != nil }
        let kept = references.count == post.references.count ? post
            : GroupPost(rosterSerial: post.rosterSerial, sequence: post.sequence, lamport: post.lamport, id: post.id,
                        timestampMs: post.timestampMs, kind: post.kind, references: references, body: post.body)
        if case let .new(position) = timeline.accept(kept, from: member) { output.shown.append(Shown(position: position, post: post)) }
    }

    private mutating func take(_ chain: GroupChain, into output: inout Output) {
        if chain.member == me { return } // this member's own, back from the mailbox
        let key = ChainKey(epoch: chain.epoch, chainID: chain.distribution.chainID)
        // A repeat of a chain held (sent again on request, or another relay's copy) changes
        // nothing whatever it says: no signatures checked (two Ed25519 verifications a chain).
        if receivers[key]?.member == chain.member {
            if chain.epoch == epoch.number, roster.members[chain.member] == .admin { output.heardAdmin = true }
            return
        }
        let known = [epoch.number] + (previousEpoch.map { [$0.number] } ?? [])
        guard known.contains(chain.epoch), roster.members[chain.member] != nil,
              chain.distribution.groupID == roster.groupID.rawValue, chain.signatureIsValid else {
            output.dropped[.chainRefused, default: 0] += 1
            return
        }
        guard receivers[key] == nil else { return }
        // One chain per member and epoch: more would each hold skipped keys.
        guard !receivers.chains(of: chain.member).contains(where: { $0.epoch == chain.epoch }) else {
            output.dropped[.chainRefused, default: 0] += 1
            return
        }
        receivers[key] = (chain.member, SenderKeyReceiver(chain.distribution))
        if chain.epoch == epoch.number, roster.members[chain.member] == .admin { output.heardAdmin = true }
        // A reader that held the epoch before is owed the member's posts from `since` (its chain
        // then) on: those it lacks are gaps, even when it never had that chain (a post lost with
        // it just before the epoch changed); else they are from before this reader's start.
        if chain.epoch > 0, ownChains.contains(where: { $0.epoch == chain.epoch - 1 }) {
            if timeline.streams[chain.member] == nil { timeline.begin(chain.member, after: chain.since - 1) }
            timeline.expect(chain.member, through: chain.firstSequence - 1)
        } else {
            timeline.begin(chain.member, after: max(chain.firstSequence, 1) - 1)
        }
        let waiting = heldPosts.filter { $0.epoch == chain.epoch && $0.message.chainID == chain.distribution.chainID }
        heldPosts.removeAll { $0.epoch == chain.epoch && $0.message.chainID == chain.distribution.chainID }
        for held in waiting { take(held.message, epoch: held.epoch, into: &output) }
    }

    private mutating func take(_ update: GroupUpdate, now: UnixTime, rng: inout some RandomSource, into output: inout Output) {
        let before = roster
        switch ledger.receive(update) {
        case .applied:
            output.rosterChanged = true
            output.heardAdmin = true
            let left = Set(before.members.keys).subtracting(roster.members.keys)
            // After a catch-up, the updates up to the serial its epoch was made for made no epoch.
            let covered = catchUpSerial.map { roster.serial <= $0 } ?? false
            if let target = catchUpSerial, roster.serial >= target {
                catchUpSerial = nil
                epochMembers = Set(roster.members.keys)
            }
            if !covered, !left.isEmpty || before.members.count != roster.members.count { awaitingRekey = isMember }
            if !covered, !left.isEmpty { awaitingRekeyAfterLoss = isMember }
            forget(left)
            // A member that left on its own: the admin whose key sorts lowest rekeys, once it has
            // read what came with the departure (another admin's rekey may be there already).
            if !covered, left == [update.author], isMember, roster.admins.min(by: { $0.bytes.lexicographicallyPrecedes($1.bytes) }) == me {
                owesRekey = true
            }
            let waiting = heldUpdates
            heldUpdates = []
            for held in waiting { take(held, now: now, rng: &rng, into: &output) }
            let rekeys = heldRekeys
            heldRekeys = []
            for held in rekeys { take(held, now: now, rng: &rng, into: &output) }
        case .gap:
            guard update.signatureIsValid else { return output.dropped[.updateRefused, default: 0] += 1 }
            hold(&heldUpdates, update, into: &output)
        case .duplicate, .superseded:
            break
        case .stale, .refused:
            output.dropped[.updateRefused, default: 0] += 1
        }
    }

    private mutating func take(_ rekey: GroupRekey, now: UnixTime, rng: inout some RandomSource, into output: inout Output) {
        if rekey.epoch == epoch.number, rekeys[epoch.number] != rekey {
            return takeCompeting(rekey, now: now, rng: &rng, into: &output)
        }
        guard epoch.number < .max - 1, rekey.epoch == epoch.number + 1 else {
            if rekey.epoch > epoch.number { output.dropped[.rekeyRefused, default: 0] += 1 }
            return // an epoch this member holds or passed
        }
        guard rekey.signatureIsValid else { return output.dropped[.rekeyRefused, default: 0] += 1 }
        guard rekey.rosterSerial <= roster.serial else {
            hold(&heldRekeys, rekey, into: &output)
            return
        }
        // Opened against the roster it names (this member may have applied later updates since),
        // as long as this member is still in the current one.
        guard isMember, let named = ledger.rosters.last(where: { $0.serial == rekey.rosterSerial && $0.hash == rekey.rosterHash }),
              let next = try? rekey.open(as: me, agreement: identity.agreement, roster: named, previous: epoch) else {
            output.dropped[.rekeyRefused, default: 0] += 1
            return
        }
        rekeys[next.number] = rekey
        enter(next, madeFor: Set(named.members.keys), now: now, rng: &rng, into: &output)
        output.heardAdmin = true
    }

    // MARK: Rekeys after a loss, and forks

    /// What this member owes once it has read a batch of bodies (the caller calls it after each
    /// fetch it read): the rekey after a member left, when it is the admin to make it and no
    /// rekey into the next epoch was among what it read — an admin back from away finds there the
    /// one another admin made meanwhile (§7.10, *Leave*), and makes no second.
    public mutating func finishReading(now: UnixTime, rng: inout some RandomSource) -> Output {
        var output = Output()
        if owesRekey, awaitingRekeyAfterLoss { rekeyAfterLoss(now: now, rng: &rng, into: &output) }
        owesRekey = false
        return output
    }

    /// An admin awaiting the rekey after a loss makes it itself when it owes it, or when the
    /// admin that should have is away: the admin ranked k-th by key (from 0) after
    /// (k + 1) × ``rekeyFallback`` of waiting. A second rekey made meanwhile is a fork, which
    /// ``takeCompeting(_:now:rng:into:)`` resolves.
    private mutating func fallBackToOwnRekey(now: UnixTime, rng: inout some RandomSource, into output: inout Output) {
        guard awaitingRekeyAfterLoss, roster.members[me] == .admin, catchUpSerial == nil else { return }
        if lossNoticed.map({ now < $0 }) ?? true { lossNoticed = now } // first seen (or the clock stepped back)
        let since = lossNoticed ?? now
        let rank = roster.admins.sorted { $0.bytes.lexicographicallyPrecedes($1.bytes) }.firstIndex(of: me) ?? 0
        if owesRekey || now.duration(since: since) >= Self.rekeyFallback * (rank + 1) { rekeyAfterLoss(now: now, rng: &rng, into: &output) }
    }

    /// This admin rekeys (mode 1, to its roster) and moves to the new epoch.
    private mutating func rekeyAfterLoss(now: UnixTime, rng: inout some RandomSource, into output: inout Output) {
        guard isMember, roster.members[me] == .admin, epoch.number < .max - 1 else { return }
        let next = GroupEpoch(number: epoch.number + 1, using: &rng)
        let rekey = GroupRekey.make(next, for: roster, previous: nil, author: identity.signing, rng: &rng)
        rekeys[next.number] = rekey
        try? deposit(.rekey(rekey), in: epoch, now: now, rng: &rng, into: &output)
        enter(next, now: now, rng: &rng, into: &output)
    }

    /// Whether rekey `a` wins over `b`, two into the same epoch (§7.9, *Forks*): one naming a
    /// roster this member holds over one that does not (a roster fork dropped it); then the one
    /// naming the later roster (an epoch for an earlier one may hold a member removed since —
    /// and a removed admin can still sign for the rosters it was an admin of); then the lower
    /// author key; of one author, the lower hash.
    private func wins(_ a: GroupRekey, over b: GroupRekey) -> Bool {
        let (aHeld, bHeld) = (holdsRoster(named: a), holdsRoster(named: b))
        if aHeld != bHeld { return aHeld }
        if a.rosterSerial != b.rosterSerial { return a.rosterSerial > b.rosterSerial }
        if a.author != b.author { return a.author.bytes.lexicographicallyPrecedes(b.author.bytes) }
        return SHA256.hash(a.encoded).bytes.lexicographicallyPrecedes(SHA256.hash(b.encoded).bytes)
    }

    private func holdsRoster(named rekey: GroupRekey) -> Bool {
        ledger.rosters.contains { $0.serial == rekey.rosterSerial && $0.hash == rekey.rosterHash }
    }

    /// A rekey into the epoch this member holds (two admins rekeyed at once, or one came back
    /// while another stood in): when this member entered that epoch by a rekey this one wins
    /// over, it moves to this one's epoch — the others who read both do too — and posts again
    /// there, under a fresh chain, what it posted in the losing one (the same posts: nobody shows
    /// them twice). A losing rekey is ignored like a repeat.
    private mutating func takeCompeting(_ rekey: GroupRekey, now: UnixTime, rng: inout some RandomSource, into output: inout Output) {
        guard isMember, catchUpSerial == nil, let held = rekeys[epoch.number], let previous = previousEpoch,
              previous.number == epoch.number &- 1 else { return } // joined or caught up into it: no rekey to weigh
        guard rekey.signatureIsValid else { return output.dropped[.rekeyRefused, default: 0] += 1 }
        guard rekey.rosterSerial <= roster.serial else { return hold(&heldRekeys, rekey, into: &output) }
        guard wins(rekey, over: held) else { return }
        guard let named = ledger.rosters.last(where: { $0.serial == rekey.rosterSerial && $0.hash == rekey.rosterHash }),
              let next = try? rekey.open(as: me, agreement: identity.agreement, roster: named, previous: previous) else {
            output.dropped[.rekeyRefused, default: 0] += 1
            return
        }
        let number = epoch.number
        // This member's posts in the losing epoch, read back with its own chain there.
        var reposts: [(sequence: UInt64, post: [UInt8])] = []
        if let announcement = announcements[number] {
            var reader = SenderKeyReceiver(announcement.distribution)
            for (sequence, sent) in sentPosts.sorted(by: { $0.key < $1.key }) where sent.epoch == number {
                if let post = try? reader.decrypt(sent.message) { reposts.append((sequence, post)) }
            }
        }
        epoch = next
        rekeys[number] = rekey
        setEpochMembers(Set(named.members.keys))
        receivers.removeAll { key, _ in key.epoch == number }
        heldPosts.removeAll { $0.epoch == number }
        retiredChains = retiredChains.filter { $0.epoch != number }
        ownChains = ownChains.filter { $0.epoch != number }
        announcements[number] = nil
        lastWants = nil
        startChain(using: &rng)
        output.heardAdmin = true
        if let first = reposts.first?.sequence {
            announceChain(firstSequence: first, now: now, rng: &rng, into: &output)
            for (sequence, post) in reposts {
                guard let sealed = try? chain.encrypt(post) else { continue }
                sentPosts[sequence] = (number, sealed)
                try? deposit(.post(sealed), in: epoch, now: now, rng: &rng, into: &output)
            }
        } else if sentPosts[sequence]?.epoch == previous.number {
            announceChain(now: now, rng: &rng, into: &output)
        }
    }

    // MARK: Catching up

    /// What an admin hands a member that asked, pairwise, where the group is (§7.10, catching
    /// up): its current and previous epoch and its roster's serial and hash. Nil when this member
    /// is not an admin, or is catching up itself.
    public var catchUpTicket: GroupCatchUp? {
        guard roster.members[me] == .admin, catchUpSerial == nil else { return nil }
        return GroupCatchUp(groupKey: roster.groupKey, epoch: epoch, previousEpoch: previousEpoch, rosterSerial: roster.serial,
                            rosterHash: roster.hash, awaitingRekey: awaitingRekey, awaitingRekeyAfterLoss: awaitingRekeyAfterLoss)
    }

    /// A new ticket for `member`, who asked pairwise because the ticket it holds never brought
    /// its snapshot (§7.10, *Joining late*: once the group moved two epochs on, nobody reads that
    /// epoch's mailbox to answer a snapshot request there): for this admin's current epoch and
    /// roster, with the roster's snapshot deposited again in the current epoch's mailbox — at
    /// most once a minute per roster, as for a request (`answered`). Nil when this member is not
    /// an admin or is catching up, or `member` is not in its roster.
    public mutating func reissueTicket(for member: SigningPublicKey, now: UnixTime, rng: inout some RandomSource,
                                       answered: inout GroupAnswerLog) -> Output? {
        guard catchUpTicket != nil, member != me, roster.members[member] != nil else { return nil }
        var output = Output()
        output.invitations = [Invitation(member: member, bytes: GroupInvitation(roster: roster, epoch: epoch).encoded)]
        if answered.allows(.snapshot(serial: roster.serial), inMailboxOf: epoch.number, now: now) {
            try? deposit(.snapshot(roster.snapshot), in: epoch, now: now, rng: &rng, into: &output)
        }
        return output
    }

    /// Takes `ticket` from `sender` (known from the pairwise session it came in): when the sender
    /// is an admin in this member's roster and the ticket's epoch is later than this member's,
    /// this member moves to it — its previous epoch the ticket's, what it held of older epochs
    /// dropped (posts made there are lost to it), its timeline and sequence kept (nothing shows
    /// twice) — and asks in the new mailbox, forced, for the updates after its roster. Nil when
    /// the ticket is refused.
    public mutating func catchUp(_ ticket: GroupCatchUp, from sender: SigningPublicKey, now: UnixTime,
                                 rng: inout some RandomSource) -> Output? {
        guard isMember, sender != me, roster.members[sender] == .admin, ticket.groupKey == roster.groupKey,
              ticket.epoch.number > epoch.number, ticket.epoch.number < .max - 1,
              ticket.rosterSerial >= roster.serial, ticket.rosterSerial < .max - 1 else { return nil }
        var output = Output()
        let old = epoch.number
        let postedInOld = sentPosts[sequence]?.epoch == old
        // One epoch behind, the previous epoch is this member's own: keep its state for it.
        let keepsOld = ticket.previousEpoch?.number == old
        previousEpoch = keepsOld ? epoch : ticket.previousEpoch
        epoch = ticket.epoch
        awaitingRekey = ticket.awaitingRekey
        awaitingRekeyAfterLoss = ticket.awaitingRekeyAfterLoss
        catchUpSerial = ticket.rosterSerial > roster.serial ? ticket.rosterSerial : nil
        if catchUpSerial == nil { epochMembers = Set(roster.members.keys) }
        let oldest = previousEpoch?.number ?? epoch.number
        rekeys = rekeys.filter { $0.key >= oldest }
        announcements = announcements.filter { $0.key >= oldest }
        receivers.removeAll { key, _ in key.epoch < oldest }
        retiredChains = retiredChains.filter { $0.epoch >= oldest }
        heldPosts.removeAll { $0.epoch < oldest }
        heldRekeys.removeAll { $0.epoch <= epoch.number }
        lastWants = nil
        ownChains = ownChains.filter { $0.epoch >= oldest }
        startChain(using: &rng)
        // Readers of the old epoch learn of this member's posts there from its chain (as on a
        // rekey); posts in an epoch nobody reads now are lost to them, and nobody is told of them.
        if keepsOld, postedInOld { announceChain(now: now, rng: &rng, into: &output) }
        output.merge(requestMissing(force: true, now: now, rng: &rng))
        output.rosterChanged = true
        output.heardAdmin = true
        return output
    }

    // MARK: Epochs and chains

    /// Moves to `next`, made for the members `madeFor` (the current roster's when nil): a fresh
    /// sender chain; the old epoch stays readable (posts in flight) until the one after. The
    /// chain is announced in the new mailbox at once when this member posted in the old epoch
    /// (readers learn from it that those posts exist, and ask for any they lack), else with its
    /// first post: a group of 1,000 whose members mostly read would otherwise have every member
    /// read 999 chains at every membership change.
    private mutating func enter(_ next: GroupEpoch, madeFor: Set<SigningPublicKey>? = nil, now: UnixTime, rng: inout some RandomSource,
                                into output: inout Output) {
        let old = epoch.number
        let postedInOld = sentPosts[sequence]?.epoch == old
        previousEpoch = epoch
        epoch = next
        owesRekey = false
        lossNoticed = nil
        setEpochMembers(madeFor ?? Set(roster.members.keys))
        rekeys = rekeys.filter { $0.key >= old }
        announcements = announcements.filter { $0.key >= old }
        receivers.removeAll { key, _ in key.epoch < old }
        // A post held for a chain of an epoch older than the new previous one can never be read
        // (no such chain is taken any more): asking for it again would only cost requests.
        heldPosts.removeAll { $0.epoch < old }
        retiredChains = retiredChains.filter { $0.epoch >= old }
        ownChains = ownChains.filter { $0.epoch >= epoch.number &- 1 }
        startChain(using: &rng)
        if postedInOld { announceChain(now: now, rng: &rng, into: &output) }
    }

    /// A fresh sender chain of this member's for the current epoch.
    private mutating func startChain(using rng: inout some RandomSource) {
        chain = SenderKeyChain(groupID: roster.groupID.rawValue, using: &rng)
        ownChains.insert(ChainKey(epoch: epoch.number, chainID: chain.chainID))
    }

    /// The current epoch was made for `members`. When those are not the current roster's (a rekey
    /// for an earlier roster: made before a change this member applied since), that change still
    /// awaits its rekey — and after a loss nothing is posted, since one lost holds this epoch.
    private mutating func setEpochMembers(_ members: Set<SigningPublicKey>) {
        epochMembers = members
        let current = Set(roster.members.keys)
        awaitingRekey = isMember && members != current
        awaitingRekeyAfterLoss = isMember && !members.isSubset(of: current)
    }

    /// Posts this member's chain for the current epoch (kind 4) in its mailbox. `firstSequence`:
    /// the sequence of the chain's first post (the next post's, unless posts of a losing epoch
    /// are posted again under it).
    private mutating func announceChain(firstSequence: UInt64? = nil, now: UnixTime, rng: inout some RandomSource,
                                        into output: inout Output) {
        let first = firstSequence ?? sequence + 1
        // Readers that held the previous epoch are owed this member's posts from its chain then on
        // (when it announced none there, it posted nothing there: from this chain's first post).
        let since = previousEpoch.flatMap { announcements[$0.number] }?.firstSequence ?? first
        let announcement = GroupChain.signed(epoch: epoch.number, firstSequence: first, since: since, chain: chain, by: identity.signing)
        announcements[epoch.number] = announcement
        try? deposit(.chain(announcement), in: epoch, now: now, rng: &rng, into: &output)
    }

    private mutating func forget(_ members: Set<SigningPublicKey>) {
        guard !members.isEmpty else { return }
        for member in members { timeline.forget(member) }
        retiredChains.formUnion(receivers.removeAll(of: members))
        if retiredChains.count > Self.maxRetiredChains {
            let oldest = retiredChains.sorted { ($0.epoch, $0.chainID) < ($1.epoch, $1.chainID) }
            retiredChains.subtract(oldest.prefix(retiredChains.count - Self.maxRetiredChains))
        }
    }

    private func deposit(_ message: GroupChannelMessage, in epoch: GroupEpoch, now: UnixTime, rng: inout some RandomSource,
                         into output: inout Output) throws {
        output.deposits += try Self.deposits(of: message, in: epoch, rng: &rng)
    }

    /// `message` cut into sealed packets to `epoch`'s sealing key, for its mailbox. The transfer
    /// ID is the message's own (``SealedPacket/transferID(of:)``): every copy deposited — an
    /// answer to a request, a retry — is the same transfer, so a reader completes a rekey or a
    /// snapshot of many packets from the packets of any copies, each lost on its own.
    public static func deposits(of message: GroupChannelMessage, in epoch: GroupEpoch, rng: inout some RandomSource) throws -> [Deposit] {
        let sealing = epoch.sealingKey.publicKey
        let encoded = message.encoded
        return try SealedPacket.fragments(of: encoded, transferID: SealedPacket.transferID(of: encoded)).map { fragment in
            Deposit(mailbox: epoch.mailboxID, body: try SealedPacket.seal(fragment, to: sealing, rng: &rng))
        }
    }

    private func hold<T>(_ list: inout [T], _ item: T, into output: inout Output) {
        if list.count >= Self.maxHeld {
            list.removeFirst()
            output.dropped[.heldTooMany, default: 0] += 1
        }
        list.append(item)
    }
}
