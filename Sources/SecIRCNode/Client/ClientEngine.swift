public import SecIRCCore
public import SecIRCCrypto
public import SecIRCTransport

/// A client's network side as a state machine (``NodeEngine``): it keeps a verified directory
/// (``DirectoryTracker``), chooses mailbox relays, fetches the mailboxes over anonymous links
/// (``LinkManager``), hands what arrives to the ``Messenger`` (which stores it before anything
/// is acknowledged), sends what the outbox says is due and the receipts along 3-hop onion paths,
/// and keeps the client's sending times a Poisson process with cover traffic (Loopix): real
/// packets take the place of cover packets.
///
/// It never blocks: a mailbox fetch is a little exchange of frames that the engine follows as
/// they arrive (`+Mailboxes`), the directory comes through ``FetchRequest``s, and handshakes
/// happen inside the link manager. Stages in files: `+Mailboxes`, `+Receiving`, `+Sending`.
public struct ClientEngine: NodeEngine {
    public struct Configuration: Sendable {
        /// The first ring whose signatures make a directory usable.
        public var roster: Roster
        /// Base URLs to fetch the directory from.
        public var bootstrapURLs: [String]
        public var pathLength = 3
        public var mailboxRelays = 2
        /// Multiplier of the directory's cover rate λ (0: no cover traffic).
        public var coverRateFactor = 1.0
        /// Multiplier of the directory's mean per-hop delay μ (0: no mixing delay).
        public var delayFactor = 1.0
        /// How often the mailboxes are fetched while one of them has no push subscription.
        public var pollInterval: Duration = .seconds(1)
        /// Push delivery: every fetch subscribes its link session to the mailbox's new mail,
        /// which the relay then sends at once (docs/PROTOCOL.md §4, Mailbox fetch).
        public var push = true
        /// How often the mailboxes are fetched while every one is subscribed (a lost push, a
        /// relay that restarted and forgot the subscription, are found then). Below the 60 s
        /// between a link's rekey and the end of its old session, so a rekeyed link is
        /// subscribed again before the old one goes.
        public var pushPollInterval: Duration = .seconds(10)
        /// Pushed mail is acknowledged by a fetch this long after it came (more pushes meanwhile
        /// share that fetch), or at once when a batch's worth (`fetchBatch`) is waiting.
        public var pushAcknowledgeDelay: Duration = .seconds(10)
        /// A mailbox fetch not finished after this long failed (its link is made again).
        public var fetchTimeout: Duration = .seconds(2)
        /// Fetches in a row while a mailbox still holds more.
        public var fetchRounds = 8
        /// How long the rest of a batch may trail its `fetch done` (reordered datagrams).
        public var fetchStragglers: Duration = .milliseconds(250)
        /// A relay whose handshake failed is left out of paths and fetches this long.
        public var downTime: Duration = .seconds(30)
        /// A mailbox relay missing from the directory this long is replaced (a restarting relay
        /// is missing for a period or two).
        public var mailboxReplaceAfter: Duration = .seconds(600)
        /// Real packets waiting for a cover slot before they are sent at once instead.
        public var pacedCapacity = 4096
        public var links: LinkManager.Configuration = .client

        public init(roster: Roster, bootstrapURLs: [String]) {
            self.roster = roster
            self.bootstrapURLs = bootstrapURLs
        }
    }

    /// Requests from outside the loop.
    public enum Command: Sendable {
        /// The outbox changed (a message was queued, a contact added): look at it now.
        case outboxChanged
    }

    /// Commands have nothing to answer.
    public struct Reply: Sendable, Equatable {}

    /// What the engine reports to its process.
    public enum Event: Sendable {
        /// From the messenger: a message, a receipt, a contact (for `GET /v1/events`).
        case client(ClientEvent)
        /// A fetched directory was not used.
        case directoryRefused(DirectoryTracker.Refusal)
        /// A fetched directory was verified and is now in use: saved for the next start
        /// (``restore(cachedDirectory:now:)``).
        case directoryInstalled(SignedDocument)
        /// The roster in force changed (the client followed roster changes, docs/PROTOCOL.md
        /// §3.5): the changes in force since the configured roster, saved for the next start
        /// (``restore(rosterChanges:)``).
        case rosterChanged(RosterChain)
        /// Mailbox relays gone from the directory were replaced; contacts are told by card update.
        case mailboxesReplaced(Int)
        /// Something the operator may want in the log (never message contents or addresses).
        case problem(String)
        /// A session set-up or message was refused (its counter's label, ``ReceiveDropReason``,
        /// e.g. `request_limit` or `undecryptable`): logged at info, without identities.
        case refused(String)
    }

