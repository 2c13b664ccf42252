public import SecIRCCore
public import SecIRCCrypto

/// Groups (issue 13, docs/PROTOCOL.md §7.6–7.10 and §8, Groups): each group's ``GroupSession``
/// is kept in the store in parts (``GroupSession/stateParts``) and every change — a post, a
/// roster change, a body read from the group mailbox — is one transaction: the parts it changed,
/// the posts to show and the packets to deposit (the group outbox) commit together. Invitations
/// travel inside the pairwise sessions (envelope kind 6, ``GroupControl``) through the ordinary
/// outbox.
extension Messenger {
    /// Deposits of one packet to each of its group mailbox's relays, at most (members ask again
    /// for what they miss, §7.10): w, 2w, 4w, 8w, 16w after the first, w the engine's wait for a
    /// deposit to be read back (``ClientEngine``'s `groupDepositFirstRetryMs`; 1 s by default).
    public static let groupDepositAttempts = 6
    public static let groupDepositRetryMs: Int64 = 1_000
    /// An invitation waits this long for its snapshot before it asks for it, then asks this often.
    public static let snapshotAskAfter = Duration.seconds(60)
    public static let snapshotAskInterval = Duration.seconds(300)
    /// Invitations waiting for the user, at most (more are refused: `group_invitation_limit`).
    public static let maximumGroupInvitations = 64
    /// Groups this client may be in (or have left and still list), at most.
    public static let maximumGroups = 256

    /// A group as the API shows it.
    public struct GroupView: Sendable {
        public var record: GroupRecord
        public var roster: GroupRoster
        public var epoch: UInt32
        /// Whether a post would be taken now (a member, not waiting for the rekey after a departure).
        public var canPost: Bool
        /// What the change that returned this view did (roster changes), for the API's event stream.
        public var events: [ClientEvent] = []
    }

    /// What a change to a group did: the state it left, what to show and tell.
    public struct GroupChange: Sendable {
        public var events: [ClientEvent] = []
        /// Posts made by the change (this member's own, in order).
        public var posted: [GroupMessageRecord] = []
        /// Bodies dropped while reading, by reason (``GroupDropReason``).
        public var dropped: [GroupDropReason: Int] = [:]
        /// Deposits queued in the group outbox.
        public var deposits = 0
        /// Pairwise messages queued (invitations).
        public var invitations = 0
        /// An admin was heard in the group's current epoch (``GroupSession/Output/heardAdmin``).
        public var heardAdmin = false
    }

    // MARK: Reading

    public func groups() throws -> [GroupView] {
        try store.read { tx in try tx.groups().map { try view($0, tx) } }
    }

    public func group(id: ID) throws -> GroupView {
        try store.read { tx in
            guard let record = try tx.group(id: id) else { throw MessengerError.notFound("no group \(id.hex)") }
            return try view(record, tx)
        }
    }

    /// What this client holds of `member`'s posts in `group` (``GroupSession/readingState(of:)``),
    /// nil when `member` is in none of its rosters' keys. For diagnosis: no secret in it.
    public func groupReadingState(_ group: ID, of member: ID) throws -> String? {
        try store.read { tx in
            guard let record = try tx.group(id: group) else { throw MessengerError.notFound("no group \(group.hex)") }
            let session = try session(of: record, tx)
            guard let key = session.ledger.rosters.lazy.flatMap(\.members.keys).first(where: { $0.id == member }) else { return nil }
            return session.readingState(of: key)
        }
    }

    public func groupMessages(in group: ID, before: Int64?, limit: Int) throws -> GroupMessagePage {
        try store.read { tx in
            guard try tx.group(id: group) != nil else { throw MessengerError.notFound("no group \(group.hex)") }
            return try tx.groupMessages(in: group, before: before, limit: limit)
        }
    }

    /// The invitations waiting for the user: those whose snapshot came (a ticket alone waits for
    /// it, unseen).
    public func groupInvitations() throws -> [GroupInvitationRecord] {
        try store.read { try $0.groupInvitations() }.filter { (try? GroupInvitation.decode($0.invitation))?.roster != nil }
    }

    private func view(_ record: GroupRecord, _ tx: any MessengerReadTransaction) throws -> GroupView {
        let session = try session(of: record, tx)
        return GroupView(record: record, roster: session.roster, epoch: session.epoch.number, canPost: session.canPost)
    }

