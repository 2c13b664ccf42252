import SecIRCCore
import SecIRCCrypto

extension ClientEngine {
    /// Starts a fetch of every mailbox (or of those in `only`) that has none in progress and
    /// whose relay is listed and not down.
    mutating func pollMailboxes(_ held: DirectoryTracker.Held, only: Set<Bytes32>? = nil, now: UnixTime,
                                rng: inout some RandomSource, effects: inout NodeEffects<Event>) {
        // Due acknowledgements are taken now; one that cannot start waits for the next poll.
        for id in only ?? [] { acknowledgeDue[id] = nil }
        for mailbox in messenger.mailboxes where fetches[mailbox.address.mailboxID] == nil {
            if let only, !only.contains(mailbox.address.mailboxID) { continue }
            guard held.byID[mailbox.relayID] != nil else {
                status.drop(.mailboxRelayUnlisted)
                continue
            }
            // A relay that just failed a handshake is tried again when its time out is over.
            if down[mailbox.relayID] != nil { continue }
            startFetch(mailbox, round: 1, held: held, now: now, rng: &rng, effects: &effects)
        }
    }

    /// Asks the mailbox's relay for a challenge (the first frame of a fetch).
    private mutating func startFetch(_ mailbox: MailboxKey, round: Int, held: DirectoryTracker.Held, now: UnixTime,
                                     rng: inout some RandomSource, effects: inout NodeEffects<Event>) {
        guard let relay = held.byID[mailbox.relayID], let peer = linkPeer(relay) else { return }
        let id = mailbox.address.mailboxID
        acknowledgeDue[id] = nil
        fetches[id] = MailboxFetch(mailbox: mailbox, stage: .awaitingChallenge, started: now, round: round)
        let frame = LinkFrame.fetchChallengeRequest(mailbox: id).encoded()
        if links.send(frame, to: peer, now: now, rng: &rng, out: &effects.datagrams) == .dropped {
            fetches[id] = nil
            status.drop(.fetchFailed)
        }
    }

    /// Fetches whose stragglers did not come are finished as they are (incomplete: nothing is
    /// acknowledged); fetches that took too long failed, and their link is made again next time.
    mutating func expireFetches(now: UnixTime, rng: inout some RandomSource, effects: inout NodeEffects<Event>) {
        for id in fetches.keys.sorted(by: { $0.hex < $1.hex }) {
            guard let fetch = fetches[id] else { continue }
            if case let .finishing(fetchStatus, remaining, sent, until) = fetch.stage, now >= until {
                fetches[id] = nil
                fetchDone(fetch, status: fetchStatus, remaining: remaining, sent: sent, now: now, rng: &rng, effects: &effects)
            } else if now < fetch.started || now.duration(since: fetch.started) >= configuration.fetchTimeout {
                fetches[id] = nil
                links.reset(fetch.mailbox.relayID)
                subscribedOn[id] = nil // the link is made again: poll until a fetch subscribes it
                status.drop(.fetchFailed)
            }
        }
    }

