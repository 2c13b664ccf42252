import SecIRCCore
import SecIRCCrypto

/// One group mailbox at one of its relays.
struct GroupSlot: Hashable, Sendable {
    var mailbox: Bytes32
    var relay: ID
}

/// The digests of the last few thousand bodies: two generations, the older dropped when the
/// newer is full, so a lookup never misses one of the last `generation` inserted.
struct RecentDigests: Sendable {
    static var generation: Int { 2_048 }
    private var current: Set<Bytes32> = []
    private var older: Set<Bytes32> = []

    func contains(_ digest: Bytes32) -> Bool { current.contains(digest) || older.contains(digest) }

    mutating func insert(_ digest: Bytes32) {
        if current.count >= Self.generation {
            older = current
            current = []
        }
        current.insert(digest)
    }
}

extension ClientEngine {
    /// How often each group is asked for what this member misses (§7.10, asking again).
    static var groupResendInterval: Duration { .seconds(30) }
    /// How long bodies of a fetch wait to be read together: one transaction for a burst, and a
    /// pushed post held back at most this long behind a fetch that does not end.
    static var groupBatchWindow: Duration { .milliseconds(50) }

    /// The relays that hold a group mailbox (docs/PROTOCOL.md §8, Groups): of the relays the
    /// first ring flagged `mailbox`, the `count` whose SHA-256(mailbox ID | relay ID) is lowest
    /// — the same at every member holding the same directory, and a directory change moves only
    /// the mailboxes whose relay came or went.
    static func groupMailboxRelays(_ mailbox: Bytes32, held: DirectoryTracker.Held, count: Int) -> [RelayDescriptor] {
        let candidates = held.descriptors.filter { held.ratings[$0.id]?.has("mailbox") == true }
        return candidates.map { (relay: $0, rank: SHA256.hash(mailbox.bytes + $0.id.rawValue.bytes).bytes) }
            .sorted { $0.rank.lexicographicallyPrecedes($1.rank) }
            .prefix(count).map(\.relay)
    }

    /// The group side of a turn: reads the groups again when they changed, polls their
    /// mailboxes, deposits what is due and asks for what is missing.
    mutating func tickGroups(_ held: DirectoryTracker.Held, now: UnixTime, rng: inout some RandomSource,
                             effects: inout NodeEffects<Event>) {
        let generation = messenger.groupGeneration
        if generation != groupGenerationSeen {
            groupGenerationSeen = generation
            refreshGroups(now: now)
        }
        if groupMailboxes.isEmpty && groupDepositDue == nil { return }
        for (slot, batch) in groupBatches where batch.first.map({ now < $0.at || now >= $0.at.adding(Self.groupBatchWindow) }) ?? true {
            if !readGroupBatch(slot, now: now, rng: &rng, effects: &effects) { groupFetches[slot]?.notStored = true }
        }
        expireGroupFetches(now: now, rng: &rng, effects: &effects)
        if now >= nextGroupPoll {
            lastGroupPoll = now
            for (mailbox, entry) in groupMailboxes.sorted(by: { $0.key.hex < $1.key.hex }) {
                for relay in Self.groupMailboxRelays(mailbox, held: held, count: configuration.mailboxRelays) {
                    let slot = GroupSlot(mailbox: mailbox, relay: relay.id)
                    guard groupFetches[slot] == nil, down[relay.id] == nil else { continue }
                    startGroupFetch(slot, key: entry.key, round: 1, held: held, now: now, rng: &rng, effects: &effects)
                }
            }
        }
        if let due = nextGroupResend, now >= due {
            nextGroupResend = now.adding(Self.groupResendInterval)
            let force = !groupResendForced
            groupResendForced = true
            if let held = tracker.held {
                for request in messenger.snapshotRequests(now: now, rng: &rng) {
                    sendOnce(request.body, to: request.mailbox, held: held, now: now, rng: &rng, effects: &effects)
                }
            }
            do {
                if try messenger.requestMissingGroupPosts(force: force, now: now, rng: &rng) > 0 {
                    groupDepositDue = (try? messenger.nextGroupDepositDue()) ?? groupDepositDue
                }
            } catch {
                effects.events.append(.problem("cannot ask groups for missing posts: \(error)"))
            }
            do {
                _ = took(try messenger.catchUpWithGroups(now: now, rng: &rng), notStored: false, now: now, effects: &effects)
            } catch {
                effects.events.append(.problem("cannot catch up with groups: \(error)"))
            }
        }
        if let due = groupDepositDue, due <= now { sendGroupDeposits(held, now: now, rng: &rng, effects: &effects) }
    }