    /// One mailbox fetch in progress.
    struct MailboxFetch: Sendable {
        enum Stage: Sendable {
            case awaitingChallenge
            case awaitingMessages
            /// `fetch done` arrived before some of the batch (datagrams may be reordered): the
            /// rest may still come until `until`.
            case finishing(status: FetchStatus, remaining: UInt32, sent: UInt32, until: UnixTime)
        }

        var mailbox: MailboxKey
        var stage: Stage
        var started: UnixTime
        var round: Int
        /// The link session the challenge came on: the signed request goes back on it (the
        /// relay's nonce belongs to that session).
        var session: UInt32?
        /// The batch's messages as they came: sequence, and how many the relay said follow it.
        var received: [(sequence: UInt64, remaining: UInt32)] = []
        /// A message of the batch could not be stored: the batch must not be acknowledged.
        var notStored = false
        /// The queue ops the request carried, the queues the relay holds once they are applied,
        /// and whether more ops wait (the next fetch goes at once).
        var queueOps: [QueueOp] = []
        var expectedQueues: Set<Bytes32> = []
        var moreQueueOps = false
    }

    /// A real packet waiting for the next slot of the cover stream.
    struct Paced: Sendable {
        enum Content: Sendable {
            /// Wrapped for its path when it was queued.
            case packet([UInt8], entry: RelayDescriptor, freshLink: Bool)
            /// A receipt to `contact`, encrypted and wrapped when its slot comes: receipts to the
            /// same contact made while it waits join it (one slot, not one each), and an ID
            /// already in it is not acknowledged twice.
            case receipt(contact: ID, ids: [MessageID])
        }

        var content: Content
        /// The outgoing message this is a fragment of (`pacedMessages` counts them).
        var message: MessageID?
    }