    /// The group's session: the one kept in memory while it is the stored one (its tag is the
    /// record's), else read from the stored parts and kept.
    func session(of record: GroupRecord, _ tx: any MessengerReadTransaction) throws(MessengerError) -> GroupSession {
        if let cached = groupSessions.withLock({ $0[record.id] }), cached.tag == record.stateTag { return cached.session }
        let parts: [[UInt8]: [UInt8]]
        do { parts = try tx.groupState(record.id) } catch {
            throw error as? MessengerError ?? .storage("group \(record.id.hex): its state does not read: \(error)")
        }
        var session: GroupSession
        do { session = try GroupSession(parts: parts, identity: identity.keys) } catch {
            throw .storage("group \(record.id.hex): its stored state does not decode: \(error)")
        }
        // A version-1 state stored whole is not kept, so that the next save writes every part.
        if parts[[]] == nil {
            session.markStored(record.stateTag)
            groupSessions.withLock { $0[record.id] = (record.stateTag, session) }
        }
        return session
    }

    // MARK: Changing

    /// Makes a group named `name` with this client as its admin and the accepted contacts
    /// `members` as members: each is sent an invitation through its pairwise session.
    public func createGroup(name: String, members: [ID], now: UnixTime, rng: inout some RandomSource) throws -> GroupView {
        guard GroupRoster.isValidName(name) else {
            throw MessengerError.invalidRequest("a group name is 1 to \(GroupRoster.maxNameBytes) bytes of UTF-8 with no control character")
        }
        guard Set(members).count == members.count, members.count < Int(GroupRoster.maxMembers) else {
            throw MessengerError.invalidRequest("members must be distinct, at most \(GroupRoster.maxMembers - 1)")
        }
        let record = try store.write { tx in
            guard try tx.groups().count < Self.maximumGroups else {
                throw MessengerError.conflict("this client is in \(Self.maximumGroups) groups already")
            }
            let others = try members.map { try groupIdentity(of: $0, tx) }
            let groupKey = SigningPrivateKey(using: &rng)
            let (session, output): (GroupSession, GroupSession.Output)
            do {
                (session, output) = try GroupSession.create(groupKey: groupKey, name: name, identity: identity.keys, others: others,
                                                            now: now, rng: &rng)
            } catch {
                throw MessengerError.invalidRequest("cannot make the group: \(error)")
            }
            var change = GroupChange()
            let record = GroupRecord(id: session.roster.groupID, name: name, joinedMs: now.milliseconds, isMember: true)
            return (try save(session, record: record, output: output, was: nil, tx, now: now, rng: &rng, into: &change), change.events)
        }
        var view = try group(id: record.0.id)
        view.events = record.1
        return view
    }

    /// Posts `text` to the group.
    public func postToGroup(_ group: ID, text: String, now: UnixTime, rng: inout some RandomSource) throws -> GroupMessageRecord {
        let body = Array(text.utf8)
        guard !body.isEmpty, body.count <= Self.maximumTextBytes else {
            throw MessengerError.invalidRequest("text must be 1 to \(Self.maximumTextBytes) bytes of UTF-8")
        }
        let change = try changeGroup(group, now: now, rng: &rng) { session, rng in
            guard session.isMember else { throw MessengerError.conflict("this client is not a member of the group") }
            guard session.canPost else {
                throw MessengerError.conflict("the group waits for its admin to rekey after a member left: try again shortly")
            }
            return try session.post(body, kind: .text, now: now, rng: &rng)
        }
        guard let posted = change.posted.first else { throw MessengerError.storage("a post was not recorded") }
        return posted
    }

    /// An admin adds the accepted contact `contact`, who gets an invitation.
    public func addToGroup(_ group: ID, contact: ID, now: UnixTime, rng: inout some RandomSource) throws -> GroupView {
        let change = try changeGroupInTransaction(group, now: now, rng: &rng) { session, tx, rng in
            try requireAdmin(session)
            let member = try groupIdentity(of: contact, tx)
            guard session.roster.members[member.signing] == nil else { throw MessengerError.conflict("already a member") }
            guard session.roster.members.count < Int(session.roster.limit) else {
                throw MessengerError.conflict("the group has its limit of \(session.roster.limit) members")
            }
            return try session.add(member, now: now, rng: &rng)
        }
        var view = try self.group(id: group)
        view.events = change.events
        return view
    }

    /// An admin removes `member` (its ID); the group is rekeyed so it reads nothing after.
    public func removeFromGroup(_ group: ID, member: ID, now: UnixTime, rng: inout some RandomSource) throws -> GroupView {
        let change = try changeGroup(group, now: now, rng: &rng) { session, rng in
            try requireAdmin(session)
            let key = try memberKey(member, in: session)
            guard key != session.me else { throw MessengerError.conflict("an admin does not remove itself: leave the group instead") }
            return try session.remove(key, now: now, rng: &rng)
        }
        var view = try self.group(id: group)
        view.events = change.events
        return view
    }

