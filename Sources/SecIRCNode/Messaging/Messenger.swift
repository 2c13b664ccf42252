public import SecIRCCore
public import SecIRCCrypto
import SecIRCLock
import Synchronization

/// The end-to-end messaging rules over a ``MessengerStore``, with no network, clock or system
/// randomness: contacts from invites, PQXDH-style session set-up, the Double Ratchet, the outbox
/// with backoff, receipts and de-duplication, the choice between simultaneous set-ups, refusal
/// of replayed set-ups, removed contacts, contact-card updates, mailbox choice and replacement,
/// the prekey ring, contact requests (consent) and the limit on new contacts per hour.
///
/// Time (`now`) and randomness (`rng`) are arguments. Every state change is one store
/// transaction, so a crash at any point loses nothing that was acknowledged (to the API caller
/// or to the relay). Safe to call from several threads: the store serialises transactions.
public final class Messenger: Sendable {
    /// The longest text message, in UTF-8 bytes.
    public static let maximumTextBytes = 16 * 1024
    /// How long an invite is valid.
    public static let inviteLifetimeSeconds: Int64 = 7 * 24 * 3600
    /// An invite is made again when it is this close to expiring.
    public static let inviteRenewalSeconds: Int64 = 86_400
    /// New contacts accepted from incoming session set-ups per hour, at most.
    public static let maximumNewContactsPerHour = 20

    public let store: any MessengerStore
    public let identity: ClientIdentity
    /// Sent in contact cards and invites; empty for none.
    public let displayName: String
    public let retry: RetrySchedule
    /// Contact requests: whether set-ups from unknown identities wait for the user, and bounds.
    public let policy: ContactPolicy
    /// Contacts that started their own session, per hour (``ContactPolicy/newContactLimit``).
    public var newContactLimit: NewContactLimit { policy.newContactLimit }
    /// A copy of the store's mailbox keys (read on every turn of the network loop). Lock order:
    /// this lock, then the store's; never call `mailboxes` inside a store transaction.
    let mailboxKeys: Locked<[MailboxKey]>
    /// Duplicates already acknowledged once (see ``DuplicateReceipts``). Taken outside store
    /// transactions only.
    let duplicateReceipts = Locked(DuplicateReceipts())
    /// Counts the committed changes to contacts' deposit queues (added or removed contacts, new
    /// sessions, rotations, closings, replaced mailboxes): the network engine compares it on each
    /// turn to see to the queues' registration, whoever made the change.
    let queueChanges = Atomic<UInt64>(0)

    /// Counts changes to groups (a new epoch, a group joined or left, deposits queued): the
    /// network engine reads the group mailboxes to fetch and the group outbox again when it moves.
    let groupChanges = Atomic<UInt64>(0)
    /// Each group's session as last saved or read, with the record's state tag then: while the
    /// stored record has that tag, the stored parts are that session's (it is not decoded again,
    /// and a save writes only the parts that differ from it). Taken inside store transactions
    /// only (after the store's lock); a transaction that rolled back left another tag in the
    /// store, so its entry is not used.
    let groupSessions = Locked<[ID: (tag: UInt64, session: GroupSession)]>([:])
    /// Invitations that came as a ticket alone, each waiting for its snapshot from the group
    /// mailbox (``GroupSnapshotWait``): in memory, made again from the stored ticket after a start.
    let groupSnapshotWaits = Locked<[ID: SnapshotWaitEntry]>([:])
    /// What this client deposited again in each group's mailboxes to answer requests, and when
    /// (``GroupAnswerLog``: an item at most once a minute per mailbox). In memory.
    let groupAnswerLogs = Locked<[ID: GroupAnswerLog]>([:])
    /// Catching up with groups that moved on (§7.10): when an admin was last heard in each
    /// group's current epoch, the questions asked and to answer, the answers to take. In memory.
    let groupCatchUps = Locked(GroupCatchUps())

    /// The number of group changes so far (see `groupChanges`).
    public var groupGeneration: UInt64 { groupChanges.load(ordering: .acquiring) }

    func groupsChanged() { groupChanges.add(1, ordering: .releasing) }

    /// The number of committed changes to deposit queues so far (see `queueChanges`).
    public var queueGeneration: UInt64 { queueChanges.load(ordering: .acquiring) }

    func queuesChanged() { queueChanges.add(1, ordering: .releasing) }