    /// A frame from a relay: the steps of a mailbox fetch.
    mutating func handleFrame(_ frame: LinkFrame, from delivery: LinkDelivery, now: UnixTime, rng: inout some RandomSource,
                              effects: inout NodeEffects<Event>) {
        let relay = delivery.peer
        if handleGroupFrame(frame, from: delivery, now: now, rng: &rng, effects: &effects) { return }
        switch frame {
        case let .fetchChallenge(mailbox, nonce):
            guard var fetch = fetches[mailbox], fetch.mailbox.relayID == relay, case .awaitingChallenge = fetch.stage else {
                return status.drop(.strayFrame)
            }
            let ack = pendingAck[mailbox] ?? 0
            let key = fetch.mailbox.key
            planQueueOps(&fetch, now: now)
            let signature = key.sign(LinkFrame.fetchSignedBytes(relay: fetch.mailbox.relayID.rawValue, nonce: nonce, ackThrough: ack,
                                                                queueOps: fetch.queueOps))
            fetch.stage = .awaitingMessages
            fetch.session = delivery.session
            fetches[mailbox] = fetch
            let request = LinkFrame.fetchRequest(mailboxKey: key.publicKey, nonce: nonce, ackThrough: ack, signature: signature,
                                                 subscribe: configuration.push, queueOps: fetch.queueOps)
            // On the session the nonce was issued for (a rekey may have made another current).
            if !links.reply(request.encoded(), on: delivery.session, now: now, rng: &rng, out: &effects.datagrams) {
                fetches[mailbox] = nil
                status.drop(.fetchFailed)
            }
        case let .mailboxMessage(mailbox, sequence, remaining, body):
            // Mail of one of our mailboxes from its relay is stored whenever it comes, pushed or
            // fetched (the messenger drops duplicates; a copy of mail stored already is not
            // opened again); it counts towards the batch in progress, if any.
            guard messenger.mailboxes.contains(where: { $0.address.mailboxID == mailbox && $0.relayID == relay }) else {
                return status.drop(.strayFrame)
            }
            var outcome = BodyOutcome.taken
            if storedSequences[mailbox]?.contains(sequence) != true {
                outcome = receiveBody(body, now: now, rng: &rng, effects: &effects)
                if outcome == .taken { remember(sequence, storedIn: mailbox) }
            }
            guard var fetch = fetches[mailbox], fetch.mailbox.relayID == relay else {
                // Pushed (or late): stored now, acknowledged by a fetch soon (which also hands
                // over again what could not be stored).
                return acknowledgeSoon(mailbox, now: now)
            }
            switch fetch.stage {
            case .awaitingChallenge:
                return acknowledgeSoon(mailbox, now: now)
            case .awaitingMessages, .finishing:
                fetch.received.append((sequence, remaining))
                if outcome != .taken {
                    fetch.notStored = storeFailed(sequence, mailbox: mailbox, full: outcome == .storeFull) || fetch.notStored
                }
                fetches[mailbox] = fetch
            }
            if case let .finishing(fetchStatus, left, sent, _) = fetch.stage, Self.acknowledgeable(fetch, remaining: left, sent: sent) != nil {
                fetches[mailbox] = nil
                fetchDone(fetch, status: fetchStatus, remaining: left, sent: sent, now: now, rng: &rng, effects: &effects)
            }
        case let .fetchDone(mailbox, fetchStatus, remaining, sent, subscribed, queues):
            guard var fetch = fetches[mailbox], fetch.mailbox.relayID == relay, case .awaitingMessages = fetch.stage else {
                return status.drop(.strayFrame)
            }
            subscribedOn[mailbox] = fetchStatus == .ok && subscribed ? fetch.session : nil
            queuesRegistered(fetch, status: fetchStatus, reported: Int(queues), now: now)
            guard fetchStatus != .ok || fetch.notStored || Self.acknowledgeable(fetch, remaining: remaining, sent: sent) != nil else {
                fetch.stage = .finishing(status: fetchStatus, remaining: remaining, sent: sent,
                                         until: now.adding(configuration.fetchStragglers))
                fetches[mailbox] = fetch
                return
            }
            fetches[mailbox] = nil
            fetchDone(fetch, status: fetchStatus, remaining: remaining, sent: sent, now: now, rng: &rng, effects: &effects)
        case .padding:
            break
        case .sphinx, .fetchChallengeRequest, .fetchRequest, .unknown:
            status.drop(.strayFrame)
        }
    }

    /// Counts a message that could not be stored; true while it should hold its batch back
    /// (the relay hands it over again), false once it failed three times (given up on, counted).
    /// A full store always holds the batch back: the mail waits on the relay until there is room.
    private mutating func storeFailed(_ sequence: UInt64, mailbox: Bytes32, full: Bool) -> Bool {
        guard !full else { return true }
        let failures = storeFailures[mailbox, default: [:]][sequence, default: 0] + 1
        storeFailures[mailbox, default: [:]][sequence] = failures
        guard failures >= 3 else { return true }
        status.drop(.storeFailed)
        return false
    }

    /// The sequence to acknowledge when the batch is whole: every one of the `sent` messages
    /// arrived, each in its own place. A message's place follows from how many the relay said
    /// follow it (`remaining` on the message, against `remaining` and `sent` of `fetch done`);
    /// a message left over from an earlier fetch of a mailbox that changed since (late
    /// datagrams) lands outside the batch or on another's place, and does not count. Nil when
    /// the batch is not whole.
    static func acknowledgeable(_ fetch: MailboxFetch, remaining: UInt32, sent: UInt32) -> UInt64? {
        guard !fetch.notStored else { return nil }
        let count = Int(sent)
        guard count > 0 else { return 0 }
        var places = [UInt64?](repeating: nil, count: count)
        for (sequence, after) in fetch.received {
            let place = Int(remaining) + count - 1 - Int(after)
            guard (0..<count).contains(place) else { continue }
            if let held = places[place], held != sequence { return nil }
            places[place] = sequence
        }
        var last: UInt64 = 0
        for place in places {
            guard let sequence = place, sequence > last else { return nil }
            last = sequence
        }
        return last
    }

    /// Everything of the batch is stored (the messenger stored each message as it came): the
    /// next fetch acknowledges it — but only a whole batch: acknowledging past a lost datagram
    /// would delete unseen mail. (Sequence numbers are never reused, so repeating an old
    /// acknowledgement is harmless.) A mailbox that holds more is fetched again at once.
    mutating func fetchDone(_ fetch: MailboxFetch, status fetchStatus: FetchStatus, remaining: UInt32, sent: UInt32,
                            now: UnixTime, rng: inout some RandomSource, effects: inout NodeEffects<Event>) {
        guard fetchStatus == .ok else { return status.drop(.fetchRefused) }
        guard let last = Self.acknowledgeable(fetch, remaining: remaining, sent: sent) else {
            return status.drop(fetch.notStored ? .fetchNotStored : .fetchIncomplete)
        }
        let id = fetch.mailbox.address.mailboxID
        if last > 0 {
            pendingAck[id] = max(pendingAck[id] ?? 0, last)
            storeFailures[id] = storeFailures[id]?.filter { $0.key > last }
            storedSequences[id] = storedSequences[id]?.filter { $0 > last }
            // Subscribed, no poll may come for a while: a fetch soon carries the acknowledgement.
            if isSubscribed(id) { acknowledgeSoon(id, now: now) }
        }
        guard remaining > 0, fetch.round < configuration.fetchRounds, let held = tracker.held else { return }
        startFetch(fetch.mailbox, round: fetch.round + 1, held: held, now: now, rng: &rng, effects: &effects)
    }