    /// An admin makes `member` an admin or a member.
    public func setGroupRole(_ group: ID, member: ID, admin: Bool, now: UnixTime, rng: inout some RandomSource) throws -> GroupView {
        let change = try changeGroup(group, now: now, rng: &rng) { session, rng in
            try requireAdmin(session)
            let key = try memberKey(member, in: session)
            let role: GroupRole = admin ? .admin : .member
            guard session.roster.members[key] != role else { return GroupSession.Output() }
            if !admin, session.roster.admins == [key] { throw MessengerError.conflict("a group keeps at least one admin") }
            return try session.change([.setRole(key, role)], now: now, rng: &rng)
        }
        var view = try self.group(id: group)
        view.events = change.events
        return view
    }

    /// An admin renames the group.
    public func renameGroup(_ group: ID, to name: String, now: UnixTime, rng: inout some RandomSource) throws -> GroupView {
        guard GroupRoster.isValidName(name) else {
            throw MessengerError.invalidRequest("a group name is 1 to \(GroupRoster.maxNameBytes) bytes of UTF-8 with no control character")
        }
        let change = try changeGroup(group, now: now, rng: &rng) { session, rng in
            try requireAdmin(session)
            guard session.roster.name != name else { return GroupSession.Output() }
            return try session.change([.rename(name)], now: now, rng: &rng)
        }
        var view = try self.group(id: group)
        view.events = change.events
        return view
    }

    /// Leaves the group (kept in the list, read-only, until deleted). The last admin must first
    /// make another member an admin.
    public func leaveGroup(_ group: ID, now: UnixTime, rng: inout some RandomSource) throws -> GroupView {
        let change = try changeGroup(group, now: now, rng: &rng) { session, rng in
            guard session.isMember else { throw MessengerError.conflict("this client is not a member of the group") }
            if session.roster.admins == [session.me], session.roster.members.count > 1 {
                throw MessengerError.conflict("the only admin cannot leave: make another member an admin first")
            }
            return try session.leave(now: now, rng: &rng)
        }
        var view = try self.group(id: group)
        view.events = change.events
        return view
    }

    /// Forgets a group this client is no longer in (or whose only member it is), with its posts.
    public func deleteGroup(_ group: ID) throws {
        try store.write { tx in
            guard let record = try tx.group(id: group) else { throw MessengerError.notFound("no group \(group.hex)") }
            // A group whose only member is this client is deleted at once (nobody to tell).
            guard try !record.isMember || session(of: record, tx).roster.members.count == 1 else {
                throw MessengerError.conflict("leave the group before deleting it")
            }
            _ = try tx.deleteGroup(group)
            groupSessions.withLock { _ = $0.removeValue(forKey: group) }
            groupAnswerLogs.withLock { _ = $0.removeValue(forKey: group) }
        }
        groupsChanged() // its mailboxes are not fetched any more
    }

    /// Joins the group of a waiting invitation.
    public func acceptGroupInvitation(_ group: ID, now: UnixTime, rng: inout some RandomSource) throws -> GroupView {
        let record = try store.write { tx in
            guard let waiting = try tx.groupInvitations().first(where: { $0.group == group }) else {
                throw MessengerError.notFound("no invitation to group \(group.hex)")
            }
            _ = try tx.deleteGroupInvitation(group)
            let existing = try tx.group(id: group)
            if existing == nil, try tx.groups().count >= Self.maximumGroups {
                throw MessengerError.conflict("this client is in \(Self.maximumGroups) groups already")
            }
            guard let invitation = try? GroupInvitation.decode(waiting.invitation), invitation.roster != nil else {
                throw MessengerError.notFound("the invitation to group \(group.hex) has not come whole yet")
            }
            guard var (session, output) = GroupSession.join(invitation, identity: identity.keys, now: now, rng: &rng) else {
                throw MessengerError.conflict("the invitation does not name this client")
            }
            // A first request asks the admins for what changed since the invitation was made.
            output.merge(session.requestMissing(force: true, now: now, rng: &rng))
            var change = GroupChange()
            let was = try existing.map { try self.session(of: $0, tx) }
            let record = GroupRecord(id: group, name: session.roster.name, joinedMs: existing?.joinedMs ?? now.milliseconds,
                                     isMember: true, stateTag: existing?.stateTag ?? 0)
            return (try save(session, record: record, output: output, was: was, tx, now: now, rng: &rng, into: &change), change.events)
        }
        var view = try self.group(id: record.0.id)
        view.events = record.1
        return view
    }