    /// Opens the messenger over `store`, making the identity with `rng` on first use. `policy`
    /// says whether set-ups from unknown identities become contact requests (``ContactPolicy/ask``)
    /// or contacts at once (``ContactPolicy/autoAccept``).
    public init(store: any MessengerStore, displayName: String, retry: RetrySchedule, policy: ContactPolicy,
                rng: inout some RandomSource) throws {
        self.store = store
        self.displayName = displayName
        self.retry = retry
        self.policy = policy
        let (identity, keys) = try store.write { tx in
            if let identity = try tx.identity() { return (identity, try tx.mailboxKeys()) }
            let identity = ClientIdentity(keys: SessionSetup.Identity(using: &rng))
            try tx.setIdentity(identity)
            return (identity, try tx.mailboxKeys())
        }
        self.identity = identity
        mailboxKeys = Locked(keys)
    }

    // MARK: Mailboxes

    /// The mailboxes this client owns, in the order chosen.
    public var mailboxes: [MailboxKey] { mailboxKeys.withLock { $0 } }

    /// Chooses this client's mailbox relays from a verified directory: up to `count`, topped up
    /// when the directory grows (a young network may list one relay at first); chosen ones are
    /// kept. Throws `notReady` when there are none and the directory lists no mailbox relay.
    /// `ratings`: what the first ring granted each relay (`DirectoryTracker.Held.ratings`): only
    /// relays it flagged `mailbox` are chosen, by weight — never by what a descriptor claims.
    public func chooseMailboxes(from relays: [RelayDescriptor], ratings: [ID: RelayRating], count: Int,
                                rng: inout some RandomSource) throws -> [MailboxKey] {
        try mailboxKeys.withLock { current in
            let chosen = try Self.toppedUp(current, from: relays, ratings: ratings, count: count, rng: &rng)
            guard chosen.count > current.count else { return current }
            try store.write { tx in try tx.setMailboxKeys(chosen) }
            current = chosen
            return chosen
        }
    }

    /// Gives up the mailboxes at `relays` (gone from the directory for a long while), chooses
    /// others from `listed`, gives every contact a queue at each new one and tells it with a
    /// signed contact card naming its queues (through the outbox, like any message), all in one
    /// transaction. Returns the new mailboxes.
    public func replaceMailboxes(at relays: Set<ID>, listed: [RelayDescriptor], ratings: [ID: RelayRating], count: Int,
                                 now: UnixTime, rng: inout some RandomSource) throws -> [MailboxKey] {
        try mailboxKeys.withLock { current in
            let kept = current.filter { !relays.contains($0.relayID) }
            guard kept.count < current.count else { return current }
            let chosen = try Self.toppedUp(kept, from: listed.filter { !relays.contains($0.id) }, ratings: ratings, count: count, rng: &rng)
            try store.write { tx in
                try tx.setMailboxKeys(chosen)
                let all = try tx.contactQueues()
                for contact in try tx.contacts() {
                    let queues = all.filter { $0.contact == contact.id && !relays.contains($0.relayID) }
                    // A request gets no queues and no card until it is accepted.
                    if contact.isRequest { continue }
                    // A contact whose queues were closed is not told (it keeps the introduction address).
                    if queues.contains(where: { $0.state == .closed }) {
                        try tx.setContactQueues(queues, of: contact.id)
                        continue
                    }
                    let updated = Self.withQueues(queues, contact: contact.id, at: chosen, now: now, rng: &rng)
                    try tx.setContactQueues(updated, of: contact.id)
                    try queueCardUpdate(tx, to: contact.id, queues: updated, mailboxes: chosen, now: now, rng: &rng)
                }
            }
            queuesChanged()
            current = chosen
            return chosen
        }
    }

    /// `current` and, when it has fewer than `count`, new keys at mailbox relays of `relays` it
    /// does not use yet, drawn by the first ring's weights among the relays it flagged `mailbox`.
    static func toppedUp(_ current: [MailboxKey], from relays: [RelayDescriptor], ratings: [ID: RelayRating], count: Int,
                         rng: inout some RandomSource) throws(MessengerError) -> [MailboxKey] {
        guard current.count < count else { return current }
        let used = Set(current.map(\.relayID))
        let candidates = relays.filter { ratings[$0.id]?.has("mailbox") == true && !used.contains($0.id) }
        let added = PathSelector.weightedPrefix(of: candidates, count: count - current.count, weight: { Self.mailboxWeight($0, ratings) }, rng: &rng)
            .map { MailboxKey(relayID: $0.id, key: SigningPrivateKey(using: &rng)) }
        if added.isEmpty, current.isEmpty { throw .notReady("the directory lists no mailbox relays") }
        return current + added
    }