    public let configuration: Configuration
    public let messenger: Messenger
    var links: LinkManager
    var tracker: DirectoryTracker
    var reassembler = Reassembler()
    /// Whole messages of several fragments that the store could not take, by transfer: their
    /// earlier fragments were acknowledged, so only this copy is left. Tried again when the
    /// relay hands over the held-back fragment again (at most `maxUnstored`, oldest dropped
    /// and counted `unstored_evicted`).
    var unstored: [MessageID: [UInt8]] = [:]
    var unstoredOrder: [MessageID] = []
    static var maxUnstored: Int { 64 }
    /// In-progress fetches by mailbox ID.
    var fetches: [Bytes32: MailboxFetch] = [:]
    /// Per mailbox: the highest sequence stored since the last fetch, acknowledged by the next.
    var pendingAck: [Bytes32: UInt64] = [:]
    /// Per mailbox: the link session on which its relay last said it pushes new mail (`fetch
    /// done`, subscribed). Live only while that session is.
    var subscribedOn: [Bytes32: UInt32] = [:]
    /// Per mailbox: sequences of mail stored and not yet acknowledged. A copy that comes again
    /// (a pushed message in the next fetch's batch) is counted, not opened again. Bounded.
    var storedSequences: [Bytes32: Set<UInt64>] = [:]
    static var maxStoredSequences: Int { 4096 }
    /// Per mailbox: when a fetch is due to acknowledge the mail pushed since the last one.
    var acknowledgeDue: [Bytes32: UnixTime] = [:]
    /// Per mailbox: how often the message at a sequence could not be stored (after three
    /// times it is given up on, counted, so one bad message cannot hold a mailbox forever).
    var storeFailures: [Bytes32: [UInt64: Int]] = [:]
    /// Per mailbox: the deposit queues its relay holds, as far as this client knows (none: not
    /// known — after a start, or when the relay reported another count — so the next fetch
    /// clears them and registers them anew).
    var queueSync: [Bytes32: Set<Bytes32>] = [:]
    /// Contacts may lack queues, or the queues may have changed: see to both on the next tick.
    var queuesDue = true
    /// The messenger's `queueGeneration` the queues were last seen to at.
    var queueGenerationSeen: UInt64 = 0
    /// When every mailbox was last polled (nil: not yet, or the clock stepped back).
    var lastPoll: UnixTime?
    var down: [ID: UnixTime] = [:]
    var unlistedSince: [ID: UnixTime] = [:]
    var outboxDue: UnixTime?
    /// The next slot of the payload stream (λ) and of the loop stream (λ_L).
    var nextCover: UnixTime?
    var nextLoop: UnixTime?
    var paced: [Paced] = []
    var pacedHead = 0
    /// Per outgoing message: its fragments waiting in `paced` (it is not sent again meanwhile).
    var pacedMessages: [MessageID: Int] = [:]
    /// Without cover traffic: the message IDs to acknowledge at the end of this turn, by contact
    /// (in the order the contacts came).
    var receipts: [ID: [MessageID]] = [:]
    var receiptOrder: [ID] = []
    /// Groups (`+Groups`): the group mailboxes to fetch, by ID, with their group and key (read
    /// again whenever the messenger's `groupGeneration` moves).
    var groupMailboxes: [Bytes32: (group: ID, key: SigningPrivateKey, waiting: Bool)] = [:]
    var groupGenerationSeen: UInt64?
    /// Per group mailbox and relay: the fetch in progress, the cursor (the highest sequence of
    /// a whole batch read), sequences read above it, and the session it is pushed on.
    var groupFetches: [GroupSlot: MailboxFetch] = [:]
    var groupCursors: [GroupSlot: UInt64] = [:]
    var groupRead: [GroupSlot: Set<UInt64>] = [:]
    /// Bodies a fetch in progress collected, read together when it ends.
    var groupBatches: [GroupSlot: [(sequence: UInt64, body: [UInt8], at: UnixTime)]] = [:]
    var groupSubscribedOn: [GroupSlot: UInt32] = [:]
    /// Per group mailbox: SHA-256 of the bodies the session read, so that the copy fetched from
    /// the mailbox's other relay is not opened, verified and saved again (at 1,000 members that
    /// halves the cost of every epoch's chains).
    var groupBodiesRead: [Bytes32: RecentDigests] = [:]
    var lastGroupPoll: UnixTime?
    /// When the group outbox is due next, and when each group is asked for what this member
    /// misses (the first time after a start forced, §7.10).
    var groupDepositDue: UnixTime?
    var nextGroupResend: UnixTime?
    var groupResendForced = false
    /// Keys (``GroupDepositRecord/key``) of the bodies waiting in the group outbox (read back from
    /// a mailbox, they are confirmed).
    var pendingGroupDeposits: Set<Bytes32> = []
    /// When a retry last made the link to each entry relay again (``freshLinkInterval``).
    var lastFreshLink: [ID: UnixTime] = [:]
    static var freshLinkInterval: Duration { .seconds(10) }
    /// What `GET /v1/network` reports (the loop publishes it after each turn).
    public internal(set) var status = ClientNetworkStatus()

    /// ``status`` with the link layer's drops added under their labels (``LinkDropReason``, the
    /// same as a relay's link layer): what `GET /v1/network` shows.
    public var networkStatus: ClientNetworkStatus {
        var shown = status
        if shown.roster == nil { shown.roster = tracker.roster }
        for (reason, count) in links.counters.dropped where count > 0 { shown.dropped[reason.rawValue, default: 0] += count }
        return shown
    }
    var nextFetchID: UInt64 = 1
    var nextHousekeeping: UnixTime
    /// The directory's relays as link peers, their numeric addresses read when the directory is installed.
    var linkPeers: [ID: LinkPeer] = [:]
    /// When lost mailbox relays are looked for next (and at once after a new directory).
    var nextMailboxCheck: UnixTime
    /// A directory valid at the last tick is held.
    var directoryUsable = false
    /// The directory serial for which choosing mailbox relays failed (not tried again for it).
    var chooseMailboxesFailedFor: UInt64?

    /// - Parameter messenger: the end-to-end rules over the client's store (shared with the
    ///   API, which queues messages and adds contacts; then it sends ``Command/outboxChanged``).
    public init(configuration: Configuration, messenger: Messenger, now: UnixTime, rng: inout some RandomSource) {
        self.configuration = configuration
        self.messenger = messenger
        links = LinkManager(configuration: configuration.links, now: now, rng: &rng)
        tracker = DirectoryTracker(roster: configuration.roster, sources: configuration.bootstrapURLs)
        nextHousekeeping = now
        nextMailboxCheck = now
    }

    // MARK: NodeEngine