    /// Declines a waiting invitation (the inviter is not told).
    public func declineGroupInvitation(_ group: ID) throws {
        try store.write { tx in
            guard try tx.deleteGroupInvitation(group) else { throw MessengerError.notFound("no invitation to group \(group.hex)") }
        }
    }

    // MARK: The group channel

    /// The group mailboxes to fetch: each member group's current and previous epoch's keys, and
    /// the epoch mailbox of each invitation that waits for its snapshot (`waiting`).
    public func groupFetchKeys() throws -> [(group: ID, keys: [SigningPrivateKey], waiting: Bool)] {
        let (groups, invitations) = try store.read { tx in
            (try tx.groups().filter(\.isMember).map { record in (group: record.id, keys: try session(of: record, tx).fetchKeys) },
             try tx.groupInvitations())
        }
        var keys = groups.map { (group: $0.group, keys: $0.keys, waiting: false) }
        var waits: [ID: SnapshotWaitEntry] = [:]
        for record in invitations {
            guard let ticket = try? GroupInvitation.decode(record.invitation), ticket.roster == nil else { continue }
            waits[record.group] = groupSnapshotWaits.withLock { $0[record.group] }.flatMap {
                $0.wait.ticket.encoded == ticket.encoded ? $0 : nil
            } ?? SnapshotWaitEntry(wait: GroupSnapshotWait(ticket: ticket))
            keys.append((group: record.group, keys: [ticket.epoch.mailboxKey], waiting: true))
        }
        groupSnapshotWaits.withLock { $0 = waits }
        return keys
    }

    /// A body read from one of `group`'s mailboxes, in one transaction. `notStored` when the
    /// store failed (the caller reads it again later).
    public func receiveGroupBody(_ body: [UInt8], group: ID, now: UnixTime, rng: inout some RandomSource) -> (change: GroupChange, notStored: Bool) {
        receiveGroupBodies([body], group: group, now: now, rng: &rng)
    }

    /// Bodies read from one of `group`'s mailboxes in one fetch, in one transaction (one save of
    /// the group's state, whatever their number). `notStored` when the store failed.
    public func receiveGroupBodies(_ bodies: [[UInt8]], group: ID, now: UnixTime,
                                   rng: inout some RandomSource) -> (change: GroupChange, notStored: Bool) {
        do {
            let change = try withAnswerLog(of: group) { answered in
                try changeGroup(group, now: now, rng: &rng) { session, rng in
                    var output = GroupSession.Output()
                    for body in bodies { output.merge(session.receive(body, now: now, rng: &rng, answered: &answered)) }
                    output.merge(session.finishReading(now: now, rng: &rng))
                    return output
                }
            }
            if change.heardAdmin { heardAdmin(in: group, now: now) }
            return (change, false)
        } catch MessengerError.notFound {
            return (GroupChange(), false) // the group was deleted meanwhile: nothing to keep
        } catch {
            return (GroupChange(), true)
        }
    }

    /// Asks each group for what this member misses (§7.10, asking again); `force` once after a
    /// start. Called by the network loop every ``GroupSession`` resend interval.
    public func requestMissingGroupPosts(force: Bool, now: UnixTime, rng: inout some RandomSource) throws -> Int {
        var deposits = 0
        for record in try store.read({ tx in try tx.groups() }) where record.isMember {
            deposits += try changeGroup(record.id, now: now, rng: &rng) { session, rng in
                session.requestMissing(force: force, now: now, rng: &rng)
            }.deposits
        }
        return deposits
    }

    /// Deposits due by `now`, oldest first, at most `limit`.
    public func dueGroupDeposits(now: UnixTime, limit: Int = 64) throws -> [GroupDepositRecord] {
        try store.read { tx in try tx.groupDeposits(dueByMs: now.milliseconds, limit: limit) }
    }

    /// Every deposit waiting in the group outbox.
    public func groupDeposits() throws -> [GroupDepositRecord] { try store.read { tx in try tx.groupDeposits() } }

    /// Every deposit waiting in the group outbox, without its body.
    public func groupDepositKeys() throws -> [GroupDepositKey] { try store.read { tx in try tx.groupDepositKeys() } }

