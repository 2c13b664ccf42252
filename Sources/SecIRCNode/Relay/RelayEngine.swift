public import SecIRCCore
public import SecIRCCrypto
public import SecIRCTransport

/// A whole relay as a state machine (``NodeEngine``): its links (``LinkManager``), the onion
/// layer (Sphinx peel with the ``OnionKeyRing``'s keys, replay filters), the per-hop delay queue,
/// the mailboxes, its own signed descriptor, and the directory — signed here when this relay is
/// the first ring alone, otherwise fetched and verified (``DirectoryTracker``) — whose relays
/// become its link peers.
///
/// Stages of a datagram: link (decrypt, handshakes) → frame → Sphinx peel → delay queue or
/// mailbox → link (encrypt to the next relay). Each stage is a file: `+Forwarding`,
/// `+Mailboxes`, `+Directory`. Every drop is counted (``counters``); nothing is logged per packet.
public struct RelayEngine: NodeEngine {
    public struct Configuration: Sendable {
        /// The relay's Ed25519 identity (its ID is SHA-256 of the public key); signs its descriptor,
        /// and the directory when it is the first ring.
        public var identity: SigningPrivateKey
        /// The X25519 link static key (Noise).
        public var linkKey: AgreementPrivateKey
        /// The first ring whose signatures make a directory valid, as configured (epoch 0): the
        /// roster in force follows the changes its members sign (``RelayEngine/roster``).
        public var roster: Roster
        /// Network parameters this relay signs into directories when it is the first ring.
        public var network: NetworkParameters
        /// The directory period (a first ring signs once per period, or sooner when relays join).
        public var directoryPeriod: Duration
        /// How long a directory a ring of several publishes stays valid (at least 3 periods):
        /// relays and clients keep using the last one that long when no newer one comes.
        public var ringValidity: Duration = .seconds(86_400)
        /// Where to fetch the directory (base URLs); empty: the roster members' HTTP URLs.
        public var bootstrapURLs: [String] = []
        /// The UDP address (host:port) and HTTP base URL written into the descriptor.
        public var advertisedUDP: String
        public var advertisedHTTP: String
        public var capacity = 10_000
        public var mailbox: MailboxStore.Limits
        public var keyPeriod: Duration
        public var keyGrace: Duration
        public var delayQueueCapacity = 8192
        /// Replay tags one onion key may collect (`ReplayFilter`: 16 MiB at the default). The
        /// key rotates early once its tags reach half of it (a quarter more if a previous key is
        /// still in its grace window), so it is never full.
        public var replayCapacity = ReplayFilter.defaultCapacity
        /// Emit ``Event/saveReplayTags(_:)`` for every recorded tag (a relay process saves them;
        /// the simulator and tests need not).
        public var savesReplayTags = false
        public var fetchBatch = 32
        /// Threads the process runs peels on (`udp.workers`). 1: the engine peels inline, on its
        /// own thread. More: the engine hands each packet's crypto out as ``SphinxJob``s
        /// (``Event/peel(_:)``) and takes them back (``Command/peeled(_:)``); link sessions,
        /// the replay filters, the onion keys, the delay queue and the mailboxes stay here, with
        /// one owner.
        public var peelWorkers = 1
        /// Peels handed out and not yet back, at most; beyond it packets are dropped and
        /// counted (`peel_queue_full`), so a flood cannot queue unbounded work.
        public var peelQueueCapacity = 4096
        /// Push delivery: mailboxes one link session may subscribe, and subscriptions in all.
        public var subscriptions = MailboxSubscriptions.Limits()
        /// Longest per-hop delay a packet may ask for; longer ones are dropped (an attacker could
        /// otherwise hold places in the bounded delay queue). The network's
        /// `NetworkParameters.maxDelayMilliseconds` (20 means, at least 1 s) applies as well.
        public var maxDelayMilliseconds: UInt32 = 60_000
        /// The link layer's limits (sessions, handshake queues, cookies under load).
        public var links: LinkManager.Configuration
        /// A first-ring member: what it admits (caps, allow-list mode), and the operator's allow
        /// and ban lists as saved (``Event/saveAdmission(_:)``).
        public var admission = AdmissionPolicy()
        public var admissionLists = AdmissionLists()
        public init(identity: SigningPrivateKey, linkKey: AgreementPrivateKey, roster: Roster, network: NetworkParameters,
                    directoryPeriod: Duration, advertisedUDP: String, advertisedHTTP: String, mailbox: MailboxStore.Limits,
                    keyPeriod: Duration, keyGrace: Duration) {
            self.identity = identity
            self.linkKey = linkKey
            self.roster = roster
            self.network = network
            self.directoryPeriod = directoryPeriod
            self.advertisedUDP = advertisedUDP
            self.advertisedHTTP = advertisedHTTP
            self.mailbox = mailbox
            self.keyPeriod = keyPeriod
            self.keyGrace = keyGrace
            links = LinkManager.Configuration(localStatic: linkKey)
        }

