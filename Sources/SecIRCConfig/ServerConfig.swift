internal import Foundation

/// `server.yaml`: how one relay runs. Every key has a default that works on one machine;
/// `config/server.yaml` documents each.
public struct ServerConfig: Sendable, Equatable {
    public struct Relay: Sendable, Equatable {
        /// Free-form name shown to operators (not used for routing).
        public var name = "secirc-relay"
        /// Where the identity key, onion keys, admin token and TLS files live.
        public var dataDirectory = "data/relay"
    }

    public struct UDP: Sendable, Equatable {
        public var listen = HostPort(host: "0.0.0.0", port: 6690)
        /// The address other relays and clients use; nil = derived from `listen`.
        public var advertise: HostPort?
        public var socketBufferBytes = 4 << 20
        /// Datagrams per recvmmsg/sendmmsg call.
        public var batch = 32
        /// Packets waiting out their per-hop mixing delay; beyond it they are dropped and counted.
        public var queuePackets = 8192
        /// Threads that peel Sphinx packets; 0 = one per core (``effectiveWorkers``). 1 peels
        /// on the relay's loop thread itself.
        public var workers = 0

        /// `workers`, with 0 resolved to the number of cores this process may run on.
        public var effectiveWorkers: Int {
            workers > 0 ? workers : max(ProcessInfo.processInfo.activeProcessorCount, 1)
        }
    }

    public enum TLSMode: String, CaseIterable, Sendable {
        /// Plain HTTP (the directory is signed, so it stays trustworthy).
        case off
        /// HTTPS with a key and certificate made on first start in the data dir.
        case selfSigned = "self_signed"
        /// HTTPS with `cert_file` and `key_file`.
        case files
    }

    public struct HTTP: Sendable, Equatable {
        public var listen = HostPort(host: "0.0.0.0", port: 6691)
        /// The base URL published in the descriptor; nil = derived from `listen`.
        public var publicURL: String?
        public var tls = TLSMode.off
        public var certificateFile = ""
        public var keyFile = ""
        public var maxBodyBytes = 64 << 10
        public var threads = 2
        /// Open connections in all; beyond it new ones wait in the listen backlog.
        public var maxConnections = 1024
        /// Open connections from one IPv4 address or IPv6 /64; beyond it new ones are closed
        /// on arrival. 0: no limit.
        public var maxConnectionsPerIP = 64
        /// A request's headers must be complete this long after its connection opened.
        public var headerTimeoutSeconds = 10.0
    }

    public struct Mailbox: Sendable, Equatable {
        public var ttlSeconds = 7 * 86_400
        /// Messages one contact's deposit queue may hold.
        public var maxMessagesPerQueue = 1_000
        /// Messages one group mailbox may hold (kept for the TTL; members fetch by cursor).
        public var maxMessagesPerGroup = 10_000
        /// Contact queues one mailbox may register, and all together.
        public var maxQueuesPerMailbox = 1_024
        public var maxQueues = 1_000_000
        public var maxMailboxes = 100_000
        public var maxTotalBytes = 256 << 20
        /// The introduction queue (the address in invites): a cap and a rate per mailbox.
        public var introMaxMessages = 128
        public var introPerMinute = 60
        public var introBurst = 32
        /// Deposits that name no known mailbox or queue: how long they wait to be claimed, and
        /// how many are held per incoming link and in all.
        public var unclaimedTTLSeconds = 120
        public var unclaimedPerLink = 64
        public var unclaimedMax = 4_096
    }

    public struct Keys: Sendable, Equatable {
        /// Onion key lifetime. Seconds are allowed, for tests.
        public var rotationSeconds = 86_400
        /// How long the previous onion key is still accepted after a rotation.
        public var graceSeconds = 3_600
    }

    public struct Directory: Sendable, Equatable {
        /// How often the first ring signs a new directory.
        public var periodSeconds = 3_600
        /// Where a relay that is not in the first ring fetches the directory and uploads its descriptor.
        public var bootstrapURLs: [String] = []
        /// A domain whose TXT records each hold one more bootstrap URL ("" for none).
        public var bootstrapDNS = ""
        /// Where DNS lookups go instead of /etc/resolv.conf's servers (tests); nil: the system's.
        public var dnsServer: HostPort?
    }

    public var relay = Relay()
    public var udp = UDP()
    public var http = HTTP()
    public var mailbox = Mailbox()
    public var keys = Keys()
    public var directory = Directory()
    public var logLevel = LogLevel.info

    public init() {}

    /// Reads `path` (nil: defaults) with `SECIRC_SERVER_*` overrides from `environment`.
    public static func load(path: String?, environment: [String: String]? = nil) throws -> ServerConfig {
        try ConfigLoading.load(path: path, defaultName: "server.yaml", environmentPrefix: "SECIRC_SERVER_",
                               environment: environment ?? ProcessInfo.processInfo.environment, decode: decode)
    }

    /// Parses YAML text; `file` is the name errors show.
    public static func parse(yaml: String, file: String = "server.yaml", environment: [String: String] = [:]) throws -> ServerConfig {
        try ConfigLoading.parse(yaml: yaml, file: file, environmentPrefix: "SECIRC_SERVER_", environment: environment, decode: decode)
    }