    /// The earliest due time of the group outbox.
    public func nextGroupDepositDue() throws -> UnixTime? {
        try groupDepositKeys().map(\.nextAttemptMs).min().map { UnixTime(nanoseconds: $0 * 1_000_000) }
    }

    /// An attempt of `deposit` was made: the next one after a doubling wait from `firstRetryMs`,
    /// or none after ``groupDepositAttempts`` (it is removed).
    public func groupDepositAttempted(_ deposit: GroupDepositRecord, now: UnixTime, firstRetryMs: Int64 = groupDepositRetryMs) throws {
        try store.write { tx in
            var record = deposit
            record.attempts += 1
            if record.attempts >= Self.groupDepositAttempts {
                try tx.deleteGroupDeposit(cursor: record.cursor)
            } else {
                record.nextAttemptMs = now.milliseconds + max(firstRetryMs, 1) << Int64(record.attempts - 1)
                try tx.updateGroupDeposit(record)
            }
        }
    }

    /// A body read back from `relay`'s copy of a group mailbox: a waiting deposit with that body
    /// reached it; once every one of `relays` holds it, it leaves the outbox.
    public func groupDepositSeen(_ body: [UInt8], at relay: ID, of relays: Set<ID>) throws {
        try store.write { tx in
            for var deposit in try tx.groupDeposits(withBody: body) {
                deposit.confirmed.insert(relay)
                if relays.isSubset(of: deposit.confirmed) {
                    try tx.deleteGroupDeposit(cursor: deposit.cursor)
                } else {
                    try tx.updateGroupDeposit(deposit)
                }
            }
        }
    }

    /// Runs `body` with `group`'s answer log; keeps what it noted when `body` returns (a
    /// transaction that threw deposited nothing).
    func withAnswerLog<T>(of group: ID, _ body: (inout GroupAnswerLog) throws -> T) rethrows -> T {
        var log = groupAnswerLogs.withLock { $0[group] } ?? GroupAnswerLog()
        let result = try body(&log)
        groupAnswerLogs.withLock { $0[group] = log }
        return result
    }

    // MARK: Inside transactions

    func changeGroup<R: RandomSource>(_ group: ID, now: UnixTime, rng: inout R,
                                              _ body: (inout GroupSession, inout R) throws -> GroupSession.Output) throws -> GroupChange {
        try changeGroupInTransaction(group, now: now, rng: &rng) { session, _, rng in try body(&session, &rng) }
    }

    /// Runs `body` on the group's session in one transaction and saves what it did.
    private func changeGroupInTransaction<R: RandomSource>(_ group: ID, now: UnixTime, rng: inout R,
                                              _ body: (inout GroupSession, any MessengerTransaction, inout R) throws -> GroupSession.Output)
        throws -> GroupChange {
        try store.write { tx in
            guard let record = try tx.group(id: group) else { throw MessengerError.notFound("no group \(group.hex)") }
            var session = try session(of: record, tx)
            let was = session
            let output: GroupSession.Output
            do { output = try body(&session, tx, &rng) } catch let error as GroupRosterError {
                throw MessengerError.conflict("the group refused the change: \(error)")
            }
            var change = GroupChange()
            _ = try save(session, record: record, output: output, was: was, tx, now: now, rng: &rng, into: &change)
            return change
        }
    }