        public var relayID: ID { identity.publicKey.id }
    }

    /// Requests from outside the loop.
    public enum Command: Sendable {
        /// An operator's peer (kept when the directory changes).
        case addPeer(LinkPeer)
        case removePeer(ID)
        /// Rotate onion keys now.
        case rotateKeys
        /// Stop taking new packets and handshakes; forward what is queued.
        case drain
        /// First ring: a relay's uploaded descriptor.
        case acceptDescriptor(SignedDocument)
        /// Peels handed out in ``Event/peel(_:)``, run (``SphinxJob/run(geometry:)``); in any order.
        case peeled([SphinxJob])
        /// A ring member's vote or signature share (``RingRound``), from the HTTP API.
        case ringVote(SignedDocument)
        case ringShare(SignedDocument)
        /// Governance (`+Governance`): an operator's proposal or approval, and a proposal (or a
        /// change in force) from another relay.
        case proposeRosterChange(RosterChangeRequest)
        case approveRosterChange(Bytes32)
        case rosterProposal(SignedDocument)
        /// First ring: the operator's allow and ban lists (answered with ``Reply/admission(_:)``),
        /// or a change to them.
        case readAdmission
        case changeAdmission(AdmissionLists.Change)
    }

    public enum Reply: Sendable, Equatable {
        case done
        /// The descriptor was taken: what it changed (`challenged`: listed once the relay
        /// answers a link handshake at its advertised address).
        case accepted(id: ID, change: DirectoryAuthority.Acceptance.Change)
        case notFirstRing
        case refused(DirectoryAuthority.UploadError)
        /// What a vote or share did, or why it was refused; `notRingMember` when this relay
        /// is not a member of a ring of several.
        case ring(RingRound.Outcome)
        case ringRefused(RingRound.Refusal)
        case notRingMember
        /// A proposal this member signed (nil: in force and gone from the pending ones).
        case proposal(RosterProposals.Pending?, inForce: Bool)
        case proposalTaken(RosterProposals.Outcome)
        case proposalRefused(RosterProposals.Refusal)
        /// The allow and ban lists (after the change asked for), and the policy in force.
        case admission(AdmissionLists, AdmissionPolicy)
        /// The list holds ``AdmissionLists/maximumEntries`` already.
        case admissionListFull
    }

    /// What the relay reports to its process (HTTP state, logs).
    public enum Event: Sendable {
        /// A new own descriptor was signed (start, key rotation, refresh).
        case descriptorSigned(SignedDocument)
        /// A verified directory is now in use (signed here or fetched).
        case directoryInstalled(DirectoryTracker.Held)
        /// A fetched directory was not used.
        case directoryRefused(DirectoryTracker.Refusal)
        /// The onion keys rotated; `epoch` is the current one.
        case keysRotated(epoch: UInt32)
        /// Save the onion key ring (at start and whenever it changes). The process writes it
        /// before it carries out the rest of the turn, so no descriptor names a key that a
        /// restart would lose.
        case saveOnionKeys(OnionKeyRing.Saved)
        /// First ring: save the directory just signed, before it is served, so a restart
        /// continues its serial and chain (``restore(signedDirectory:now:)``).
        case saveDirectory(SignedDocument)
        /// Replay tags just recorded (`Configuration.savesReplayTags`): the process appends
        /// them to the epoch's file before the turn's datagrams leave, so a packet peeled
        /// before a restart is still a replay after it.
        case saveReplayTags([(epoch: UInt32, tag: ReplayFilter.Tag)])
        /// An epoch was retired: its saved replay tags can go.
        case forgetReplayTags(epoch: UInt32)
        /// Peels to run on the process's worker threads (`Configuration.peelWorkers` > 1), all
        /// of one turn; each comes back in ``Command/peeled(_:)``.
        case peel([SphinxJob])
        /// A ring member signed two things for one round (the proof is in ``ringStatus``).
        case equivocation(EquivocationProof)
        /// Save what governance keeps (``GovernanceState``), before the turn's posts leave.
        case saveGovernance(GovernanceState)
        /// The roster in force changed.
        case rosterChanged(Roster)
        /// First ring: save the operator's allow and ban lists (they changed), before the
        /// answer to the change is sent, so a restart keeps them.
        case saveAdmission(AdmissionLists)
    }

