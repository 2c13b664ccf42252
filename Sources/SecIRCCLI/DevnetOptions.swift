/// How `Devnet` lays out its network. The defaults are `secirc devnet`'s.
public struct DevnetOptions: Sendable {
    /// Where configuration, data and logs go; nil: a new directory under /tmp.
    public var directory: String?
    /// The directory holding `secirc-relay` and `secirc-client`.
    public var binDirectory: String
    /// The relays: the first is the first ring, the others trust it.
    public var relayNames = ["a", "b", "c"]
    /// The clients (each is also its display name); every pair becomes contacts.
    public var clientNames = ["alice", "bob"]
    /// `security.yaml` network.mean_delay_ms for every relay and client (nil: its default).
    public var meanDelayMilliseconds: Int?
    /// client.yaml network.poll_interval_ms.
    public var pollIntervalMilliseconds = 100
    /// client.yaml network.path_length.
    public var pathLength = 3
    /// client.yaml network.cover_traffic.
    public var coverTraffic = "off"
    /// client.yaml messages.retry_initial_seconds and retry_max_seconds: resends until a
    /// receipt arrives, sooner than the defaults (2 and 300) on a network of one machine.
    public var retryInitialSeconds = 1
    public var retryMaxSeconds = 10
    /// server.yaml directory.period_seconds of the first ring.
    public var directoryPeriodSeconds = 10
    /// The deadline of each start-up stage, in seconds.
    public var stageTimeout: Double = 60
    /// The deadline for stopping children with SIGTERM before SIGKILL, in seconds.
    public var stopTimeout: Double = 15

    public init(binDirectory: String, directory: String? = nil) {
        self.binDirectory = binDirectory
        self.directory = directory
    }
}
