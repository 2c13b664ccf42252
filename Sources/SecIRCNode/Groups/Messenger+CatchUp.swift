public import SecIRCCore
public import SecIRCCrypto

/// Catching up with a group that moved on (docs/PROTOCOL.md §7.10): a member reads only its
/// current and previous epoch's mailboxes, so one that missed two membership changes hears
/// nothing more through the channel. When nothing an admin wrote was read in its current epoch
/// for ``Messenger/catchUpQuiet`` (the lowest-key admin posts its chain every minute), it asks
/// an admin who is its contact, pairwise, where the group is (group control type 2); an admin
/// that holds a later epoch answers with a ``GroupCatchUp`` (type 3), which moves the member on.
extension Messenger {
    /// Nothing from an admin in a group's current epoch for this long: ask where the group is.
    /// Unanswered, each ask waits twice as long as the one before, up to 16 times this.
    public static let catchUpQuiet = Duration.seconds(180)
    /// An admin answers one contact about one group at most this often.
    static let catchUpAnswerInterval = Duration.seconds(60)
    /// Questions to answer and answers to take, waiting for the next round, at most.
    static let maxCatchUpsWaiting = 256

    /// A group control question: queued for the next round when this client holds a later epoch
    /// of `group` as an admin and the asker is a member (else refused or, not behind, ignored).
    func receiveEpochQuery(group: ID, epoch: UInt32, from contact: ContactRecord, _ tx: any MessengerTransaction)
        throws -> GroupControlOutcome {
        guard let session = try adminSession(of: group, askedBy: contact, tx) else { return .refused(.groupCatchUpRefused) }
        guard epoch < session.epoch.number else { return .taken(nil) } // not behind: nothing to tell
        return queue(group: group, contact: contact, in: \.questions)
    }

    /// A request for a new ticket (type 4): queued for the next round when this client is an
    /// admin of `group` (not catching up) and the asker is in its roster; else refused.
    func receiveTicketQuery(group: ID, from contact: ContactRecord, _ tx: any MessengerTransaction) throws -> GroupControlOutcome {
        guard try adminSession(of: group, askedBy: contact, tx) != nil else { return .refused(.groupCatchUpRefused) }
        return queue(group: group, contact: contact, in: \.ticketQuestions)
    }

    /// `group`'s session when this client is one of its admins and not catching up (it holds a
    /// ``GroupSession/catchUpTicket``) and `contact` is in its roster; else nil.
    private func adminSession(of group: ID, askedBy contact: ContactRecord, _ tx: any MessengerTransaction) throws -> GroupSession? {
        guard let record = try tx.group(id: group), record.isMember, let session = try? session(of: record, tx),
              session.roster.members[contact.identityKey] != nil, session.catchUpTicket != nil else { return nil }
        return session
    }

    /// Queues `contact`'s question about `group` in `list` for the next round (once; refused when
    /// ``maxCatchUpsWaiting`` wait there).
    private func queue(group: ID, contact: ContactRecord,
                       in list: WritableKeyPath<GroupCatchUps, [(group: ID, contact: ID)]>) -> GroupControlOutcome {
        let queued = groupCatchUps.withLock { waiting -> Bool in
            if waiting[keyPath: list].contains(where: { $0.group == group && $0.contact == contact.id }) { return true }
            guard waiting[keyPath: list].count < Self.maxCatchUpsWaiting else { return false }
            waiting[keyPath: list].append((group, contact.id))
            return true
        }
        return queued ? .taken(nil) : .refused(.groupCatchUpRefused)
    }

    /// The number of times asked so far when it is time to ask again — quiet since `quiet`, last
    /// asked as `asked` (each ask waits twice as long as the one before, from ``catchUpQuiet`` up
    /// to 16 times it) — else nil.
    static func triesWhenDue(quietSince quiet: UnixTime, asked: (at: UnixTime, count: Int)?, now: UnixTime) -> Int? {
        let tries = asked?.count ?? 0
        let since = max(quiet, asked?.at ?? quiet)
        guard now >= since, now.duration(since: since) >= catchUpQuiet * (1 << min(tries, 4)) else { return nil }
        return tries
    }

    /// A group control answer: queued for the next round when it parses, is for a group this
    /// client is in, comes from an admin of its roster and names a later epoch.
    func receiveCatchUp(_ bytes: [UInt8], from contact: ContactRecord, _ tx: any MessengerTransaction) throws -> GroupControlOutcome {
        guard let answer = try? GroupCatchUp.decode(bytes) else { return .refused(.malformedGroupControl) }
        let group = answer.groupID
        guard let record = try tx.group(id: group), record.isMember, let session = try? session(of: record, tx),
              session.roster.members[contact.identityKey] == .admin else {
            return .refused(.groupCatchUpRefused)
        }
        guard answer.epoch.number > session.epoch.number else { return .taken(nil) } // caught up meanwhile
        let queued = groupCatchUps.withLock { waiting -> Bool in
            waiting.answers.removeAll { $0.group == group && $0.answer.epoch.number <= answer.epoch.number }
            guard waiting.answers.count < Self.maxCatchUpsWaiting else { return false }
            waiting.answers.append((group, contact.identityKey, answer))
            return true
        }
        return queued ? .taken(nil) : .refused(.groupCatchUpRefused)
    }

