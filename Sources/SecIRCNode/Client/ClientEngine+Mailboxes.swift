import SecIRCCore
import SecIRCCrypto

extension ClientEngine {
    /// Starts a fetch of every mailbox that has none in progress and whose relay is listed and
    /// not down.
    mutating func pollMailboxes(_ held: DirectoryTracker.Held, now: UnixTime, rng: inout some RandomSource,
                                effects: inout NodeEffects<Event>) {
        for mailbox in messenger.mailboxes where fetches[mailbox.address.mailboxID] == nil {
            guard held.byID[mailbox.relayID] != nil else {
                status.drop("mailbox_relay_unlisted")
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
        fetches[id] = MailboxFetch(mailbox: mailbox, stage: .awaitingChallenge, started: now, round: round)
        let frame = LinkFrame.fetchChallengeRequest(mailbox: id).encoded()
        if links.send(frame, to: peer, now: now, rng: &rng, out: &effects.datagrams) == .dropped {
            fetches[id] = nil
            status.drop("fetch_failed")
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
            } else if now.duration(since: fetch.started) >= configuration.fetchTimeout {
                fetches[id] = nil
                links.reset(fetch.mailbox.relayID)
                status.drop("fetch_failed")
            }
        }
    }

    /// A frame from a relay: the steps of a mailbox fetch.
    mutating func handleFrame(_ frame: LinkFrame, from relay: ID?, now: UnixTime, rng: inout some RandomSource,
                              effects: inout NodeEffects<Event>) {
        switch frame {
        case let .fetchChallenge(mailbox, nonce):
            guard var fetch = fetches[mailbox], fetch.mailbox.relayID == relay, case .awaitingChallenge = fetch.stage else {
                return status.drop("stray_frame")
            }
            let ack = pendingAck[mailbox] ?? 0
            let key = fetch.mailbox.key
            let signature = key.sign(LinkFrame.fetchSignedBytes(relay: fetch.mailbox.relayID.rawValue, nonce: nonce, ackThrough: ack))
            fetch.stage = .awaitingMessages
            fetches[mailbox] = fetch
            let request = LinkFrame.fetchRequest(mailboxKey: key.publicKey, nonce: nonce, ackThrough: ack, signature: signature)
            links.send(request.encoded(), to: fetch.mailbox.relayID, now: now, rng: &rng, out: &effects.datagrams)
        case let .mailboxMessage(mailbox, sequence, _, body):
            // Mail of one of our mailboxes from its relay is stored whenever it comes (the
            // messenger drops duplicates); it counts towards the batch in progress, if any.
            guard messenger.mailboxes.contains(where: { $0.address.mailboxID == mailbox && $0.relayID == relay }) else {
                return status.drop("stray_frame")
            }
            if var fetch = fetches[mailbox], fetch.mailbox.relayID == relay {
                switch fetch.stage {
                case .awaitingChallenge:
                    break
                case .awaitingMessages:
                    fetch.sequences.append(sequence)
                    fetches[mailbox] = fetch
                case let .finishing(fetchStatus, remaining, sent, _):
                    fetch.sequences.append(sequence)
                    fetches[mailbox] = fetch
                    if fetch.sequences.count >= Int(sent) {
                        fetches[mailbox] = nil
                        receiveBody(body, now: now, rng: &rng, effects: &effects)
                        return fetchDone(fetch, status: fetchStatus, remaining: remaining, sent: sent, now: now, rng: &rng,
                                         effects: &effects)
                    }
                }
            }
            receiveBody(body, now: now, rng: &rng, effects: &effects)
        case let .fetchDone(mailbox, fetchStatus, remaining, sent):
            guard var fetch = fetches[mailbox], fetch.mailbox.relayID == relay, case .awaitingMessages = fetch.stage else {
                return status.drop("stray_frame")
            }
            guard fetchStatus != .ok || fetch.sequences.count >= Int(sent) else {
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
            status.drop("stray_frame")
        }
    }

    /// Everything of the batch is stored (the messenger stored each message as it came): the
    /// next fetch acknowledges it — but only a whole batch: acknowledging past a lost datagram
    /// would delete unseen mail. (Sequence numbers are never reused, so repeating an old
    /// acknowledgement is harmless.) A mailbox that holds more is fetched again at once.
    mutating func fetchDone(_ fetch: MailboxFetch, status fetchStatus: FetchStatus, remaining: UInt32, sent: UInt32,
                                    now: UnixTime, rng: inout some RandomSource, effects: inout NodeEffects<Event>) {
        guard fetchStatus == .ok else { return status.drop("fetch_refused") }
        guard fetch.sequences.count == Int(sent) else { return status.drop("fetch_incomplete") }
        let id = fetch.mailbox.address.mailboxID
        if let last = fetch.sequences.max() { pendingAck[id] = max(pendingAck[id] ?? 0, last) }
        guard remaining > 0, fetch.round < configuration.fetchRounds, let held = tracker.held else { return }
        startFetch(fetch.mailbox, round: fetch.round + 1, held: held, now: now, rng: &rng, effects: &effects)
    }
}