    /// The group mailboxes and the group outbox after a change.
    private mutating func refreshGroups(now: UnixTime) {
        let keys = (try? messenger.groupFetchKeys()) ?? []
        var mailboxes: [Bytes32: (group: ID, key: SigningPrivateKey, waiting: Bool)] = [:]
        for (group, groupKeys, waiting) in keys {
            for key in groupKeys { mailboxes[key.publicKey.id.rawValue] = (group, key, waiting) }
        }
        let gained = !Set(mailboxes.keys).isSubset(of: groupMailboxes.keys)
        let before = groupMailboxes
        groupMailboxes = mailboxes
        // A mailbox read for an invitation's snapshot is read again from its start once joined.
        for slot in Set(groupFetches.keys).union(groupCursors.keys).union(groupBatches.keys)
        where mailboxes[slot.mailbox] == nil || mailboxes[slot.mailbox]?.waiting != before[slot.mailbox]?.waiting {
            groupFetches[slot] = nil
            groupBatches[slot] = nil
            groupCursors[slot] = nil
            groupRead[slot] = nil
            groupSubscribedOn[slot] = nil
            groupBodiesRead[slot.mailbox] = nil
        }
        for mailbox in groupBodiesRead.keys where mailboxes[mailbox] == nil { groupBodiesRead[mailbox] = nil }
        if gained { lastGroupPoll = nil } // a new epoch's mailbox: fetch it now
        if !mailboxes.isEmpty, nextGroupResend == nil { nextGroupResend = now }
        watchGroupOutbox()
    }

    /// The keys of the group outbox's deposits (a body read back with one of them may be ours)
    /// and when the next is due.
    private mutating func watchGroupOutbox() {
        let deposits = (try? messenger.groupDepositKeys()) ?? []
        pendingGroupDeposits = Set(deposits.map(\.key))
        groupDepositDue = deposits.map(\.nextAttemptMs).min().map { UnixTime(nanoseconds: $0 * 1_000_000) }
    }

    /// When the group mailboxes are polled next: like the personal ones, every `pushPollInterval`
    /// while each is pushed to this client, else every `pollInterval`.
    var nextGroupPoll: UnixTime {
        guard let last = lastGroupPoll else { return UnixTime(nanoseconds: 0) }
        let subscribed = configuration.push && !groupMailboxes.isEmpty
            && groupSubscribedOn.count >= groupMailboxes.count * configuration.mailboxRelays
            && groupSubscribedOn.values.allSatisfy { links.hasSession($0) }
        return last.adding(subscribed ? configuration.pushPollInterval : configuration.pollInterval)
    }

    var nextGroupDeadline: UnixTime? {
        guard directoryUsable else { return nil }
        var next: UnixTime?
        func consider(_ time: UnixTime?) { if let time { next = min(next ?? time, time) } }
        if !groupMailboxes.isEmpty {
            consider(nextGroupPoll)
            consider(nextGroupResend)
        }
        consider(groupDepositDue)
        for batch in groupBatches.values { consider(batch.first?.at.adding(Self.groupBatchWindow)) }
        for fetch in groupFetches.values {
            consider(fetch.started.adding(configuration.fetchTimeout))
            if case let .finishing(_, _, _, until) = fetch.stage { consider(until) }
        }
        // A change made through the API since the last turn is looked at on the next one.
        if messenger.groupGeneration != groupGenerationSeen { consider(UnixTime(nanoseconds: 0)) }
        return next
    }

    // MARK: Fetching

