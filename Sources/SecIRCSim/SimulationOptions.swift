public import SecIRCCore
public import SecIRCNode

/// What to simulate: the network's size, the workload, and the faults. Every field has a
/// default that runs in seconds; `secirc-sim --help` lists them as flags.
public struct SimulationOptions: Sendable, Equatable {
    /// Client cover-traffic profile (`client.yaml`'s `network.cover_traffic`).
    public typealias Cover = CoverProfile

    /// A relay that stops at `at` (its memory — mailboxes, onion keys, links — is lost) and
    /// starts again `downtime` later with the same identity and link keys, as a restarted process.
    public struct Crash: Sendable, Equatable {
        public enum Relay: Sendable, Equatable {
            /// Relay number `n` (0 is the first ring).
            case index(Int)
            /// The relay holding the most clients' mailboxes (never the first ring).
            case busiestMailbox
        }

        public var relay: Relay
        /// From the start of the workload.
        public var at: Duration
        public var downtime: Duration

        public init(relay: Relay, at: Duration, downtime: Duration) {
            self.relay = relay
            self.at = at
            self.downtime = downtime
        }
    }

    /// Between `from` and `until` (from the start of the workload), the nodes are cut in two
    /// halves (even and odd numbers, relays and clients alike) that cannot reach each other.
    public struct Partition: Sendable, Equatable {
        public var from: Duration
        public var until: Duration

        public init(from: Duration, until: Duration) {
            self.from = from
            self.until = until
        }
    }

    public var relays = 5
    /// Members of the first ring (relays 0..<ringSize); more than one vote each period.
    public var ringSize = 1
    public var clients = 10
    /// How long clients send (virtual time); then the network runs until every message is
    /// delivered or `drain` has passed.
    public var duration: Duration = .seconds(600)
    public var seed = "secirc"
    /// Each client's mean time between messages (exponential), each to a random contact.
    public var messageInterval: Duration = .seconds(60)
    /// Contacts each client adds (they add it back by the session set-up).
    public var contacts = 3
    public var cover: Cover = .off
    /// Probability that a datagram is lost.
    public var loss = 0.0
    /// Probability that a datagram arrives twice.
    public var duplicate = 0.0
    /// Probability that a datagram is held back by an extra `latency` (so it arrives after later ones).
    public var reorder = 0.0
    /// One-way delay of every datagram and HTTP message, plus a uniform `0..<jitter`. It is
    /// also the length of the simulator's windows (nothing crosses the network faster), so it
    /// must be at least 1 ms.
    public var latency: Duration = .milliseconds(20)
    public var jitter: Duration = .milliseconds(10)
    public var crashes: [Crash] = []
    public var partitions: [Partition] = []
    /// Roster changes (docs/PROTOCOL.md §3.5) at a time after the workload starts: member 0
    /// proposes, the other members approve a second later.
    public var rosterChanges: [RosterChangeAt] = []

    /// A roster change: a relay added to the first ring, network parameters set, or both.
    public struct RosterChangeAt: Sendable, Equatable {
        public var addRelay: Int?
        public var network: GovernedParameters?
        public var at: Duration
        public init(addRelay: Int? = nil, network: GovernedParameters? = nil, at: Duration) {
            self.addRelay = addRelay
            self.network = network
            self.at = at
        }
    }
    /// The client's mailbox poll interval (`network.poll_interval_ms`).
    public var pollInterval: Duration = .seconds(1)
    /// The network's mean per-hop mixing delay μ (security.yaml `network.mean_delay_ms`).
    public var meanDelayMilliseconds = 50
    /// The network's payload-stream rate λ, packets per second per client (security.yaml `network.cover_rate_per_s`).
    public var coverRate = 2.0
    /// The network's loop-stream rate λ_L, packets per second per client (security.yaml `network.loop_rate_per_s`).
    public var loopRate = 0.5
    /// Each relay's own cover stream λ_R, packets per second (security.yaml
    /// `network.relay_cover_rate_per_s`; 0 here by default, so runs measure the clients' traffic).
    public var relayCoverRate = 0.0
    public var directoryPeriod: Duration = .seconds(3_600)
    /// The clients' resend backoff (client.yaml `messages.retry_*_seconds`). The first resend
    /// waits at least two poll intervals (a receipt needs one poll at each end), as a client
    /// configured with a long poll interval should.
    public var retryInitial: Duration = .seconds(2)
    public var retryMax: Duration = .seconds(300)
    /// The longest the network runs after `duration` to deliver what is still on its way.
    public var drain: Duration = .seconds(1_800)
    /// Groups (issue 13): a group of `groupSize` clients (client 0 is its admin, adding the
    /// others as contacts first) made when the workload starts; each member posts every
    /// `groupPostInterval` on average; the admin removes `groupRemovals` members and adds
    /// `groupJoins` more clients (contacts it also added) at even times of the workload, and
    /// `groupLeaves` members leave on their own (the admin, the only one, rekeys). 0: none.
    public var groupSize = 0
    public var groupPostInterval: Duration = .seconds(60)
    public var groupRemovals = 0
    public var groupJoins = 0
    public var groupLeaves = 0
    /// How long a run with a group goes on after `duration` at least (its posts need a fetch or two).
    public var groupDrain: Duration = .seconds(120)
    /// Threads that run nodes within a window. The output does not depend on it.
    public var threads = 1

    public init() {}

    /// The first resend's wait the clients use: `retryInitial`, or two poll intervals if longer.
    public var effectiveRetryInitial: Duration { max(retryInitial, pollInterval * 2) }
}
