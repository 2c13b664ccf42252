/// How a ``Devnet`` lays out its network. The defaults are `secirc devnet`'s.
public struct DevnetOptions: Sendable {
    /// Where configuration, data and logs go; nil: a new directory under /tmp.
    public var directory: String?
    /// The directory holding `secirc-relay` and `secirc-client`.
    public var binDirectory: String
    /// What ``Devnet/start()`` starts. The relays: the first is the first ring, the others
    /// trust it.
    public var relayNames = ["a", "b", "c"]
    /// How many of ``relayNames`` (the first ones) form the first ring: 1, the first relay
    /// signs alone; more, they vote each directory period (``directoryPeriodSeconds`` at least 4).
    public var ringSize = 1
    /// The clients ``Devnet/start()`` starts (each is also its display name); every pair
    /// becomes contacts.
    public var clientNames = ["alice", "bob"]
    /// `security.yaml` network.mean_delay_ms for every relay and client (nil: its default).
    public var meanDelayMilliseconds: Int?
    /// security.yaml network.cover_rate_per_s (nil: its default): the clients' payload-stream rate λ.
    public var coverRatePerSecond: Double?
    /// security.yaml network.loop_rate_per_s (nil: its default): the clients' loop-stream rate λ_L.
    public var loopRatePerSecond: Double?
    /// security.yaml network.relay_cover_rate_per_s (nil: its default): each relay's cover stream.
    public var relayCoverRatePerSecond: Double?
    /// client.yaml network.poll_interval_ms.
    public var pollIntervalMilliseconds = 100
    /// client.yaml network.path_length.
    public var pathLength = 3
    /// client.yaml network.cover_traffic.
    public var coverTraffic = "off"
    /// client.yaml network.push (on by default, as in client.yaml).
    public var push = true
    /// client.yaml contacts.auto_accept: the devnet's clients accept contact requests for you, so
    /// a contact added on one side appears on the other at once (false: they wait for
    /// `secirc contacts accept`; ``Devnet/introduce(_:to:)`` accepts its own either way).
    public var autoAccept = true
    /// client.yaml messages.retry_initial_seconds and retry_max_seconds: resends until a
    /// receipt arrives, sooner than the defaults (2 and 300) on a network of one machine.
    public var retryInitialSeconds = 1
    public var retryMaxSeconds = 10
    /// security.yaml `admission` of the first ring: every devnet relay advertises and uploads
    /// from 127.0.0.1, so the caps per address and per /24 are raised from their defaults (2
    /// and 4) to 16, and the upload rate per host from 30 a minute (bursts of 10) to 600 (100);
    /// new relays per period stay at the default, 8. A devnet's relays are all new: they earn
    /// full weight and `mailbox` at once (probation 0 hours, not 24). Pairs written as given
    /// (plain YAML scalars).
    public var admission: [(key: String, value: String)] = [
        ("max_relays_per_address", "16"), ("max_relays_per_prefix", "16"), ("uploads_per_minute", "600"), ("upload_burst", "100"),
        ("probation_hours", "0"),
    ]
    /// server.yaml directory.period_seconds of the relays.
    public var directoryPeriodSeconds = 10
    /// server.yaml keys.rotation_seconds and keys.grace_seconds of the relays (nil: their defaults).
    public var keyRotationSeconds: Int?
    public var keyGraceSeconds: Int?
    /// server.yaml udp.queue_packets of the relays (nil: its default).
    public var relayQueuePackets: Int?
    /// server.yaml udp.workers of the relays (nil: its default, one per core).
    public var relayWorkers: Int?
    /// server.yaml log.level of the relays (nil: its default).
    public var relayLogLevel: String?
    /// server.yaml `http.tls: self_signed`: relays serve HTTPS with a certificate they make on
    /// first start. The launcher speaks plain HTTP, so it then only waits for a relay's banner
    /// and learns no identity key: such a relay cannot be another relay's first ring.
    public var selfSignedTLS = false
    /// Put before every daemon's command line, e.g. `["/usr/bin/taskset", "-c", "0"]`.
    public var commandPrefix: [String] = []
    /// The deadline of each start-up stage, in seconds.
    public var stageTimeout: Double = 60
    /// The deadline for stopping children with SIGTERM before SIGKILL, in seconds.
    public var stopTimeout: Double = 15

    public init(binDirectory: String, directory: String? = nil) {
        self.binDirectory = binDirectory
        self.directory = directory
    }
}