    /// After a restart: the roster changes the client followed before (its last
    /// ``Event/rosterChanged(_:)``), each checked again along the chain from the configured
    /// roster; the first that does not continue it ends the list. Call before
    /// ``restore(cachedDirectory:now:rng:)``, whose directory the roster in force signed.
    public mutating func restore(rosterChanges changes: [SignedDocument]) {
        for change in changes { guard (try? tracker.adoptRosterChange(change)) != nil else { break } }
        status.roster = tracker.roster
    }

    /// After a restart: the directory the client saved (its last ``Event/directoryInstalled(_:)``),
    /// used when the trusted roster signed it and it is still valid — its relays are linked at
    /// once and asked for a newer one when every configured source fails. Call before `start`.
    /// Throws (the client then starts without one) when the document is refused.
    public mutating func restore(cachedDirectory document: SignedDocument, now: UnixTime, rng: inout some RandomSource)
        throws(DirectoryTracker.Refusal) {
        try tracker.restore(cached: document, now: now)
        directoryInstalled(now: now, rng: &rng)
    }

    @_specialize(where R == AnyRandomSource)
    public mutating func start<R: RandomSource>(now: UnixTime, rng: inout R, effects: inout NodeEffects<Event>) {
        outboxDue = try? messenger.nextOutboxDue()
        tick(now: now, rng: &rng, effects: &effects)
    }

    @_specialize(where R == AnyRandomSource)
    public mutating func receive<R: RandomSource>(_ bytes: [UInt8], from address: SocketAddress, now: UnixTime, rng: inout R,
                                 effects: inout NodeEffects<Event>) {
        guard let delivery = links.receive(bytes, from: address, now: now, rng: &rng, out: &effects.datagrams) else { return }
        guard let frame = try? LinkFrame.decode(delivery.frame) else { return status.drop(.malformedFrame) }
        handleFrame(frame, from: delivery, now: now, rng: &rng, effects: &effects)
    }

    @_specialize(where R == AnyRandomSource)
    public mutating func fetched<R: RandomSource>(_ response: FetchResponse, now: UnixTime, rng: inout R,
                                 effects: inout NodeEffects<Event>) {
        switch tracker.received(response, now: now) {
        case .installed:
            directoryInstalled(now: now, rng: &rng)
            if let held = tracker.held { effects.events.append(.directoryInstalled(held.document)) }
        case let .refused(reason):
            switch reason {
            case .unreachable: break
            case .untrustedServer(_, .pinMismatch): status.drop(.directoryPinMismatch)
            case .untrustedServer: status.drop(.directoryCertificateRefused)
            case .lookupFailed: status.drop(.directoryLookupFailed)
            case .brokenChain: status.drop(.directoryChainBroken)
            case .invalid, .older: status.drop(.directoryRefused)
            }
            effects.events.append(.directoryRefused(reason))
        case .unchanged, .notMine:
            break
        }
        if status.roster != tracker.roster { // roster changes it followed
            status.roster = tracker.roster
            effects.events.append(.rosterChanged(tracker.chain))
        }
        tick(now: now, rng: &rng, effects: &effects)
    }

    @_specialize(where R == AnyRandomSource)
    public mutating func handle<R: RandomSource>(_ command: Command, now: UnixTime, rng: inout R,
                                effects: inout NodeEffects<Event>) -> Reply {
        switch command {
        case .outboxChanged:
            outboxDue = (try? messenger.nextOutboxDue()) ?? outboxDue
            groupGenerationSeen = nil // a group may have been made, joined or changed: read them again
            tick(now: now, rng: &rng, effects: &effects)
        }
        return Reply()
    }

