import SecIRCCore
import SecIRCCrypto

extension RelayEngine {
    /// Nonces a session may hold at once; more requests forget the older ones.
    static var maximumNoncesPerSession: Int { 16 }
    /// Mailboxes one link session may make known (register by a first fetch).
    static var maximumNewMailboxesPerSession: Int { 8 }

    /// Answers a fetch-challenge request with a fresh nonce for that mailbox on this session.
    mutating func challenge(_ mailbox: Bytes32, session: UInt32, now: UnixTime, rng: inout some RandomSource,
                            effects: inout NodeEffects<Event>) {
        if nonces[session, default: [:]].count >= Self.maximumNoncesPerSession { nonces[session] = [:] }
        let nonce = Bytes32 { rng.fill($0) }
        nonces[session, default: [:]][mailbox] = nonce
        links.reply(LinkFrame.fetchChallenge(mailbox: mailbox, nonce: nonce).encoded(), on: session, now: now, rng: &rng,
                    out: &effects.datagrams)
    }

    /// A fetch signed by the mailbox key over (relay, nonce, ackThrough, queue ops): registers the
    /// mailbox (renews it), applies the queue ops, deletes what is acknowledged, subscribes this
    /// session to the mailbox's new mail or ends its subscription, then sends a batch of what
    /// remains and `fetch done` (with the number of queues the mailbox holds). For a group
    /// mailbox (`group`), `ackThrough` is the member's cursor: the batch is what came after it and
    /// nothing is deleted; queue ops are refused; subscriptions are one per member's session.
    mutating func fetch(key: SigningPublicKey, nonce: Bytes32, ackThrough: UInt64, signature: Signature, subscribe: Bool,
                        group: Bool = false, queueOps: [QueueOp], session: UInt32, now: UnixTime, rng: inout some RandomSource,
                        effects: inout NodeEffects<Event>) {
        let mailbox = key.id.rawValue
        func done(_ status: FetchStatus, remaining: Int, sent: Int, subscribed: Bool = false, effects: inout NodeEffects<Event>) {
            let queues = status == .ok ? UInt16(clamping: mailboxes.queues(of: mailbox)) : 0
            let frame = LinkFrame.fetchDone(mailbox: mailbox, status: status, remaining: UInt32(clamping: remaining),
                                            sent: UInt32(clamping: sent), subscribed: subscribed, queues: queues)
            links.reply(frame.encoded(), on: session, now: now, rng: &rng, out: &effects.datagrams)
        }
        guard let issued = nonces[session]?.removeValue(forKey: mailbox), issued == nonce else {
            count(.fetchDenied)
            return done(.staleNonce, remaining: 0, sent: 0, effects: &effects)
        }
        let signed = LinkFrame.fetchSignedBytes(relay: relayID.rawValue, nonce: nonce, ackThrough: ackThrough, queueOps: queueOps)
        guard (try? key.verify(signature, for: signed)) != nil else {
            count(.fetchDenied)
            return done(.denied, remaining: 0, sent: 0, effects: &effects)
        }
        if mailboxes.isKnown(mailbox) ? mailboxes.isGroup(mailbox) != group : mailboxes.isQueue(mailbox) {
            count(.wrongKind)
            return done(.wrongKind, remaining: 0, sent: 0, effects: &effects)
        }
        if !mailboxes.isKnown(mailbox) {
            // New mailboxes per link session are few for a client (one per relay); more is someone
            // filling the relay with registrations.
            guard newMailboxes[session, default: 0] < Self.maximumNewMailboxesPerSession else {
                count(.registrationLimit)
                return done(.full, remaining: 0, sent: 0, effects: &effects)
            }
            newMailboxes[session, default: 0] += 1
        }
        guard mailboxes.register(mailbox, group: group, now: now) else {
            own.mailboxDrops[.tooManyMailboxes, default: 0] += 1
            return done(.full, remaining: 0, sent: 0, effects: &effects)
        }
        for refusal in mailboxes.apply(queueOps, to: mailbox, now: now) {
            count(refusal == .queueLimit ? .queueLimit : .queueTaken)
        }
        own.mailboxDrops.merge(mailboxes.takeClaimDrops(), uniquingKeysWith: +)
        own.fetches += 1
        var subscribed = false
        if subscribe {
            subscribed = subscriptions.subscribe(mailbox, session: session, shared: group)
            if !subscribed { count(.subscriptionLimit) }
        } else if group {
            subscriptions.remove(mailbox, session: session)
        } else {
            subscriptions.remove(mailbox)
        }
        let (messages, remaining) = group ? mailboxes.fetch(mailbox, after: ackThrough, limit: configuration.fetchBatch)
            : mailboxes.fetch(mailbox, ackThrough: ackThrough, limit: configuration.fetchBatch)
        for (i, message) in messages.enumerated() {
            let left = UInt32(clamping: remaining + messages.count - i - 1)
            let frame = LinkFrame.mailboxMessage(mailbox: mailbox, sequence: message.sequence, remaining: left, body: message.body)
            links.reply(frame.encoded(), on: session, now: now, rng: &rng, out: &effects.datagrams)
        }
        done(.ok, remaining: remaining, sent: messages.count, subscribed: subscribed, effects: &effects)
    }

    /// Push delivery: the message just deposited in `mailbox` goes down each subscribed session
    /// (one, or a group mailbox's members') at once, as a `mailbox message` with nothing after it
    /// (`remaining` 0). It stays in the store until a fetch acknowledges it (or, in a group
    /// mailbox, for the TTL), as any other. A session that is gone ends its subscription.
    mutating func push(_ mailbox: Bytes32, now: UnixTime, rng: inout some RandomSource, effects: inout NodeEffects<Event>) {
        let sessions = subscriptions.sessions(for: mailbox)
        guard !sessions.isEmpty, let message = mailboxes.newest(in: mailbox) else { return }
        let frame = LinkFrame.mailboxMessage(mailbox: mailbox, sequence: message.sequence, remaining: 0, body: message.body).encoded()
        for session in sessions.sorted() {
            if links.reply(frame, on: session, now: now, rng: &rng, out: &effects.datagrams) {
                own.pushed += 1
            } else {
                subscriptions.remove(mailbox, session: session)
            }
        }
    }
}