    private mutating func startGroupFetch(_ slot: GroupSlot, key: SigningPrivateKey, round: Int, held: DirectoryTracker.Held,
                                          now: UnixTime, rng: inout some RandomSource, effects: inout NodeEffects<Event>) {
        guard let relay = held.byID[slot.relay], let peer = linkPeer(relay) else { return }
        groupFetches[slot] = MailboxFetch(mailbox: MailboxKey(relayID: slot.relay, key: key), stage: .awaitingChallenge, started: now,
                                          round: round)
        let frame = LinkFrame.fetchChallengeRequest(mailbox: slot.mailbox).encoded()
        if links.send(frame, to: peer, now: now, rng: &rng, out: &effects.datagrams) == .dropped {
            groupFetches[slot] = nil
            status.drop(.fetchFailed)
        }
    }

    private mutating func expireGroupFetches(now: UnixTime, rng: inout some RandomSource, effects: inout NodeEffects<Event>) {
        for (slot, fetch) in groupFetches {
            if case let .finishing(fetchStatus, remaining, sent, until) = fetch.stage, now >= until {
                groupFetches[slot] = nil
                finishGroupFetch(slot, fetch, status: fetchStatus, remaining: remaining, sent: sent, now: now, rng: &rng, effects: &effects)
            } else if now < fetch.started || now.duration(since: fetch.started) >= configuration.fetchTimeout {
                groupFetches[slot] = nil
                _ = readGroupBatch(slot, now: now, rng: &rng, effects: &effects) // what came is read; the cursor stays
                links.reset(slot.relay)
                groupSubscribedOn[slot] = nil
                status.drop(.fetchFailed)
            }
        }
    }