    @_specialize(where R == AnyRandomSource)
    public mutating func tick<R: RandomSource>(now: UnixTime, rng: inout R, effects: inout NodeEffects<Event>) {
        pullBackDeadlines(now: now)
        // A DNS lookup and a directory fetch may both be due.
        while let request = tracker.fetchIfDue(now: now, id: nextFetchID) {
            nextFetchID += 1
            effects.fetches.append(request)
        }
        for relay in links.tick(now: now, rng: &rng, out: &effects.datagrams) { relayFailed(relay, now: now, reason: .sendFailed) }
        if now >= nextHousekeeping {
            status.drop(.transferExpired, count: reassembler.expire(now: now))
            down = down.filter { $0.value > now }
            status.linked = links.linkedPeers
            // Often while fragments wait or relays are down; else with the mailbox check (an
            // idle client wakes for nothing else).
            let busy = reassembler.pendingTransfers > 0 || !down.isEmpty
            nextHousekeeping = now.adding(busy ? Self.housekeepingInterval : Self.idleHousekeepingInterval)
        }
        directoryUsable = tracker.isValid(at: now)
        if let held = tracker.held, directoryUsable {
            if now >= nextMailboxCheck {
                nextMailboxCheck = now.adding(Self.idleHousekeepingInterval)
                replaceLostMailboxes(held, now: now, rng: &rng, effects: &effects)
            }
            if messenger.mailboxes.count < configuration.mailboxRelays, chooseMailboxesFailedFor != held.directory.serial {
                do { _ = try messenger.chooseMailboxes(from: held.descriptors, ratings: held.ratings, count: configuration.mailboxRelays,
                                                       rng: &rng) } catch {
                    // Once per directory: the next one may list mailbox relays.
                    chooseMailboxesFailedFor = held.directory.serial
                    effects.events.append(.problem("cannot choose mailbox relays: \(error)"))
                }
                queuesDue = true
            }
            if messenger.queueGeneration != queueGenerationSeen { queuesDue = true }
            if queuesDue { seeToQueues(now: now, rng: &rng, effects: &effects) }
            expireFetches(now: now, rng: &rng, effects: &effects)
            if now >= nextPoll {
                lastPoll = now
                pollMailboxes(held, now: now, rng: &rng, effects: &effects)
            } else {
                let due = acknowledgeDue.filter { $0.value <= now && fetches[$0.key] == nil }
                if !due.isEmpty { pollMailboxes(held, only: Set(due.keys), now: now, rng: &rng, effects: &effects) }
            }
            if let due = outboxDue, due <= now { sendDueOutbox(held, now: now, rng: &rng, effects: &effects) }
            tickGroups(held, now: now, rng: &rng, effects: &effects)
            sendCover(held, now: now, rng: &rng, effects: &effects)
        }
        if !receiptOrder.isEmpty {
            if let held = tracker.held { sendReceipts(held, now: now, rng: &rng, effects: &effects) } else { receipts = [:]; receiptOrder = [] }
        }
    }

    public var nextDeadline: UnixTime? {
        // Receipts made in this turn leave at its end (the loop ticks when a deadline has passed).
        if !receiptOrder.isEmpty { return UnixTime(nanoseconds: 0) }
        var next = nextHousekeeping
        if let links = links.nextDeadline { next = min(next, links) }
        if let fetch = tracker.nextDeadline { next = min(next, fetch) }
        // Without a usable directory nothing is sent or fetched: only its fetch is due.
        guard directoryUsable else { return next }
        next = min(next, nextPoll, nextMailboxCheck)
        // An acknowledgement waits while its mailbox's fetch is in progress (that fetch's own
        // deadlines stand).
        for (mailbox, due) in acknowledgeDue where fetches[mailbox] == nil { next = min(next, due) }
        if let due = outboxDue { next = min(next, due) }
        if let groups = nextGroupDeadline { next = min(next, groups) }
        if let cover = nextCover { next = min(next, cover) }
        if let loop = nextLoop { next = min(next, loop) }
        for fetch in fetches.values {
            next = min(next, fetch.started.adding(configuration.fetchTimeout))
            if case let .finishing(_, _, _, until) = fetch.stage { next = min(next, until) }
        }
        return next
    }

    /// How often fragments, down relays and the linked set are looked at.
    static var housekeepingInterval: Duration { .seconds(5) }
    /// How often housekeeping and the look for lost mailbox relays run when nothing waits.
    static var idleHousekeepingInterval: Duration { .seconds(30) }

    /// After the wall clock stepped back, a timer set from the old time would wait for the
    /// whole step: polling and cover traffic must not stop (silent cover shows the client).
    private mutating func pullBackDeadlines(now: UnixTime) {
        if let last = lastPoll, last > now { lastPoll = nil }
        if let last = lastGroupPoll, last > now { lastGroupPoll = nil }
        if let resend = nextGroupResend, resend.duration(since: now) > Self.groupResendInterval { nextGroupResend = now }
        for (id, due) in acknowledgeDue where due.duration(since: now) > configuration.pushAcknowledgeDelay { acknowledgeDue[id] = now }
        if nextHousekeeping.duration(since: now) > Self.idleHousekeepingInterval { nextHousekeeping = now }
        if nextMailboxCheck.duration(since: now) > Self.idleHousekeepingInterval { nextMailboxCheck = now }
        // A cover gap is Exp(1/λ): one over 100 mean gaps (or a minute) is a clock that stepped back.
        if let cover = nextCover, cover.duration(since: now) > max(.seconds(60), .seconds(100 / max(coverRate, 0.001))) {
            nextCover = nil
        }
        if let loop = nextLoop, loop.duration(since: now) > max(.seconds(60), .seconds(100 / max(loopRate, 0.001))) {
            nextLoop = nil
        }
    }