    /// Saves `session` and what its call produced: posts shown, deposits queued, invitations
    /// sent pairwise, roster changes told.
    private func save(_ session: GroupSession, record: GroupRecord, output: GroupSession.Output, was: GroupSession?,
                      _ tx: any MessengerTransaction, now: UnixTime, rng: inout some RandomSource,
                      into change: inout GroupChange) throws -> GroupRecord {
        // The engine reads the mailboxes to fetch again when they may have changed.
        // (A fork of rekeys changes the epoch and not its number.)
        if was.map({ !$0.epoch.hasSameSecret(as: session.epoch) || $0.isMember != session.isMember }) ?? true { groupsChanged() }
        let before = was?.roster
        // Only the parts that changed since the stored state, when the session kept in memory is
        // that state (its tag is the record's); else every part.
        let stored = groupSessions.withLock { $0[record.id] }.flatMap { $0.tag == record.stateTag ? $0.session : nil }
        var record = record
        record.stateTag = rng.next() | 1
        record.name = session.roster.name
        record.isMember = session.isMember
        try tx.setGroup(record)
        try tx.changeGroupState(record.id, session.stateChange(from: stored))
        var saved = session
        saved.markStored(record.stateTag)
        groupSessions.withLock { $0[record.id] = (record.stateTag, saved) }
        for (reason, count) in output.dropped { change.dropped[reason, default: 0] += count }
        change.heardAdmin = change.heardAdmin || output.heardAdmin
        for deposit in output.deposits {
            _ = try tx.insertGroupDeposit(group: record.id, mailbox: deposit.mailbox, body: deposit.body, nextAttemptMs: now.milliseconds)
            change.deposits += 1
        }
        for invitation in output.invitations {
            let contact = invitation.member.id
            guard let known = try tx.contact(id: contact), !known.isRequest else { continue }
            _ = try tx.insertMessage(id: MessageID(using: &rng), contact: contact, direction: .outgoing, kind: .groupControl,
                                     timestampMs: now.milliseconds, body: GroupControl.invitation(invitation.bytes).encoded,
                                     state: .queued, nextAttemptMs: now.milliseconds)
            change.invitations += 1
        }
        for shown in output.shown {
            let post = shown.post
            let stored = try tx.insertGroupMessage(group: record.id, id: post.id, lamport: shown.position.lamport,
                                                   senderKey: shown.position.member, sequence: shown.position.sequence, kind: post.kind,
                                                   timestampMs: Int64(clamping: post.timestampMs), body: post.body,
                                                   outgoing: shown.position.member == session.me)
            if stored.outgoing { change.posted.append(stored) }
            change.events.append(.groupMessage(stored))
        }
        if let before, output.rosterChanged || before.serial != session.roster.serial {
            change.events += Self.memberChanges(group: record.id, from: before, to: session.roster)
        } else if before == nil {
            change.events += Self.memberChanges(group: record.id, from: nil, to: session.roster)
        }
        return record
    }

    /// The members who joined, left or changed role between two rosters, and a rename.
    static func memberChanges(group: ID, from before: GroupRoster?, to after: GroupRoster) -> [ClientEvent] {
        var events: [ClientEvent] = []
        let old = before?.members ?? [:]
        for (key, role) in after.members.sorted(by: { $0.key.bytes.lexicographicallyPrecedes($1.key.bytes) }) where old[key] != role {
            events.append(.groupMember(group: group, member: key.id, change: old[key] == nil ? .joined : role == .admin ? .madeAdmin : .madeMember))
        }
        for key in old.keys.sorted(by: { $0.bytes.lexicographicallyPrecedes($1.bytes) }) where after.members[key] == nil {
            events.append(.groupMember(group: group, member: key.id, change: .left))
        }
        if let before, before.name != after.name { events.append(.groupRenamed(group: group, name: after.name)) }
        return events
    }

    private func groupIdentity(of contact: ID, _ tx: any MessengerTransaction) throws -> GroupIdentity {
        guard let record = try tx.contact(id: contact) else { throw MessengerError.unknownContact("no contact \(contact.hex)") }
        guard !record.isRequest else { throw MessengerError.conflict("accept the contact request before adding it to a group") }
        return GroupIdentity(signing: record.identityKey, agreement: record.agreementKey)
    }

    private func requireAdmin(_ session: GroupSession) throws {
        guard session.roster.members[session.me] == .admin else { throw MessengerError.conflict("only an admin of the group may do that") }
    }

    private func memberKey(_ member: ID, in session: GroupSession) throws -> SigningPublicKey {
        guard let key = session.roster.members.keys.first(where: { $0.id == member }) else {
            throw MessengerError.notFound("no member \(member.hex) in the group")
        }
        return key
    }

    // MARK: Pairwise control messages

