internal import Foundation

/// `client.yaml`: how one client daemon runs.
public struct ClientConfig: Sendable, Equatable {
    public enum CoverProfile: String, CaseIterable, Sendable {
        /// No cover traffic: lowest latency, for tests and development only.
        case off
        /// Cover at the network's λ, real packets replace cover packets.
        case balanced
        /// Twice λ and longer delays.
        case strong
    }

    public struct API: Sendable, Equatable {
        /// Loopback only: the API can read every message.
        public var listen = HostPort(host: "127.0.0.1", port: 6692)
        /// Open connections in all; beyond it new ones wait in the listen backlog.
        public var maxConnections = 256
        /// Open connections from one address (every API client is on loopback, most on
        /// 127.0.0.1); beyond it new ones are closed on arrival. 0: no limit.
        public var maxConnectionsPerIP = 128
        /// A request's headers must be complete this long after its connection opened.
        public var headerTimeoutSeconds = 10.0
        /// Open `GET /v1/events` streams; one more is answered 503 with Retry-After. Below
        /// `max_connections_per_ip`, so that streams leave room for the other calls.
        public var maxEventStreams = 64
    }

    public struct Network: Sendable, Equatable {
        /// Relay HTTP base URLs the directory is first fetched from (only used if its signatures verify).
        public var bootstrapURLs = ["http://127.0.0.1:6691"]
        /// A domain whose TXT records each hold one more bootstrap URL ("" for none).
        public var bootstrapDNS = ""
        /// Where DNS lookups go instead of /etc/resolv.conf's servers (tests); nil: the system's.
        public var dnsServer: HostPort?
        /// Relays per onion path.
        public var pathLength = 3
        /// Mailbox relays to register at.
        public var mailboxRelays = 2
        public var coverProfile = CoverProfile.balanced
        /// How often the mailboxes are fetched while one has no push subscription (milliseconds).
        public var pollIntervalMilliseconds = 1000
        /// Push delivery: mailbox relays send new mail down the client's link at once.
        public var push = true
        /// How often the mailboxes are fetched while every one is subscribed (milliseconds).
        public var pushPollIntervalMilliseconds = 10_000
    }

    /// Contact requests (docs/PROTOCOL.md §8, Consent).
    public struct Contacts: Sendable, Equatable {
        /// Session set-ups from unknown identities become contacts at once instead of requests
        /// the user accepts or rejects: for bots and tests.
        public var autoAccept = false
        /// Requests waiting for the user, at most; more set-ups are refused (`request_limit`).
        public var maxPendingRequests = 32
    }

    public struct Storage: Sendable, Equatable {
        /// A file holding the passphrase the storage key is derived from (Argon2id); empty = a 0600 key file.
        public var passphraseFile = ""
    }

    public struct Messages: Sendable, Equatable {
        public var maxFileBytes = 16 << 20
        public var retryInitialSeconds = 2
        public var retryMaxSeconds = 300
    }

    public var dataDirectory = "data/client"
    /// The name offered in this client's invites ("" = none).
    public var displayName = ""
    public var api = API()
    public var network = Network()
    public var contacts = Contacts()
    public var storage = Storage()
    public var messages = Messages()
    public var logLevel = LogLevel.info

    public init() {}

    /// Reads `path` (nil: defaults) with `SECIRC_CLIENT_*` overrides from `environment`.
    public static func load(path: String?, environment: [String: String]? = nil) throws -> ClientConfig {
        try ConfigLoading.load(path: path, defaultName: "client.yaml", environmentPrefix: "SECIRC_CLIENT_",
                               environment: environment ?? ProcessInfo.processInfo.environment, decode: decode)
    }

    public static func parse(yaml: String, file: String = "client.yaml", environment: [String: String] = [:]) throws -> ClientConfig {
        try ConfigLoading.parse(yaml: yaml, file: file, environmentPrefix: "SECIRC_CLIENT_", environment: environment, decode: decode)
    }