    /// A frame of a group mailbox's fetch or push; false when it is not about a group mailbox
    /// (the personal mailboxes' handling takes it).
    mutating func handleGroupFrame(_ frame: LinkFrame, from delivery: LinkDelivery, now: UnixTime, rng: inout some RandomSource,
                                   effects: inout NodeEffects<Event>) -> Bool {
        guard let relay = delivery.peer else { return false }
        switch frame {
        case let .fetchChallenge(mailbox, nonce):
            let slot = GroupSlot(mailbox: mailbox, relay: relay)
            guard var fetch = groupFetches[slot] else { return false }
            guard case .awaitingChallenge = fetch.stage else {
                status.drop(.strayFrame)
                return true
            }
            let cursor = groupCursors[slot] ?? 0
            let key = fetch.mailbox.key
            let signature = key.sign(LinkFrame.fetchSignedBytes(relay: relay.rawValue, nonce: nonce, ackThrough: cursor, queueOps: []))
            fetch.stage = .awaitingMessages
            fetch.session = delivery.session
            groupFetches[slot] = fetch
            let request = LinkFrame.fetchRequest(mailboxKey: key.publicKey, nonce: nonce, ackThrough: cursor, signature: signature,
                                                 subscribe: configuration.push, group: true)
            if !links.reply(request.encoded(), on: delivery.session, now: now, rng: &rng, out: &effects.datagrams) {
                groupFetches[slot] = nil
                status.drop(.fetchFailed)
            }
            return true
        case let .mailboxMessage(mailbox, sequence, remaining, body):
            guard let entry = groupMailboxes[mailbox] else { return false }
            let slot = GroupSlot(mailbox: mailbox, relay: relay)
            var stored = true
            let batching = groupFetches[slot].map { if case .awaitingMessages = $0.stage { true } else { false } } ?? false
            if sequence > groupCursors[slot] ?? 0, groupRead[slot]?.contains(sequence) != true,
               !(groupBatches[slot]?.contains { $0.sequence == sequence } ?? false) {
                if batching && !entry.waiting {
                    // Read with the rest of the batch when the relay says it was sent, or within
                    // ``groupBatchWindow``: one transaction, one save of the group.
                    groupBatches[slot, default: []].append((sequence, body, now))
                } else {
                    stored = readGroupBody(body, group: entry.group, waiting: entry.waiting, slot: slot, now: now, rng: &rng, effects: &effects)
                    if stored {
                        if groupRead[slot, default: []].count >= Self.maxStoredSequences { groupRead[slot] = [] }
                        groupRead[slot, default: []].insert(sequence)
                    }
                }
            }
            guard var fetch = groupFetches[slot] else { return true } // pushed: read, the next poll moves the cursor
            switch fetch.stage {
            case .awaitingChallenge: return true
            case .awaitingMessages, .finishing:
                fetch.received.append((sequence, remaining))
                if !stored { fetch.notStored = true }
                groupFetches[slot] = fetch
            }
            if case let .finishing(fetchStatus, left, sent, _) = fetch.stage, Self.readPrefix(fetch, remaining: left, sent: sent).whole {
                groupFetches[slot] = nil
                finishGroupFetch(slot, fetch, status: fetchStatus, remaining: left, sent: sent, now: now, rng: &rng, effects: &effects)
                if left > 0, fetch.round < configuration.fetchRounds, let held = tracker.held {
                    startGroupFetch(slot, key: entry.key, round: fetch.round + 1, held: held, now: now, rng: &rng, effects: &effects)
                }
            }
            return true
        case let .fetchDone(mailbox, fetchStatus, remaining, sent, subscribed, _):
            let slot = GroupSlot(mailbox: mailbox, relay: relay)
            guard var fetch = groupFetches[slot] else { return groupMailboxes[mailbox] != nil && { status.drop(.strayFrame); return true }() }
            guard case .awaitingMessages = fetch.stage else {
                status.drop(.strayFrame)
                return true
            }
            groupSubscribedOn[slot] = fetchStatus == .ok && subscribed ? fetch.session : nil
            if !readGroupBatch(slot, now: now, rng: &rng, effects: &effects) { fetch.notStored = true }
            guard fetchStatus != .ok || fetch.notStored || Self.readPrefix(fetch, remaining: remaining, sent: sent).whole else {
                fetch.stage = .finishing(status: fetchStatus, remaining: remaining, sent: sent, until: now.adding(configuration.fetchStragglers))
                groupFetches[slot] = fetch
                return true
            }
            groupFetches[slot] = nil
            let whole = finishGroupFetch(slot, fetch, status: fetchStatus, remaining: remaining, sent: sent, now: now, rng: &rng,
                                         effects: &effects)
            // More to read, or a hole to read again: at once, within the rounds of a poll.
            if fetchStatus == .ok, remaining > 0 || !whole, fetch.round < configuration.fetchRounds, let held = tracker.held {
                startGroupFetch(slot, key: fetch.mailbox.key, round: fetch.round + 1, held: held, now: now, rng: &rng, effects: &effects)
            }
            return true
        default:
            return false
        }
    }

    /// Reads what the fetch of `slot` collected and has not read (``groupBatches``), then moves
    /// the cursor (``groupFetchDone(_:_:status:remaining:sent:)``). True when
    /// the batch was whole.
    @discardableResult
    private mutating func finishGroupFetch(_ slot: GroupSlot, _ fetch: MailboxFetch, status fetchStatus: FetchStatus, remaining: UInt32,
                                           sent: UInt32, now: UnixTime, rng: inout some RandomSource,
                                           effects: inout NodeEffects<Event>) -> Bool {
        var fetch = fetch
        if !readGroupBatch(slot, now: now, rng: &rng, effects: &effects) { fetch.notStored = true }
        return groupFetchDone(slot, fetch, status: fetchStatus, remaining: remaining, sent: sent)
    }

    /// Reads the bodies collected for `slot` (``groupBatches``) in one transaction and marks them
    /// read; false when the store could not take them (they are fetched again).
    private mutating func readGroupBatch(_ slot: GroupSlot, now: UnixTime, rng: inout some RandomSource,
                                         effects: inout NodeEffects<Event>) -> Bool {
        guard let batch = groupBatches.removeValue(forKey: slot), !batch.isEmpty, let entry = groupMailboxes[slot.mailbox] else { return true }
        guard readGroupBodies(batch.map(\.body), group: entry.group, slot: slot, now: now, rng: &rng, effects: &effects) else { return false }
        if groupRead[slot, default: []].count + batch.count > Self.maxStoredSequences { groupRead[slot] = [] }
        groupRead[slot, default: []].formUnion(batch.map(\.sequence))
        return true
    }