    public let configuration: Configuration
    var links: LinkManager
    var sphinx: SphinxProcessor
    var keys: OnionKeyRing
    var delays: DelayQueue
    var mailboxes: MailboxStore
    var own = RelayCounters()
    /// Mailbox-fetch nonces issued per link session (bounded per session).
    var nonces: [UInt32: [Bytes32: Bytes32]] = [:]
    /// Mailboxes each link session registered (bounded per session; cleared with the session).
    var newMailboxes: [UInt32: Int] = [:]
    /// Mailboxes whose new mail goes down a link session at once (push delivery).
    var subscriptions: MailboxSubscriptions
    public private(set) var isDraining = false
    /// Peels of this turn, to hand out (``Event/peel(_:)``), and how many are out.
    var peelsToHandOut: [SphinxJob] = []
    var peelsOut = 0

    // Directory duties (`+Directory`).
    var tracker: DirectoryTracker
    var authority: DirectoryAuthority?
    /// A member of a ring of several: its rounds (`+Ring`).
    var ring: RingDuty?
    var nextSigning: UnixTime?
    /// When challenged relays were last looked at (`+Directory`).
    var lastChallengeCheck: UnixTime?
    /// First ring: the `/healthz` requests out to challenged relays, by fetch ID (at most one
    /// per challenge, so bounded by the challenges).
    public internal(set) var healthChecks: [UInt64: (id: ID, http: String)] = [:]
    /// First ring: forwarding-probe packets out through challenged relays, oldest first (each
    /// lasts ``probeTimeout``, so also by due time); at most ``maximumProbes``.
    var probesInFlight: [ProbePacket] = []
    /// The relay's own cover stream (`+Cover`): when its next packet leaves, and its loops out,
    /// oldest first (bounded).
    var nextCover: UnixTime?
    var coverLoops: [CoverLoop] = []
    /// When the first ring last signed (exactly: the debounce counts from it).
    var lastSignedAt: UnixTime?
    public internal(set) var descriptor: SignedDocument?
    var descriptorVersion = 0
    var nextDescriptorRefresh: UnixTime
    var uploadedVersion = -1
    var uploadingVersion = 0
    var lastUpload: UnixTime?
    var lastUploadAttempt: UnixTime?
    /// The longest wait the members' answers to the last upload asked for.
    var uploadBackoff = Duration.zero
    var uploadsInFlight: Set<UInt64> = []
    var uploadAccepted = false
    var nextFetchID: UInt64 = 1
    var nextHousekeeping: UnixTime
    /// The fetch IDs of our posts to ring members (votes, shares, proposals): their answers are
    /// not directory fetches.
    var ringPosts: Set<UInt64> = []
    /// Governance (`+Governance`): proposals for the next roster, and the roster this relay's
    /// duties were last set up for.
    var proposals: RosterProposals
    var rosterInUse: Roster