    // MARK: Directory

    private mutating func directoryInstalled(now: UnixTime, rng: inout some RandomSource) {
        guard let held = tracker.held else { return }
        status.directory = held.directory
        status.descriptors = held.descriptors
        status.fetchedAt = now
        status.channel = held.channel
        linkPeers = [:]
        for relay in held.descriptors {
            // Addresses only: a descriptor's `udp` is never given to a resolver (it could stall
            // this loop on DNS, and would tell the resolver which relays this client uses).
            if let address = try? SocketAddress(numeric: relay.udp) {
                linkPeers[relay.id] = LinkPeer(id: relay.id, address: address, linkKey: relay.linkKey)
            }
        }
        // The cover rates may have changed: draw the next slots from the new ones.
        nextCover = nil
        nextLoop = nil
        nextMailboxCheck = now
    }

    /// Replaces mailbox relays that have been missing from the directory for a long while.
    private mutating func replaceLostMailboxes(_ held: DirectoryTracker.Held, now: UnixTime, rng: inout some RandomSource,
                                               effects: inout NodeEffects<Event>) {
        let relays = held.descriptors
        for mailbox in messenger.mailboxes {
            if held.byID[mailbox.relayID] != nil {
                unlistedSince[mailbox.relayID] = nil
            } else if unlistedSince[mailbox.relayID] == nil {
                unlistedSince[mailbox.relayID] = now
            }
        }
        let lost = Set(unlistedSince.filter { now.duration(since: $0.value) >= configuration.mailboxReplaceAfter }.keys)
        guard !lost.isEmpty else { return }
        do {
            let gone = messenger.mailboxes.filter { lost.contains($0.relayID) }.map(\.address.mailboxID)
            _ = try messenger.replaceMailboxes(at: lost, listed: relays, ratings: held.ratings, count: configuration.mailboxRelays,
                                               now: now, rng: &rng)
            for id in lost { unlistedSince[id] = nil }
            for mailbox in gone {
                pendingAck[mailbox] = nil
                fetches[mailbox] = nil
                subscribedOn[mailbox] = nil
                storedSequences[mailbox] = nil
                acknowledgeDue[mailbox] = nil
                queueSync[mailbox] = nil
            }
            outboxDue = (try? messenger.nextOutboxDue()) ?? outboxDue
            effects.events.append(.mailboxesReplaced(lost.count))
        } catch {
            effects.events.append(.problem("cannot replace mailbox relays: \(error)"))
        }
    }

    // MARK: Helpers

    /// When the mailboxes are polled next: every `pushPollInterval` while each has a live push
    /// subscription, else every `pollInterval` (polling is the fallback while a link is down).
    var nextPoll: UnixTime {
        guard let last = lastPoll else { return UnixTime(nanoseconds: 0) }
        return last.adding(allSubscribed ? configuration.pushPollInterval : configuration.pollInterval)
    }

    /// Every mailbox has a push subscription on a link session that still exists.
    var allSubscribed: Bool {
        guard configuration.push else { return false }
        let mailboxes = messenger.mailboxes
        return !mailboxes.isEmpty && mailboxes.allSatisfy { isSubscribed($0.address.mailboxID) }
    }

    func isSubscribed(_ mailbox: Bytes32) -> Bool { subscribedOn[mailbox].map { links.hasSession($0) } ?? false }

    /// The relays to leave out of paths and fetches for now (they did not answer a handshake).
    var downRelays: Set<ID> { Set(down.keys) }

    /// A relay did not answer: leave it out for `downTime`, forget its link, count why.
    mutating func relayFailed(_ relay: ID, now: UnixTime, reason: ClientDropReason) {
        down[relay] = now.adding(configuration.downTime)
        links.reset(relay)
        status.drop(reason)
    }

    /// The link peer for a relay of the directory (its address read once per directory).
    func linkPeer(_ relay: RelayDescriptor) -> LinkPeer? { linkPeers[relay.id] }
}