    /// A mailbox relay's chance of being chosen: the ring's weight, times the room its
    /// descriptor says its mailbox store has left (`load` 90% → a tenth; full counts as 5%).
    public static func mailboxWeight(_ relay: RelayDescriptor, _ ratings: [ID: RelayRating]) -> Int {
        let weight = ratings[relay.id]?.weight ?? 1
        let room = max(100 - min(max(relay.load ?? 0, 0), 100), 5)
        return max(1, weight * room / 100)
    }

    // MARK: Invite and card

    /// This client's invite, made again (with a fresh pair of prekeys from `rng`) when it is
    /// within ``inviteRenewalSeconds`` of expiring or the mailboxes changed.
    public func invite(now: UnixTime, rng: inout some RandomSource) throws -> Invite {
        let addresses = mailboxes.map(\.address)
        guard !addresses.isEmpty else { throw MessengerError.notReady("no verified directory yet: mailbox relays are not chosen") }
        return try store.write { tx in
            if let uri = try tx.inviteURI(),
               let invite = try? Invite.parse(uri: uri, now: now.adding(.seconds(Self.inviteRenewalSeconds))),
               invite.mailboxes == addresses {
                return invite
            }
            let expiry = now.seconds + Self.inviteLifetimeSeconds
            var ring = try tx.prekeyRing()
            let prekeys = ring.rotate(expiry: expiry, now: now, rng: &rng)
            try tx.setPrekeyRing(ring)
            let invite = try SessionSetup.makeInvite(identity: identity.keys, prekeys: prekeys, mailboxes: addresses,
                                                     expiry: UInt64(expiry), displayNameHint: displayName.isEmpty ? nil : displayName)
            try tx.setInviteURI(invite.uri)
            return invite
        }
    }

    /// A one-time invite: like ``invite(now:rng:)``, but with a fresh pair of prekeys of its own
    /// that answers one session set-up and is then removed. Whoever answers it is the person the
    /// user invited: a contact at once (no contact request), not counted against the hourly limit
    /// for strangers. Give it to one person. At most ``PrekeyRing/maximumOneTimeEntries`` wait
    /// unanswered (the oldest stop working first); each expires like the long-lived invite.
    public func oneTimeInvite(now: UnixTime, rng: inout some RandomSource) throws -> Invite {
        let addresses = mailboxes.map(\.address)
        guard !addresses.isEmpty else { throw MessengerError.notReady("no verified directory yet: mailbox relays are not chosen") }
        return try store.write { tx in
            let expiry = now.seconds + Self.inviteLifetimeSeconds
            var ring = try tx.prekeyRing()
            let prekeys = ring.rotate(expiry: expiry, now: now, oneTime: true, rng: &rng)
            try tx.setPrekeyRing(ring)
            return try SessionSetup.makeInvite(identity: identity.keys, prekeys: prekeys, mailboxes: addresses,
                                               expiry: UInt64(expiry), displayNameHint: displayName.isEmpty ? nil : displayName)
        }
    }

    /// Our contact card, signed, naming `addresses` (one contact's queues, ``card(for:mailboxes:now:)``).
    func card(now: UnixTime, addresses: [MailboxAddress]) throws(MessengerError) -> ContactCard {
        do {
            return try ContactCard(signingWith: identity.keys.signing, agreementKey: identity.agreementKey,
                                   created: UInt64(max(now.seconds, 0)), mailboxes: addresses,
                                   displayName: displayName.isEmpty ? nil : displayName)
        } catch {
            throw .notReady("cannot make a contact card: \(error)")
        }
    }

    static func associatedData(initiator: AgreementPublicKey, initiatorKey: SigningPublicKey,
                               responder: AgreementPublicKey, responderKey: SigningPublicKey) -> [UInt8] {
        SessionSetup.associatedData(initiator: initiator, initiatorKey: initiatorKey, responder: responder, responderKey: responderKey)
    }
}