    /// A relay with fresh onion keys, or with `savedKeys` (what its last ``Event/saveOnionKeys(_:)``
    /// said) after a restart: packets built against the keys it published still peel.
    /// `savedTags`: the replay tags saved for the restored epochs (``Event/saveReplayTags(_:)``).
    /// `governance`: what the last ``Event/saveGovernance(_:)`` said (the roster changes in
    /// force are checked again along the chain; one that does not continue it is left out).
    public init(configuration: Configuration, savedKeys: OnionKeyRing.Saved? = nil,
                savedTags: [UInt32: [ReplayFilter.Tag]] = [:], governance: GovernanceState? = nil,
                now: UnixTime, rng: inout some RandomSource) {
        self.configuration = configuration
        links = LinkManager(configuration: configuration.links, now: now, rng: &rng)
        if let savedKeys {
            keys = OnionKeyRing(restoring: savedKeys, period: configuration.keyPeriod, grace: configuration.keyGrace)
        } else {
            keys = OnionKeyRing(period: configuration.keyPeriod, grace: configuration.keyGrace, now: now, rng: &rng)
        }
        sphinx = SphinxProcessor(replayCapacity: configuration.replayCapacity)
        for key in keys.acceptedKeys { sphinx.install(key) }
        for (epoch, tags) in savedTags { sphinx.restoreTags(tags, epoch: epoch) }
        sphinx.recordsNewTags = configuration.savesReplayTags
        delays = DelayQueue(capacity: configuration.delayQueueCapacity)
        subscriptions = MailboxSubscriptions(limits: configuration.subscriptions)
        // Sequence numbers never reused across restarts: start from the time in microseconds.
        mailboxes = MailboxStore(limits: configuration.mailbox, firstSequence: UInt64(max(now.nanoseconds / 1000, 1)))
        own.currentEpoch = keys.current.epoch
        tracker = DirectoryTracker(roster: configuration.roster, sources: [])
        for change in governance?.changes ?? [] { guard (try? tracker.adoptRosterChange(change)) != nil else { break } }
        let roster = tracker.roster
        rosterInUse = roster
        proposals = RosterProposals(signed: governance?.signedEpoch.flatMap { epoch in governance?.signedID.map { (epoch, $0) } })
        proposals.rosterChanged(to: roster)
        tracker.sources = Self.directorySources(configuration: configuration, roster: roster)
        tracker.maximumRefresh = min(max(configuration.directoryPeriod / 2, .seconds(1)), .seconds(30))
        tracker.expectListed = configuration.relayID
        let member = roster.keys.contains(configuration.identity.publicKey)
        if member, roster.members.count > 1 { ring = RingDuty(nextRound: now, startedAt: now) }
        if member {
            let network = tracker.chain.network?.applied(to: configuration.network) ?? configuration.network
            authority = DirectoryAuthority(identity: configuration.identity, roster: roster,
                                           network: network, period: configuration.directoryPeriod)
            authority!.policy = configuration.admission
            authority!.restore(lists: configuration.admissionLists)
        }
        nextDescriptorRefresh = now
        nextHousekeeping = now
    }

    public var relayID: ID { configuration.relayID }
    /// This relay is a first-ring member (alone, or one of several): it takes uploads.
    public var isFirstRing: Bool { authority != nil }
    /// A member of a ring of several: its rounds, counters and proofs of equivocation.
    public var ringStatus: RingStatus? { ring?.status }

    // MARK: NodeEngine

    @_specialize(where R == AnyRandomSource)
    public mutating func start<R: RandomSource>(now: UnixTime, rng: inout R, effects: inout NodeEffects<Event>) {
        // The keys are on disk before the first descriptor names them.
        effects.events.append(.saveOnionKeys(keys.saved))
        // A first ring restored with a directory still valid serves it at once.
        if tracker.held != nil { directoryInstalled(now: now, effects: &effects) }
        tick(now: now, rng: &rng, effects: &effects)
    }

    /// First ring, after a restart: continue from `document`, the directory it last signed
    /// (what its last ``Event/saveDirectory(_:)`` said). The next directory has the next serial
    /// and links this one; while it is still valid it is served at once. Call before `start`.
    /// Throws when this relay is not the first ring or the document is not a directory its
    /// roster signed.
    public mutating func restore(signedDirectory document: SignedDocument, now: UnixTime) throws {
        guard authority != nil else { throw DirectoryError.invalid("only the first ring keeps its signed directory") }
        try authority!.restore(latest: document, earlier: tracker.chain.rosters.dropLast().reversed())
        _ = try? tracker.install(document, now: now) // expired: only the serial and the chain carry on
    }

    /// A relay that is not a first-ring member, after a restart: the directory it saved (its
    /// loop's ``Event/directoryInstalled(_:)``), used when the trusted roster signed it and it
    /// is still valid — served at once, its relays linked, and its relays' HTTP addresses asked
    /// when every configured source fails. Call before `start`. Throws (the relay then starts
    /// without one) when the document is refused.
    public mutating func restore(cachedDirectory document: SignedDocument, now: UnixTime) throws(DirectoryTracker.Refusal) {
        guard authority == nil else { return } // a first ring continues from what it signed
        try tracker.restore(cached: document, now: now)
    }

    /// Counts the datagrams an entry point added to `effects` (what the relay asked to send).
    private mutating func counting(_ effects: inout NodeEffects<Event>, _ body: (inout Self, inout NodeEffects<Event>) -> Void) {
        let before = effects.datagrams.count
        body(&self, &effects)
        own.datagramsSent += effects.datagrams.count - before
        if !peelsToHandOut.isEmpty {
            effects.events.append(.peel(peelsToHandOut))
            peelsToHandOut.removeAll()
        }
        if configuration.savesReplayTags {
            let tags = sphinx.takeNewTags()
            if !tags.isEmpty { effects.events.append(.saveReplayTags(tags)) }
        }
    }