    /// One round of catching up, on the network loop's group timer: takes the answers that came,
    /// answers the questions, and asks where each quiet group is. What it changed (pairwise
    /// messages queued are counted as `invitations`).
    public func catchUpWithGroups(now: UnixTime, rng: inout some RandomSource) throws -> GroupChange {
        var change = GroupChange()
        let (answers, questions, ticketQuestions) = groupCatchUps.withLock { waiting in
            defer { waiting.answers = []; waiting.questions = []; waiting.ticketQuestions = [] }
            return (waiting.answers, waiting.questions, waiting.ticketQuestions)
        }
        for (group, admin, answer) in answers {
            var moved = false
            let taken: GroupChange
            do {
                taken = try changeGroup(group, now: now, rng: &rng) { session, rng in
                    guard let output = session.catchUp(answer, from: admin, now: now, rng: &rng) else { return GroupSession.Output() }
                    moved = true
                    return output
                }
            } catch MessengerError.notFound {
                continue // the group was deleted meanwhile: the rest of the round goes on
            }
            change.merge(taken)
            if moved {
                groupCatchUps.withLock { waiting in
                    waiting.heard[group] = now
                    waiting.counts.taken += 1
                }
            }
        }
        for (group, contact) in questions where answerDue(group: group, contact: contact, now: now) {
            let sent = try store.write { tx -> Bool in
                guard let record = try tx.group(id: group), record.isMember, let known = try tx.contact(id: contact), !known.isRequest,
                      let answer = try session(of: record, tx).catchUpTicket else { return false }
                try queueControl(.catchUp(answer.encoded), to: contact, tx, now: now, rng: &rng)
                return true
            }
            if sent {
                change.invitations += 1
                groupCatchUps.withLock { waiting in
                    waiting.answered[GroupCatchUps.Pair(group: group, contact: contact)] = now
                    waiting.counts.answered += 1
                }
            }
        }
        for (group, contact) in ticketQuestions where answerDue(group: group, contact: contact, now: now) {
            let member = try store.read { tx in try tx.contact(id: contact) }
            guard let member, !member.isRequest else { continue }
            let reissued: GroupChange
            do {
                reissued = try withAnswerLog(of: group) { answered in
                    try changeGroup(group, now: now, rng: &rng) { session, rng in
                        session.reissueTicket(for: member.identityKey, now: now, rng: &rng, answered: &answered) ?? GroupSession.Output()
                    }
                }
            } catch MessengerError.notFound {
                continue
            }
            change.merge(reissued)
            if reissued.invitations > 0 {
                groupCatchUps.withLock { waiting in
                    waiting.answered[GroupCatchUps.Pair(group: group, contact: contact)] = now
                    waiting.counts.ticketsReissued += 1
                }
            }
        }
        change.invitations += try askQuietGroups(now: now, rng: &rng)
        change.invitations += try askForNewTickets(now: now, rng: &rng)
        groupCatchUps.withLock { waiting in
            waiting.answered = waiting.answered.filter { now >= $0.value && now.duration(since: $0.value) < Self.catchUpAnswerInterval }
        }
        return change
    }

    /// Whether `contact` may be answered about `group` now: once a minute at most, whatever it asked.
    private func answerDue(group: ID, contact: ID, now: UnixTime) -> Bool {
        groupCatchUps.withLock { waiting in
            waiting.answered[GroupCatchUps.Pair(group: group, contact: contact)]
                .map { now < $0 || now.duration(since: $0) >= Self.catchUpAnswerInterval } ?? true
        }
    }

    /// Asks the contact who invited this client for a new ticket (type 4), for each invitation
    /// whose snapshot has not come for the quiet time (its own requests in the ticket's epoch
    /// went unanswered: the group moved on), backing off as ``askQuietGroups(now:rng:)`` does;
    /// the number of questions queued.
    private func askForNewTickets(now: UnixTime, rng: inout some RandomSource) throws -> Int {
        let due = groupSnapshotWaits.withLock { waits -> [(group: ID, ticket: GroupInvitation)] in
            var due: [(group: ID, ticket: GroupInvitation)] = []
            for (group, var entry) in waits.sorted(by: { $0.key.hex < $1.key.hex }) {
                guard let since = entry.since, now >= since, // set by snapshotRequests
                      let tries = Self.triesWhenDue(quietSince: since, asked: entry.askedInviter, now: now) else { continue }
                entry.askedInviter = (now, tries + 1)
                waits[group] = entry
                due.append((group, entry.wait.ticket))
            }
            return due
        }
        var asked = 0
        for (group, ticket) in due {
            let sent = try store.write { tx -> Bool in
                guard let record = try tx.groupInvitations().first(where: { $0.group == group }),
                      let inviter = try tx.contact(id: record.from), !inviter.isRequest else { return false }
                let question = GroupControl.ticketQuery(group: group, epoch: ticket.epoch.number, serial: ticket.serial)
                try queueControl(question, to: inviter.id, tx, now: now, rng: &rng)
                return true
            }
            if sent {
                asked += 1
                groupCatchUps.withLock { $0.counts.ticketsAsked += 1 }
            }
        }
        return asked
    }