    // MARK: Deposit queues

    /// Gives contacts that lack them their queues (``Messenger/ensureContactQueues(now:rng:)``,
    /// which queues their new cards), then fetches at once every mailbox whose relay does not
    /// hold the queues it should, so they are registered before contacts write to them.
    mutating func seeToQueues(now: UnixTime, rng: inout some RandomSource, effects: inout NodeEffects<Event>) {
        queuesDue = false
        queueGenerationSeen = messenger.queueGeneration
        guard !messenger.mailboxes.isEmpty else { return }
        do {
            if try messenger.ensureContactQueues(now: now, rng: &rng) > 0 { outboxDue = (try? messenger.nextOutboxDue()) ?? outboxDue }
            for mailbox in messenger.mailboxes {
                let id = mailbox.address.mailboxID
                if try queueSync[id] != wantedQueues(mailbox, now: now) { acknowledgeDue[id] = now }
            }
        } catch {
            effects.events.append(.problem("cannot update deposit queues: \(error)"))
        }
    }

    /// The queues `mailbox`'s relay should hold: the contacts' and our own loop queue.
    private func wantedQueues(_ mailbox: MailboxKey, now: UnixTime) throws -> Set<Bytes32> {
        try messenger.depositQueues(at: mailbox.relayID, now: now).union([mailbox.loopQueue])
    }

    /// The queue ops this fetch carries: what changed since the relay last confirmed its queues,
    /// or, when that is not known, `clear` and every queue anew — at most
    /// ``QueueOp/maximumPerFetch``; the rest go in the next fetch, at once.
    private func planQueueOps(_ fetch: inout MailboxFetch, now: UnixTime) {
        let id = fetch.mailbox.address.mailboxID
        guard let desired = try? wantedQueues(fetch.mailbox, now: now) else { return }
        let known = queueSync[id]
        var ops: [QueueOp] = known == nil ? [.clear] : []
        let closes = (known ?? []).subtracting(desired).sorted { $0.hex < $1.hex }
        let adds = desired.subtracting(known ?? []).sorted { $0.hex < $1.hex }
        ops += closes.map(QueueOp.close) + adds.map(QueueOp.add)
        fetch.moreQueueOps = ops.count > QueueOp.maximumPerFetch
        fetch.queueOps = Array(ops.prefix(QueueOp.maximumPerFetch))
        var expected = known ?? []
        for op in fetch.queueOps {
            switch op {
            case let .add(queue): expected.insert(queue)
            case let .close(queue): expected.remove(queue)
            case .clear: expected = []
            }
        }
        fetch.expectedQueues = expected
    }

    /// `fetch done` said how many queues the relay holds: as expected, the client knows them;
    /// otherwise (a relay that restarted and forgot them, a refused op) the next fetch registers
    /// them anew. More ops waiting make the next fetch due at once.
    private mutating func queuesRegistered(_ fetch: MailboxFetch, status fetchStatus: FetchStatus, reported: Int, now: UnixTime) {
        let id = fetch.mailbox.address.mailboxID
        guard fetchStatus == .ok else { return queueSync[id] = nil }
        if reported == fetch.expectedQueues.count {
            queueSync[id] = fetch.expectedQueues
            if fetch.moreQueueOps { acknowledgeDue[id] = now }
        } else {
            if queueSync[id] != nil || fetch.queueOps.first != .clear { status.drop(.queuesResynced) }
            queueSync[id] = nil
        }
    }

    /// Pushed messages waiting for their acknowledgement that make a fetch due at once.
    static var acknowledgeBatch: Int { 32 }

    /// Notes that the mail at `sequence` is stored (not yet acknowledged).
    private mutating func remember(_ sequence: UInt64, storedIn mailbox: Bytes32) {
        if storedSequences[mailbox, default: []].count >= Self.maxStoredSequences { storedSequences[mailbox] = [] }
        storedSequences[mailbox, default: []].insert(sequence)
    }

    /// Mail came outside a fetch (pushed): a fetch acknowledges it after `pushAcknowledgeDelay`
    /// (sharing that fetch with what comes meanwhile), or at once when a batch's worth waits,
    /// so a busy mailbox does not fill up on the relay.
    mutating func acknowledgeSoon(_ mailbox: Bytes32, now: UnixTime) {
        let waiting = (storedSequences[mailbox]?.count ?? 0) >= Self.acknowledgeBatch
        let due = waiting ? now : now.adding(configuration.pushAcknowledgeDelay)
        acknowledgeDue[mailbox] = min(acknowledgeDue[mailbox] ?? due, due)
    }
}