    @_specialize(where R == AnyRandomSource)
    public mutating func receive<R: RandomSource>(_ bytes: [UInt8], from address: SocketAddress, now: UnixTime, rng: inout R,
                                 effects: inout NodeEffects<Event>) {
        own.datagramsReceived += 1
        counting(&effects) { engine, effects in
            guard let delivery = engine.links.receive(bytes, from: address, now: now, rng: &rng, out: &effects.datagrams) else { return }
            engine.handleFrame(delivery, now: now, rng: &rng, effects: &effects)
        }
    }

    @_specialize(where R == AnyRandomSource)
    public mutating func fetched<R: RandomSource>(_ response: FetchResponse, now: UnixTime, rng: inout R,
                                 effects: inout NodeEffects<Event>) {
        directoryFetched(response, now: now, effects: &effects)
    }

    @_specialize(where R == AnyRandomSource)
    public mutating func handle<R: RandomSource>(_ command: Command, now: UnixTime, rng: inout R,
                                effects: inout NodeEffects<Event>) -> Reply {
        var reply = Reply.done
        counting(&effects) { engine, effects in reply = engine.apply(command, now: now, rng: &rng, effects: &effects) }
        return reply
    }

    private mutating func apply(_ command: Command, now: UnixTime, rng: inout some RandomSource,
                                effects: inout NodeEffects<Event>) -> Reply {
        switch command {
        case let .addPeer(peer):
            links.addPeer(peer, persistent: true)
        case let .removePeer(id):
            links.removePeer(id)
        case .rotateKeys:
            let change = keys.rotate(now: now, rng: &rng)
            applyKeyChange(installed: [change.installed], retired: change.retired, now: now, effects: &effects)
        case .drain:
            isDraining = true
            links.acceptsHandshakes = false
        case let .acceptDescriptor(document):
            return acceptDescriptor(document, now: now, rng: &rng, effects: &effects)
        case let .peeled(jobs):
            peeled(jobs, now: now, rng: &rng, effects: &effects)
        case let .ringVote(document):
            return takeVote(document, now: now, effects: &effects)
        case let .ringShare(document):
            return takeShare(document, now: now, effects: &effects)
        case let .proposeRosterChange(request):
            return proposeRosterChange(request, now: now, effects: &effects)
        case let .approveRosterChange(id):
            return approveRosterChange(id, now: now, effects: &effects)
        case let .rosterProposal(document):
            return takeProposal(document, now: now, effects: &effects)
        case .readAdmission:
            guard let authority else { return .notFirstRing }
            return .admission(authority.lists, authority.policy)
        case let .changeAdmission(change):
            return changeAdmission(change, now: now, effects: &effects)
        }
        return .done
    }

    @_specialize(where R == AnyRandomSource)
    public mutating func tick<R: RandomSource>(now: UnixTime, rng: inout R, effects: inout NodeEffects<Event>) {
        counting(&effects) { engine, effects in engine.runTimers(now: now, rng: &rng, effects: &effects) }
    }

    private mutating func runTimers(now: UnixTime, rng: inout some RandomSource, effects: inout NodeEffects<Event>) {
        while let entry = delays.popDue(now: now) {
            forward(entry.packet, to: entry.relay, from: entry.link, now: now, rng: &rng, effects: &effects)
        }
        let change = keys.tick(now: now, rng: &rng)
        applyKeyChange(installed: change.installed, retired: change.retired, now: now, effects: &effects)
        let failed = links.tick(now: now, rng: &rng, out: &effects.datagrams)
        _ = failed // the link manager counted the dropped frames (handshake timeouts)
        if now >= nextHousekeeping {
            nextHousekeeping = now.adding(Self.housekeepingInterval)
            own.mailboxDrops.merge(mailboxes.expire(now: now), uniquingKeysWith: +)
            if nonces.count > 0 { nonces = nonces.filter { links.hasSession($0.key) } }
            if newMailboxes.count > 0 { newMailboxes = newMailboxes.filter { links.hasSession($0.key) } }
            subscriptions.keep { links.hasSession($0) }
        }
        directoryDuties(now: now, rng: &rng, effects: &effects)
    }