    /// A group control message (envelope kind 6) from `contact`, inside the receiving
    /// transaction: an invitation waits for the user (``GroupInvitationRecord``). Refused, with
    /// a label, when it is malformed, does not name this client, or too many wait.
    func receiveGroupControl(_ body: [UInt8], from contact: ContactRecord, _ tx: any MessengerTransaction, now: UnixTime)
        throws -> GroupControlOutcome {
        let control: GroupControl
        do { control = try GroupControl.decode(body) } catch { return .refused(.malformedGroupControl) }
        let bytes: [UInt8]
        switch control {
        case let .invitation(invitation): bytes = invitation
        case let .epochQuery(group, epoch, _): return try receiveEpochQuery(group: group, epoch: epoch, from: contact, tx)
        case let .catchUp(answer): return try receiveCatchUp(answer, from: contact, tx)
        case let .ticketQuery(group, _, _): return try receiveTicketQuery(group: group, from: contact, tx)
        }
        guard let invitation = try? GroupInvitation.decode(bytes) else { return .refused(.malformedGroupControl) }
        // A complete invitation is checked now; a ticket when its snapshot comes.
        if let roster = invitation.roster, !Self.invitationFits(roster, from: contact, for: identity) {
            return .refused(.groupInvitationRefused)
        }
        let group = invitation.groupID
        if let existing = try tx.group(id: group), existing.isMember,
           let held = try? session(of: existing, tx), held.epoch.number >= invitation.epoch.number {
            return .taken(nil) // already in it, at that epoch or later
        }
        let waiting = try tx.groupInvitations()
        if !waiting.contains(where: { $0.group == group }), waiting.count >= Self.maximumGroupInvitations {
            return .refused(.groupInvitationLimit)
        }
        if let held = waiting.first(where: { $0.group == group }), let heldTicket = try? GroupInvitation.decode(held.invitation),
           heldTicket.epoch.number > invitation.epoch.number {
            return .taken(nil) // one for a later epoch is held (a new ticket overtook this one)
        }
        let record = GroupInvitationRecord(group: group, from: contact.id, name: invitation.name, memberCount: invitation.memberCount,
                                           receivedMs: now.milliseconds, invitation: bytes) // as decoded: canonical (fuzz target group)
        try tx.setGroupInvitation(record)
        if invitation.roster == nil {
            groupsChanged() // its epoch mailbox is fetched for the snapshot
            return .taken(nil)
        }
        return .taken(.groupInvite(record))
    }

    /// An invitation's roster is from an admin of the group it names, for this client's keys.
    static func invitationFits(_ roster: GroupRoster, from contact: ContactRecord, for identity: ClientIdentity) -> Bool {
        roster.members[contact.identityKey] == .admin && roster.agreementKeys[identity.signingKey] == identity.agreementKey
    }

    /// The invitations that wait for their snapshot (tickets, which ``groupInvitations()``
    /// leaves out), each with how its wait stands: the ticket's epoch, the bodies of that epoch
    /// read and the channel messages begun there and not finished, and whether the snapshot was
    /// asked for. For a diagnosis (the simulator's report).
    public func groupTicketWaits() throws -> [(group: ID, epoch: UInt32, bodiesRead: Int, partial: Int, asked: Bool)] {
        let tickets = try store.read { try $0.groupInvitations() }.compactMap { record -> (ID, GroupInvitation)? in
            guard let ticket = try? GroupInvitation.decode(record.invitation), ticket.roster == nil else { return nil }
            return (record.group, ticket)
        }
        let waits = groupSnapshotWaits.withLock { $0 }
        return tickets.map { group, ticket in
            let entry = waits[group].flatMap { $0.wait.ticket.encoded == ticket.encoded ? $0 : nil }
            return (group, ticket.epoch.number, entry?.wait.bodiesRead ?? 0, entry?.wait.partialMessages ?? 0, entry?.asked != nil)
        }
    }

    /// Requests for the snapshots that have not come (§7.10, resend flag bit 1): for each
    /// invitation waiting ``snapshotAskAfter`` for it, one every ``snapshotAskInterval``. Sent
    /// once each, not through the group outbox (the next one follows if it is lost).
    public func snapshotRequests(now: UnixTime, rng: inout some RandomSource) -> [GroupSession.Deposit] {
        groupSnapshotWaits.withLock { waits in
            var deposits: [GroupSession.Deposit] = []
            for (group, var entry) in waits.sorted(by: { $0.key.hex < $1.key.hex }) {
                defer { waits[group] = entry }
                guard let since = entry.since, now >= since else {
                    entry.since = now // first seen (or the clock stepped back)
                    continue
                }
                guard now.duration(since: since) >= Self.snapshotAskAfter,
                      entry.asked.map({ now < $0 || now.duration(since: $0) >= Self.snapshotAskInterval }) ?? true,
                      let request = try? entry.wait.request(rng: &rng) else { continue }
                entry.asked = now
                deposits += request
            }
            return deposits
        }
    }

