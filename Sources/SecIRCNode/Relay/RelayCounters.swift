public import SecIRCCore

/// Why the relay itself (not Sphinx, the link layer or the mailbox store) dropped something.
public enum RelayDropReason: String, Sendable, CaseIterable {
    /// No link to the next relay is possible: it is not in the directory (checked before a
    /// packet waits out its delay).
    case noRoute = "no_route"
    /// A bounded queue (delay queue, a peer's handshake queue) was full.
    case queueFull = "queue_full"
    /// A packet to wait out a delay from an incoming link that holds its share of the delay
    /// queue.
    case delayShare = "delay_share"
    /// A frame kind this relay does not know.
    case unknownFrame = "unknown_frame"
    /// A frame that is not valid for its kind.
    case malformedFrame = "malformed_frame"
    /// Received while draining.
    case draining
    /// Packets waiting for a handshake that never completed.
    case handshakeTimeout = "handshake_timeout"
    /// A mailbox fetch whose nonce or signature failed.
    case fetchDenied = "fetch_denied"
    /// A handshake refused because the relay holds its maximum of link sessions.
    case sessionLimit = "session_limit"
    /// A Sphinx packet asked for a per-hop delay above the relay's maximum.
    case delayTooLong = "delay_too_long"
    /// Peels handed to the worker threads were at their bound (`RelayEngine.Configuration.peelQueueCapacity`).
    case peelQueueFull = "peel_queue_full"
    /// A push subscription refused: the relay, or the group mailbox, holds its maximum.
    case subscriptionLimit = "subscription_limit"
    /// A queue op refused: the mailbox holds its maximum of contact queues.
    case queueLimit = "queue_limit"
    /// A queue op refused: another mailbox registered that queue ID first.
    case queueTaken = "queue_taken"
    /// A fetch of a new mailbox refused: its link session registered its maximum of mailboxes.
    case registrationLimit = "registration_limit"
    /// A verified fetch of a known mailbox as the other kind (group or personal).
    case wrongKind = "wrong_kind"
}

/// The relay's counters. `RelayEngine` keeps them with plain adds (no atomics on the hot path);
/// its loop publishes a copy to `RelayMetrics` a few times a second.
/// Only totals: nothing per client, per address or per mailbox.
public struct RelayCounters: Sendable, Equatable {
    public var datagramsReceived = 0
    public var datagramsSent = 0
    public var sendFailures = 0
    public var forwarded = 0
    public var delivered = 0
    public var coverDropped = 0
    public var fetches = 0
    /// New mail sent down a subscribed link session at once (push delivery).
    public var pushed = 0
    public var handshakes = 0
    public var keyRotations = 0
    /// Rotations made early because the current key's replay filter was filling.
    public var earlyRotations = 0
    /// Fetched directories that were not used (unreachable source, bad signatures, older).
    public var directoryRefusals = 0
    /// First ring: uploaded relays listed after answering the handshake challenge, and those
    /// dropped for not answering in time.
    public var relaysAdmitted = 0
    public var challengesFailed = 0
    /// Relays that answered the challenge but were not listed before it ran out, because the
    /// period's new relays were all listed (`admission.new_relays_per_period`).
    public var admissionsDeferred = 0
    /// First ring: forwarding-probe packets sent through challenged relays, and how they ended.
    public var probePackets: [ProbeResult: Int] = [:]
    /// The relay's own cover stream: loops sent, back and lost; drop cover sent.
    public var coverPackets: [CoverResult: Int] = [:]
    /// A member of a ring of several: its rounds, refusals and proofs (nil otherwise).
    public var ring: RingStatus?
    /// Governance: the epoch of the roster in force, proposals waiting for the next one, and
    /// proposals from the network refused.
    public var rosterEpoch: UInt64 = 0
    public var proposalsPending = 0
    public var proposalsRefused = 0
    public var sphinxRejects: [SphinxRejectReason: Int] = [:]
    public var linkDrops: [LinkDropReason: Int] = [:]
    public var mailboxDrops: [MailboxStore.DropReason: Int] = [:]
    public var relayDrops: [RelayDropReason: Int] = [:]
    /// Handshake initiations refused before any key agreement, by reason.
    public var handshakeRefusals: [HandshakeRefusal: Int] = [:]
    /// Answered handshakes never confirmed in time.
    public var unconfirmedExpired = 0
    // Gauges.
    public var mailboxMessages = 0
    public var mailboxBytes = 0
    public var mailboxes = 0
    /// Contact queues registered, and deposits held unclaimed.
    public var mailboxQueues = 0
    public var unclaimedDeposits = 0
    /// Empty mailboxes forgotten at the mailbox limit.
    public var mailboxesEvicted = 0
    /// Mailboxes subscribed for push delivery.
    public var subscriptions = 0
    /// Subscriptions a link session gave up to subscribe another at its bound of 8.
    public var subscriptionsEvicted = 0
    public var linkSessions = 0
    /// Answered handshakes waiting for the initiator's first packet.
    public var unconfirmedSessions = 0
    /// Hosts whose handshake budgets are tracked.
    public var handshakeSources = 0
    public var connectedPeers = 0
    public var delayQueue = 0
    /// Peels handed to the worker threads and not yet back.
    public var peelsOut = 0
    public var currentEpoch: UInt32 = 0

    public init() {}

    /// Every dropped packet, whatever the layer.
    public var totalDrops: Int {
        sphinxRejects.values.reduce(0, +) + linkDrops.values.reduce(0, +) + mailboxDrops.values.reduce(0, +)
            + relayDrops.values.reduce(0, +)
    }
}

/// What became of a forwarding-probe packet (`secirc_relay_probe_packets_total{result}`).
public enum ProbeResult: String, Sendable, CaseIterable {
    case sent, returned, lost
}

/// The relay's own cover packets (`secirc_relay_cover_packets_total{kind,result}`).
public enum CoverResult: String, Sendable, CaseIterable {
    case loopSent, loopReturned, loopLost, dropSent

    /// The metric's labels.
    public var labels: (kind: String, result: String) {
        switch self {
        case .loopSent: ("loop", "sent")
        case .loopReturned: ("loop", "returned")
        case .loopLost: ("loop", "lost")
        case .dropSent: ("drop", "sent")
        }
    }
}