    private static func decode(_ root: ConfigReader.Section) throws -> ServerConfig {
        var c = ServerConfig()
        try root.section("relay") { s in
            c.relay.name = try s.string("name", default: c.relay.name, maxLength: 64)
            c.relay.dataDirectory = try s.string("data_dir", default: c.relay.dataDirectory)
        }
        try root.section("udp") { s in
            c.udp.listen = try s.hostPort("listen", default: c.udp.listen)
            c.udp.advertise = try s.scalar("advertise", default: nil) { (text) throws(ConfigValueError) in
                text.isEmpty ? nil : try HostPort(parsing: text)
            }
            if let advertise = c.udp.advertise, advertise.isWildcard || advertise.port == 0 {
                throw s.invalid("advertise", "\"\(advertise)\" cannot be reached by others (wildcard host or port 0)")
            }
            c.udp.socketBufferBytes = try s.int("socket_buffer_bytes", default: c.udp.socketBufferBytes, in: (64 << 10)...(256 << 20))
            c.udp.batch = try s.int("batch", default: c.udp.batch, in: 1...1024)
            c.udp.queuePackets = try s.int("queue_packets", default: c.udp.queuePackets, in: 16...(1 << 20))
            c.udp.workers = try s.int("workers", default: c.udp.workers, in: 0...256)
        }
        try root.section("http") { s in
            c.http.listen = try s.hostPort("listen", default: c.http.listen)
            c.http.publicURL = try s.scalar("public_url", default: nil) { (text) throws(ConfigValueError) in
                text.isEmpty ? nil : try ConfigLoading.url(text)
            }
            c.http.tls = try s.choice("tls", default: c.http.tls)
            c.http.certificateFile = try s.string("cert_file", default: c.http.certificateFile)
            c.http.keyFile = try s.string("key_file", default: c.http.keyFile)
            if c.http.tls == .files {
                if c.http.certificateFile.isEmpty { throw s.invalid("cert_file", "required when tls is \"files\"") }
                if c.http.keyFile.isEmpty { throw s.invalid("key_file", "required when tls is \"files\"") }
            }
            c.http.maxBodyBytes = try s.int("max_body_bytes", default: c.http.maxBodyBytes, in: 1024...(16 << 20))
            c.http.threads = try s.int("threads", default: c.http.threads, in: 1...64)
            (c.http.maxConnections, c.http.maxConnectionsPerIP, c.http.headerTimeoutSeconds) = try ConfigLoading.connectionLimits(
                s, defaults: (c.http.maxConnections, c.http.maxConnectionsPerIP, c.http.headerTimeoutSeconds))
        }
        try root.section("mailbox") { s in
            c.mailbox.ttlSeconds = try s.int("ttl_seconds", default: c.mailbox.ttlSeconds, in: 1...(90 * 86_400))
            c.mailbox.maxMessagesPerQueue = try s.int("max_messages_per_queue", default: c.mailbox.maxMessagesPerQueue, in: 1...1_000_000)
            c.mailbox.maxMessagesPerGroup = try s.int("max_messages_per_group", default: c.mailbox.maxMessagesPerGroup, in: 1...1_000_000)
            c.mailbox.maxQueuesPerMailbox = try s.int("max_queues_per_mailbox", default: c.mailbox.maxQueuesPerMailbox, in: 1...65_535)
            c.mailbox.maxQueues = try s.int("max_queues", default: c.mailbox.maxQueues, in: 1...100_000_000)
            c.mailbox.maxMailboxes = try s.int("max_mailboxes", default: c.mailbox.maxMailboxes, in: 1...10_000_000)
            c.mailbox.maxTotalBytes = try s.int("max_total_bytes", default: c.mailbox.maxTotalBytes, in: (1 << 20)...(64 << 30))
            c.mailbox.introMaxMessages = try s.int("intro_max_messages", default: c.mailbox.introMaxMessages, in: 1...1_000_000)
            c.mailbox.introPerMinute = try s.int("intro_per_minute", default: c.mailbox.introPerMinute, in: 1...60_000)
            c.mailbox.introBurst = try s.int("intro_burst", default: c.mailbox.introBurst, in: 1...100_000)
            c.mailbox.unclaimedTTLSeconds = try s.int("unclaimed_ttl_seconds", default: c.mailbox.unclaimedTTLSeconds, in: 1...86_400)
            c.mailbox.unclaimedPerLink = try s.int("unclaimed_per_link", default: c.mailbox.unclaimedPerLink, in: 0...1_000_000)
            c.mailbox.unclaimedMax = try s.int("unclaimed_max", default: c.mailbox.unclaimedMax, in: 0...10_000_000)
        }
        try root.section("keys") { s in
            c.keys.rotationSeconds = try s.int("rotation_seconds", default: c.keys.rotationSeconds, in: 1...(365 * 86_400))
            c.keys.graceSeconds = try s.int("grace_seconds", default: c.keys.graceSeconds, in: 0...(365 * 86_400))
            if c.keys.graceSeconds > c.keys.rotationSeconds {
                throw s.invalid("grace_seconds", "\(c.keys.graceSeconds) is longer than rotation_seconds (\(c.keys.rotationSeconds))")
            }
        }
        try root.section("directory") { s in
            c.directory.periodSeconds = try s.int("period_seconds", default: c.directory.periodSeconds, in: 1...(7 * 86_400))
            c.directory.bootstrapURLs = try s.list("bootstrap_urls", default: [], ConfigLoading.bootstrapURL)
            c.directory.bootstrapDNS = try s.scalar("bootstrap_dns", default: "", ConfigLoading.domain)
            c.directory.dnsServer = try s.scalar("dns_server", default: nil, ConfigLoading.dnsServer)
        }
        try root.section("log") { s in
            c.logLevel = try s.choice("level", default: c.logLevel)
        }
        if c.directory.periodSeconds >= c.keys.rotationSeconds {
            throw root.reader.error(["directory", "period_seconds"],
                                    "\(c.directory.periodSeconds) is not shorter than keys.rotation_seconds (\(c.keys.rotationSeconds)): "
                                        + "next onion keys would not reach senders before they take over")
        }
        return c
    }
}