    /// The cursor moves past the part of the batch read without a hole: up to the first message
    /// that did not come (a lost datagram) or could not be stored — nothing is deleted from a
    /// group mailbox, so the next fetch hands over the rest, from there. True when the batch was
    /// whole.
    @discardableResult
    private mutating func groupFetchDone(_ slot: GroupSlot, _ fetch: MailboxFetch, status fetchStatus: FetchStatus, remaining: UInt32,
                                         sent: UInt32) -> Bool {
        guard fetchStatus == .ok else {
            status.drop(.fetchRefused)
            return false
        }
        let (last, whole) = Self.readPrefix(fetch, remaining: remaining, sent: sent)
        if !whole { status.drop(fetch.notStored ? .fetchNotStored : .fetchIncomplete) }
        if let last, last > groupCursors[slot] ?? 0 {
            groupCursors[slot] = last
            groupRead[slot] = groupRead[slot]?.filter { $0 > last }
        }
        return whole
    }

    /// The last sequence of the longest run of a batch's first messages that all came (and
    /// were stored), each in its place (see ``acknowledgeable(_:remaining:sent:)``), and
    /// whether that run is the whole batch.
    static func readPrefix(_ fetch: MailboxFetch, remaining: UInt32, sent: UInt32) -> (last: UInt64?, whole: Bool) {
        let count = Int(sent)
        guard count > 0 else { return (nil, !fetch.notStored) }
        var places = [UInt64?](repeating: nil, count: count)
        for (sequence, after) in fetch.received {
            let place = Int(remaining) + count - 1 - Int(after)
            guard (0..<count).contains(place), places[place] == nil else { continue }
            places[place] = sequence
        }
        var last: UInt64?
        for place in places {
            guard let sequence = place, sequence > (last ?? 0) else { return (last, false) }
            last = sequence
        }
        // A message that could not be stored is among them: the cursor must not pass it.
        return fetch.notStored ? (nil, false) : (last, true)
    }

    /// One body of a group mailbox: confirms a deposit of ours, or goes to the group's session.
    /// False when the store could not take it.
    private mutating func readGroupBody(_ body: [UInt8], group: ID, waiting: Bool, slot: GroupSlot, now: UnixTime,
                                        rng: inout some RandomSource, effects: inout NodeEffects<Event>) -> Bool {
        guard waiting else { return readGroupBodies([body], group: group, slot: slot, now: now, rng: &rng, effects: &effects) }
        guard confirmOwnDeposit(body, slot: slot) else { return false }
        let (change, notStored) = messenger.receiveInvitationBody(body, group: group, now: now)
        return took(change, notStored: notStored, now: now, effects: &effects)
    }

    /// Bodies of one fetch of a group mailbox, read in one transaction — but those the session
    /// read already, from the mailbox's other relay (``groupBodiesRead``). False when the store
    /// could not take them.
    private mutating func readGroupBodies(_ bodies: [[UInt8]], group: ID, slot: GroupSlot, now: UnixTime, rng: inout some RandomSource,
                                          effects: inout NodeEffects<Event>) -> Bool {
        var fresh: [[UInt8]] = []
        var digests: [Bytes32] = []
        for body in bodies {
            guard confirmOwnDeposit(body, slot: slot) else { return false }
            let digest = SHA256.hash(body)
            guard groupBodiesRead[slot.mailbox]?.contains(digest) != true, !digests.contains(digest) else { continue }
            fresh.append(body)
            digests.append(digest)
        }
        guard !fresh.isEmpty else { return true }
        let (change, notStored) = messenger.receiveGroupBodies(fresh, group: group, now: now, rng: &rng)
        guard took(change, notStored: notStored, now: now, effects: &effects) else { return false }
        for digest in digests { groupBodiesRead[slot.mailbox, default: RecentDigests()].insert(digest) }
        return true
    }