    private static func decode(_ root: ConfigReader.Section) throws -> ClientConfig {
        var c = ClientConfig()
        try root.section("client") { s in
            c.dataDirectory = try s.string("data_dir", default: c.dataDirectory)
            c.displayName = try s.string("display_name", default: c.displayName)
            guard c.displayName.utf8.count <= 64 else { throw s.invalid("display_name", "longer than 64 bytes") }
        }
        try root.section("api") { s in
            c.api.listen = try s.hostPort("listen", default: c.api.listen)
            guard c.api.listen.isLoopback else {
                throw s.invalid("listen", "\"\(c.api.listen)\" is not a loopback address; the client API must stay on 127.0.0.1 or ::1")
            }
            (c.api.maxConnections, c.api.maxConnectionsPerIP, c.api.headerTimeoutSeconds) = try ConfigLoading.connectionLimits(
                s, defaults: (c.api.maxConnections, c.api.maxConnectionsPerIP, c.api.headerTimeoutSeconds))
            c.api.maxEventStreams = try s.int("max_event_streams", default: c.api.maxEventStreams, in: 1...1_000_000)
            let room = c.api.maxConnectionsPerIP > 0 ? c.api.maxConnectionsPerIP : c.api.maxConnections
            if c.api.maxEventStreams >= room {
                throw s.invalid("max_event_streams", "\(c.api.maxEventStreams) leaves no connection for other calls (max_connections_per_ip \(c.api.maxConnectionsPerIP), max_connections \(c.api.maxConnections))")
            }
        }
        try root.section("network") { s in
            c.network.bootstrapURLs = try s.list("bootstrap_urls", default: c.network.bootstrapURLs, ConfigLoading.bootstrapURL)
            c.network.bootstrapDNS = try s.scalar("bootstrap_dns", default: "", ConfigLoading.domain)
            c.network.dnsServer = try s.scalar("dns_server", default: nil, ConfigLoading.dnsServer)
            if c.network.bootstrapURLs.isEmpty, c.network.bootstrapDNS.isEmpty {
                throw s.invalid("bootstrap_urls", "empty, and no bootstrap_dns: the directory could not be fetched from anywhere")
            }
            c.network.pathLength = try s.int("path_length", default: c.network.pathLength, in: 1...5)
            c.network.mailboxRelays = try s.int("mailbox_relays", default: c.network.mailboxRelays, in: 1...4)
            c.network.coverProfile = try s.choice("cover_traffic", default: c.network.coverProfile)
            c.network.pollIntervalMilliseconds = try s.int("poll_interval_ms", default: c.network.pollIntervalMilliseconds, in: 50...60_000)
            c.network.push = try s.bool("push", default: c.network.push)
            // Below 60 s: a rekeyed link must be subscribed again before its old session ends.
            c.network.pushPollIntervalMilliseconds = try s.int("push_poll_interval_ms", default: c.network.pushPollIntervalMilliseconds,
                                                               in: 1_000...55_000)
        }
        try root.section("contacts") { s in
            c.contacts.autoAccept = try s.bool("auto_accept", default: c.contacts.autoAccept)
            c.contacts.maxPendingRequests = try s.int("max_pending_requests", default: c.contacts.maxPendingRequests, in: 1...10_000)
        }
        try root.section("storage") { s in
            c.storage.passphraseFile = try s.string("passphrase_file", default: c.storage.passphraseFile)
        }
        try root.section("messages") { s in
            c.messages.maxFileBytes = try s.int("max_file_bytes", default: c.messages.maxFileBytes, in: 1024...(1 << 30))
            c.messages.retryInitialSeconds = try s.int("retry_initial_seconds", default: c.messages.retryInitialSeconds, in: 1...3600)
            c.messages.retryMaxSeconds = try s.int("retry_max_seconds", default: c.messages.retryMaxSeconds, in: 1...86_400)
            if c.messages.retryMaxSeconds < c.messages.retryInitialSeconds {
                throw s.invalid("retry_max_seconds", "is shorter than retry_initial_seconds")
            }
        }
        try root.section("log") { s in
            c.logLevel = try s.choice("level", default: c.logLevel)
        }
        return c
    }
}