    public var nextDeadline: UnixTime? {
        var next = min(keys.nextChange, nextHousekeeping, nextDescriptorRefresh)
        if let links = links.nextDeadline { next = min(next, links) }
        if let due = delays.nextDue { next = min(next, due) }
        if let signing = nextSigning { next = min(next, signing) }
        if let probe = probesInFlight.first { next = min(next, probe.due) }
        if let cover = nextCover { next = min(next, cover) }
        if let loop = coverLoops.first { next = min(next, loop.due) }
        if let expiry = authority?.nextChallengeExpiry {
            // While relays are being challenged, whether they answered is looked at every 100 ms.
            next = min(next, expiry, (lastChallengeCheck ?? .init(nanoseconds: 0)).adding(Self.challengeCheckInterval))
        }
        if let ring { next = min(next, ring.voteDeadline.map { min($0, ring.nextRound) } ?? ring.nextRound) }
        if let fetch = tracker.nextDeadline { next = min(next, fetch) }
        if let upload = nextUpload { next = min(next, upload) }
        return next
    }

    // MARK: State for the process

    /// The onion keys to publish in the descriptor (current and next).
    public var onionKeyEntries: [RelayDescriptor.OnionKeyEntry] { keys.descriptorEntries }

    /// The directory in use.
    public var directory: DirectoryTracker.Held? { tracker.held }

    /// First ring: the last directory it signed (or restored), valid or not.
    public var latestSigned: RelayDirectory? { authority?.latest?.directory }

    /// True when draining has finished: nothing waits in the delay queue, for a handshake or
    /// for a peel handed out.
    public var isIdle: Bool { delays.isEmpty && links.queuedFrames == 0 && peelsOut == 0 }

    /// Every counter and gauge, for `/metrics`.
    public var counters: RelayCounters {
        var c = own
        let l = links.counters
        c.handshakes = l.handshakes
        c.linkDrops = l.dropped
        c.relayDrops[.noRoute, default: 0] += l.noRoute
        c.relayDrops[.queueFull, default: 0] += l.queueFull
        c.relayDrops[.handshakeTimeout, default: 0] += l.handshakeTimeouts
        c.relayDrops[.sessionLimit, default: 0] += l.sessionLimit
        c.relayDrops[.draining, default: 0] += l.refusedWhileClosed
        for key in c.relayDrops.keys where c.relayDrops[key] == 0 { c.relayDrops[key] = nil }
        c.handshakeRefusals = l.admissionRefusals
        c.unconfirmedExpired = l.unconfirmedExpired
        c.mailboxMessages = mailboxes.messageCount
        c.mailboxBytes = mailboxes.totalBytes
        c.mailboxes = mailboxes.mailboxCount
        c.mailboxQueues = mailboxes.queueCount
        c.unclaimedDeposits = mailboxes.unclaimedCount
        c.mailboxesEvicted = mailboxes.evicted
        c.subscriptions = subscriptions.count
        c.subscriptionsEvicted = subscriptions.evicted
        c.linkSessions = links.sessionCount
        c.unconfirmedSessions = links.unconfirmedCount
        c.handshakeSources = links.trackedSources
        c.connectedPeers = links.linkedPeers.count
        c.delayQueue = delays.count
        c.peelsOut = peelsOut
        c.ring = ring?.status
        c.rosterEpoch = roster.epoch
        c.proposalsPending = proposals.pending.count
        return c
    }

    mutating func count(_ reason: RelayDropReason) { own.relayDrops[reason, default: 0] += 1 }

    /// How often expired mail, and the nonces and subscriptions of ended sessions, are cleared.
    static var housekeepingInterval: Duration { .seconds(10) }

    mutating func applyKeyChange(installed: [OnionKey], retired: [UInt32], now: UnixTime, effects: inout NodeEffects<Event>) {
        guard !installed.isEmpty || !retired.isEmpty else { return }
        effects.events.append(.saveOnionKeys(keys.saved))
        for epoch in retired {
            sphinx.remove(epoch: epoch)
            if configuration.savesReplayTags { effects.events.append(.forgetReplayTags(epoch: epoch)) }
        }
        for key in installed { sphinx.install(key) }
        guard !installed.isEmpty else { return }
        own.keyRotations += installed.count
        own.currentEpoch = keys.current.epoch
        effects.events.append(.keysRotated(epoch: keys.current.epoch))
        // Publish the new keys at once: senders need the next key a period ahead.
        nextDescriptorRefresh = now
    }
}