    /// A body of ours read back at `slot`'s relay: that relay holds it. False when the store failed.
    private func confirmOwnDeposit(_ body: [UInt8], slot: GroupSlot) -> Bool {
        guard !pendingGroupDeposits.isEmpty, pendingGroupDeposits.contains(GroupDepositRecord.key(of: body)),
              let held = tracker.held else { return true }
        let relays = Set(Self.groupMailboxRelays(slot.mailbox, held: held, count: configuration.mailboxRelays).map(\.id))
        return (try? messenger.groupDepositSeen(body, at: slot.relay, of: relays)) != nil
    }

    /// What reading bodies changed: drops counted, events told, deposits and invitations due.
    private mutating func took(_ change: Messenger.GroupChange, notStored: Bool, now: UnixTime, effects: inout NodeEffects<Event>) -> Bool {
        if notStored {
            status.drop(.notStored)
            return false
        }
        for (reason, count) in change.dropped { status.drop(reason, count: count) }
        for event in change.events { effects.events.append(.client(event)) }
        if change.deposits > 0 || change.invitations > 0 {
            groupDepositDue = now
            if change.invitations > 0 { outboxDue = now }
        }
        return true
    }

    // MARK: Depositing

    /// Sends `body` to each relay of group mailbox `mailbox` but those in `skipping`, each along
    /// its own onion path.
    private mutating func sendOnce(_ body: [UInt8], to mailbox: Bytes32, skipping: Set<ID> = [], held: DirectoryTracker.Held,
                                   now: UnixTime, rng: inout some RandomSource, effects: inout NodeEffects<Event>) {
        for relay in Self.groupMailboxRelays(mailbox, held: held, count: configuration.mailboxRelays) where !skipping.contains(relay.id) {
            do {
                let (packet, entry) = try onion(body, to: MailboxAddress(relayID: relay.id, mailboxID: mailbox), held: held, now: now, rng: &rng)
                try sendOnion(packet, via: entry, freshLink: false, message: nil, now: now, rng: &rng, effects: &effects)
            } catch {
                status.drop(.sendFailed)
            }
        }
    }

    /// How long a deposit may take to reach its relays and be read back before it is sent again:
    /// a second and the mixing delays along its path and back, and with cover traffic the wait
    /// for four slots of the payload stream (the deposit's two packets, and the queue before
    /// them). Shorter, and most posts would be deposited twice over cover traffic (at λ = 2/s and
    /// μ = 50 ms it is 3.3 s; `secirc-bench groups --devnet 10 --devnet-cover balanced`).
    var groupDepositFirstRetryMs: Int64 {
        let mixing = Double(tracker.held?.directory.network.meanDelayMs ?? 0) * configuration.delayFactor * Double(configuration.pathLength)
        let slots = coverRate > 0 ? 4 / coverRate * 1_000 : 0
        return Messenger.groupDepositRetryMs + Int64((slots + 2 * mixing).rounded())
    }

    /// Sends each due deposit of the group outbox to the relays of its mailbox that have not
    /// been seen to hold it, along its own onion path, in the cover stream like any real packet.
    private mutating func sendGroupDeposits(_ held: DirectoryTracker.Held, now: UnixTime, rng: inout some RandomSource,
                                            effects: inout NodeEffects<Event>) {
        let due: [GroupDepositRecord]
        do { due = try messenger.dueGroupDeposits(now: now) } catch {
            groupDepositDue = now.adding(configuration.pollInterval)
            return effects.events.append(.problem("cannot read the group outbox: \(error)"))
        }
        for deposit in due {
            sendOnce(deposit.body, to: deposit.mailbox, skipping: deposit.confirmed, held: held, now: now, rng: &rng, effects: &effects)
            do { try messenger.groupDepositAttempted(deposit, now: now, firstRetryMs: groupDepositFirstRetryMs) } catch {
                effects.events.append(.problem("cannot update the group outbox: \(error)"))
            }
        }
        watchGroupOutbox()
    }
}