    /// A body of the epoch mailbox of an invitation that waits for its snapshot (a mailbox
    /// ``groupFetchKeys()`` lists as `waiting`): when it finishes the snapshot, the invitation is
    /// stored whole, checked as a complete one, and told. `notStored` when the store failed.
    public func receiveInvitationBody(_ body: [UInt8], group: ID, now: UnixTime) -> (change: GroupChange, notStored: Bool) {
        guard let complete = groupSnapshotWaits.withLock({ waits -> GroupInvitation? in
            guard var entry = waits[group] else { return nil }
            defer { waits[group] = entry }
            return entry.wait.receive(body, now: now)
        }), let roster = complete.roster, let encoded = complete.completeEncoding else { return (GroupChange(), false) }
        var change = GroupChange()
        do {
            try store.write { tx in
                guard var record = try tx.groupInvitations().first(where: { $0.group == group }),
                      let ticket = try? GroupInvitation.decode(record.invitation), ticket.roster == nil,
                      ticket.encoded == complete.encoded else { return }
                guard let contact = try tx.contact(id: record.from), Self.invitationFits(roster, from: contact, for: identity) else {
                    _ = try tx.deleteGroupInvitation(group)
                    change.dropped[.invitationRefused, default: 0] += 1
                    return
                }
                record.invitation = encoded
                record.name = roster.name
                record.memberCount = roster.members.count
                try tx.setGroupInvitation(record)
                change.events.append(.groupInvite(record))
            }
        } catch {
            return (GroupChange(), true)
        }
        groupSnapshotWaits.withLock { _ = $0.removeValue(forKey: group) }
        groupsChanged() // its epoch mailbox is not fetched any more (until the user accepts)
        return (change, false)
    }
}

/// What became of a group control message (``Messenger/receiveGroupControl(_:from:_:now:)``).
enum GroupControlOutcome {
    /// Taken: the event to tell, if any.
    case taken(ClientEvent?)
    case refused(ReceiveDropReason)
}

/// The body of an envelope of kind 6 (`groupControl`, docs/PROTOCOL.md §7.10): a type byte,
/// then its bytes. Type 1: an invitation (§7.10). Type 2: a member asks an admin where the group
/// is — group ID (32) | its epoch (4) | its roster serial (8). Type 3: the admin's answer, a
/// ``GroupCatchUp``. Type 4: one invited asks the admin who invited it for a new ticket, the
/// snapshot of its own never having come — the same 44 bytes as type 2, its ticket's epoch and
/// serial; the answer is a type 1 invitation.
public enum GroupControl: Equatable, Sendable {
    case invitation([UInt8])
    case epochQuery(group: ID, epoch: UInt32, serial: UInt64)
    case catchUp([UInt8])
    case ticketQuery(group: ID, epoch: UInt32, serial: UInt64)

    static let queryLength = 45

    public var encoded: [UInt8] {
        switch self {
        case let .invitation(bytes): [1] + bytes
        case let .epochQuery(group, epoch, serial): Self.query(type: 2, group: group, epoch: epoch, serial: serial)
        case let .catchUp(bytes): [3] + bytes
        case let .ticketQuery(group, epoch, serial): Self.query(type: 4, group: group, epoch: epoch, serial: serial)
        }
    }

    private static func query(type: UInt8, group: ID, epoch: UInt32, serial: UInt64) -> [UInt8] {
        var w = ByteWriter(capacity: queryLength)
        w.write(type)
        w.write(group.rawValue)
        w.write(epoch)
        w.write(serial)
        return w.bytes
    }

    public static func decode(_ bytes: [UInt8]) throws(DecodeError) -> GroupControl {
        guard let type = bytes.first else { throw .incomplete(deficit: 1) }
        switch type {
        case 1: return .invitation(Array(bytes.dropFirst()))
        case 2, 4:
            guard bytes.count >= queryLength else { throw .incomplete(deficit: queryLength - bytes.count) }
            guard bytes.count == queryLength else { throw .trailingBytes(count: bytes.count - queryLength) }
            var r = ByteReader(Array(bytes.dropFirst()))
            let group: ID, epoch: UInt32, serial: UInt64
            do {
                (group, epoch, serial) = (ID(rawValue: try r.readBytes32()), try r.readUInt32(), try r.readUInt64())
            } catch {
                throw .invalidValue("group query: \(error)") // unreachable: 44 bytes by the length check
            }
            return type == 2 ? .epochQuery(group: group, epoch: epoch, serial: serial)
                : .ticketQuery(group: group, epoch: epoch, serial: serial)
        case 3: return .catchUp(Array(bytes.dropFirst()))
        default: throw .invalidValue("group control type \(type)")
        }
    }
}

/// An invitation's wait for its snapshot (``Messenger/groupSnapshotWaits``), with when it was
/// first seen waiting and last asked for.
struct SnapshotWaitEntry: Sendable {
    var wait: GroupSnapshotWait
    var since: UnixTime?
    var asked: UnixTime?
    /// When the inviter was last asked pairwise for a new ticket, and how often (type 4).
    var askedInviter: (at: UnixTime, count: Int)?
}