    /// Asks an admin (a contact, in turn) where each group is that no admin was heard in for the
    /// quiet time; the number of questions queued.
    private func askQuietGroups(now: UnixTime, rng: inout some RandomSource) throws -> Int {
        var asked = 0
        for record in try store.read({ tx in try tx.groups() }) where record.isMember {
            let group = record.id
            let due = groupCatchUps.withLock { waiting -> Int? in
                guard let heard = waiting.heard[group], now >= heard else {
                    waiting.heard[group] = now // first seen (or the clock stepped back): quiet from now
                    return nil
                }
                return Self.triesWhenDue(quietSince: heard, asked: waiting.asked[group], now: now)
            }
            guard let tries = due else { continue }
            let sent = try store.write { tx -> Bool in
                guard let session = try? session(of: record, tx), session.isMember else { return false }
                var admins: [ID] = []
                for key in session.roster.admins.sorted(by: { $0.bytes.lexicographicallyPrecedes($1.bytes) }) where key != session.me {
                    if let contact = try tx.contact(id: key.id), !contact.isRequest { admins.append(contact.id) }
                }
                guard !admins.isEmpty else { return false }
                let question = GroupControl.epochQuery(group: group, epoch: session.epoch.number, serial: session.roster.serial)
                try queueControl(question, to: admins[tries % admins.count], tx, now: now, rng: &rng)
                return true
            }
            groupCatchUps.withLock { waiting in
                waiting.asked[group] = (now, tries + 1)
                if sent { waiting.counts.asked += 1 }
            }
            if sent { asked += 1 }
        }
        return asked
    }

    /// Queues a group control message to `contact` in the outbox (like any message: retries, a
    /// receipt).
    private func queueControl(_ control: GroupControl, to contact: ID, _ tx: any MessengerTransaction, now: UnixTime,
                              rng: inout some RandomSource) throws {
        _ = try tx.insertMessage(id: MessageID(using: &rng), contact: contact, direction: .outgoing, kind: .groupControl,
                                 timestampMs: now.milliseconds, body: control.encoded, state: .queued, nextAttemptMs: now.milliseconds)
    }

    /// Questions asked, answered and catch-ups taken since the start (the simulator reports them).
    public var groupCatchUpCounts: GroupCatchUpCounts { groupCatchUps.withLock { $0.counts } }

    /// `group`'s current epoch was heard from an admin now (``GroupChange/heardAdmin``).
    func heardAdmin(in group: ID, now: UnixTime) {
        groupCatchUps.withLock { waiting in
            waiting.heard[group] = now
            waiting.asked[group] = nil
        }
    }
}

/// ``Messenger/groupCatchUps``: in memory (after a start, each group is quiet from then on).
struct GroupCatchUps: Sendable {
    struct Pair: Hashable, Sendable {
        let group: ID
        let contact: ID
    }

    /// When an admin was last heard in each group's current epoch.
    var heard: [ID: UnixTime] = [:]
    /// When this client last asked where each group is, and how often since it last heard.
    var asked: [ID: (at: UnixTime, count: Int)] = [:]
    /// Questions from contacts, to answer in the next round.
    var questions: [(group: ID, contact: ID)] = []
    /// Requests for a new ticket from contacts, to answer in the next round.
    var ticketQuestions: [(group: ID, contact: ID)] = []
    /// When each contact was last answered about each group.
    var answered: [Pair: UnixTime] = [:]
    /// Answers from admins, to take in the next round.
    var answers: [(group: ID, admin: SigningPublicKey, answer: GroupCatchUp)] = []
    var counts = GroupCatchUpCounts()
}

/// How often this client asked where a group is, answered such a question, and took a catch-up;
/// asked for a new ticket, and made one for a contact that asked.
public struct GroupCatchUpCounts: Sendable, Equatable {
    public var asked = 0
    public var answered = 0
    public var taken = 0
    public var ticketsAsked = 0
    public var ticketsReissued = 0
}

extension Messenger.GroupChange {
    /// Adds what another change did.
    mutating func merge(_ other: Messenger.GroupChange) {
        events += other.events
        posted += other.posted
        dropped.merge(other.dropped, uniquingKeysWith: +)
        deposits += other.deposits
        invitations += other.invitations
        heardAdmin = heardAdmin || other.heardAdmin
    }
}
