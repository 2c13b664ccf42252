/// `GET /v1/network`: what the daemon knows of the relay network, and its packet counts.
public struct NetworkStatus: Codable, Sendable, Equatable {
    /// The verified directory the daemon holds.
    public struct Directory: Codable, Sendable, Equatable {
        /// Increases by one each directory period.
        public var serial: UInt64
        /// Unix seconds.
        public var validAfter: Int64
        /// Unix seconds.
        public var validUntil: Int64
        /// Seconds since it was fetched and verified.
        public var ageSeconds: Int64
        /// How many relays it lists.
        public var relays: Int
        /// The channel that brought it: `http`, `https`, `https-pinned`, `dns`, `peer` or `cache`
        /// (its signatures were checked whatever the channel).
        public var channel: String
        /// Unix seconds when it was fetched and verified.
        public var fetchedAt: Int64
        /// The epoch of the first ring the daemon trusts: 0 for the configured roster, one more
        /// for each roster change it followed (docs/PROTOCOL.md §3.5).
        public var rosterEpoch: UInt64
        /// Members of that roster, and the signatures a directory needs.
        public var ringMembers: Int
        public var ringThreshold: Int

        public init(serial: UInt64, validAfter: Int64, validUntil: Int64, ageSeconds: Int64, relays: Int, channel: String,
                    fetchedAt: Int64, rosterEpoch: UInt64 = 0, ringMembers: Int = 1, ringThreshold: Int = 1) {
            self.serial = serial
            self.validAfter = validAfter
            self.validUntil = validUntil
            self.ageSeconds = ageSeconds
            self.relays = relays
            self.channel = channel
            self.fetchedAt = fetchedAt
            self.rosterEpoch = rosterEpoch
            self.ringMembers = ringMembers
            self.ringThreshold = ringThreshold
        }

        /// The ring fields are read when present (a daemon before governance did not send them).
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            self.init(serial: try c.decode(UInt64.self, forKey: .serial), validAfter: try c.decode(Int64.self, forKey: .validAfter),
                      validUntil: try c.decode(Int64.self, forKey: .validUntil), ageSeconds: try c.decode(Int64.self, forKey: .ageSeconds),
                      relays: try c.decode(Int.self, forKey: .relays), channel: try c.decode(String.self, forKey: .channel),
                      fetchedAt: try c.decode(Int64.self, forKey: .fetchedAt),
                      rosterEpoch: try c.decodeIfPresent(UInt64.self, forKey: .rosterEpoch) ?? 0,
                      ringMembers: try c.decodeIfPresent(Int.self, forKey: .ringMembers) ?? 1,
                      ringThreshold: try c.decodeIfPresent(Int.self, forKey: .ringThreshold) ?? 1)
        }

        enum CodingKeys: String, CodingKey {
            case serial, relays, channel
            case rosterEpoch = "roster_epoch"
            case ringMembers = "ring_members"
            case ringThreshold = "ring_threshold"
            case fetchedAt = "fetched_at"
            case validAfter = "valid_after"
            case validUntil = "valid_until"
            case ageSeconds = "age_seconds"
        }
    }

    /// A relay of the directory.
    public struct Relay: Codable, Sendable, Equatable {
        /// Its id, 64 lowercase hex digits.
        public var id: String
        /// Its UDP address, host:port.
        public var udp: String
        /// True while the daemon holds a link to it.
        public var linked: Bool

        public init(id: String, udp: String, linked: Bool) {
            self.id = id
            self.udp = udp
            self.linked = linked
        }
    }

    /// nil, sent as `null`, before a directory is verified.
    public var directory: Directory?
    public var mailboxes: [Mailbox]
    public var relays: [Relay]
    /// Hops of an onion path, 1 to 5.
    public var pathLength: Int
    /// "off", "balanced" or "strong".
    public var coverTraffic: String
    public var coverPacketsSent: Int
    public var packetsSent: Int
    /// Mailbox bodies fetched (real and cover).
    public var packetsReceived: Int
    /// Fetched bodies that were not for this client to open (its loop cover packets, or noise).
    public var coverPacketsReceived: Int
    /// What was dropped or failed, by reason (`fetch_failed`, `undecryptable`, ...).
    public var drops: [String: Int]
    /// Outgoing messages not yet delivered.
    public var outbox: Int

    public init(directory: Directory?, mailboxes: [Mailbox], relays: [Relay], pathLength: Int, coverTraffic: String,
                coverPacketsSent: Int, packetsSent: Int, packetsReceived: Int, coverPacketsReceived: Int,
                drops: [String: Int], outbox: Int) {
        self.directory = directory
        self.mailboxes = mailboxes
        self.relays = relays
        self.pathLength = pathLength
        self.coverTraffic = coverTraffic
        self.coverPacketsSent = coverPacketsSent
        self.packetsSent = packetsSent
        self.packetsReceived = packetsReceived
        self.coverPacketsReceived = coverPacketsReceived
        self.drops = drops
        self.outbox = outbox
    }

    enum CodingKeys: String, CodingKey {
        case directory, mailboxes, relays, outbox, drops
        case pathLength = "path_length"
        case coverTraffic = "cover_traffic"
        case coverPacketsSent = "cover_packets_sent"
        case packetsSent = "packets_sent"
        case packetsReceived = "packets_received"
        case coverPacketsReceived = "cover_packets_received"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(directory, forKey: .directory) // null, not absent
        try container.encode(mailboxes, forKey: .mailboxes)
        try container.encode(relays, forKey: .relays)
        try container.encode(pathLength, forKey: .pathLength)
        try container.encode(coverTraffic, forKey: .coverTraffic)
        try container.encode(coverPacketsSent, forKey: .coverPacketsSent)
        try container.encode(packetsSent, forKey: .packetsSent)
        try container.encode(packetsReceived, forKey: .packetsReceived)
        try container.encode(coverPacketsReceived, forKey: .coverPacketsReceived)
        try container.encode(drops, forKey: .drops)
        try container.encode(outbox, forKey: .outbox)
    }
}
