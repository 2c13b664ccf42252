internal import SecIRCConfig

/// The effective configuration for `GET /v1/admin/config`. Nothing in server.yaml or
/// security.yaml is a secret itself, but paths to key material are shown only as set/unset.
public struct RedactedConfig: Encodable, Sendable {
    struct Server: Encodable {
        var name: String
        var dataDir: String
        var udpListen: String
        var udpAdvertise: String?
        var udpBatch: Int
        var udpQueuePackets: Int
        var httpListen: String
        var httpPublicURL: String?
        var tls: String
        var tlsKeyFile: String
        var maxBodyBytes: Int
        var mailboxTTLSeconds: Int
        var mailboxMaxMessagesPerQueue: Int
        var mailboxMaxMessagesPerGroup: Int
        var mailboxMaxQueuesPerMailbox: Int
        var mailboxMaxQueues: Int
        var mailboxMaxMailboxes: Int
        var mailboxMaxTotalBytes: Int
        var mailboxIntroMaxMessages: Int
        var mailboxIntroPerMinute: Int
        var mailboxIntroBurst: Int
        var mailboxUnclaimedTTLSeconds: Int
        var mailboxUnclaimedPerLink: Int
        var mailboxUnclaimedMax: Int
        var keyRotationSeconds: Int
        var keyGraceSeconds: Int
        var directoryPeriodSeconds: Int
        var directoryBootstrapURLs: [String]
        var logLevel: String

        enum CodingKeys: String, CodingKey {
            case name, tls
            case dataDir = "relay.data_dir"
            case udpListen = "udp.listen"
            case udpAdvertise = "udp.advertise"
            case udpBatch = "udp.batch"
            case udpQueuePackets = "udp.queue_packets"
            case httpListen = "http.listen"
            case httpPublicURL = "http.public_url"
            case tlsKeyFile = "http.key_file"
            case maxBodyBytes = "http.max_body_bytes"
            case mailboxTTLSeconds = "mailbox.ttl_seconds"
            case mailboxMaxMessagesPerQueue = "mailbox.max_messages_per_queue"
            case mailboxMaxMessagesPerGroup = "mailbox.max_messages_per_group"
            case mailboxMaxQueuesPerMailbox = "mailbox.max_queues_per_mailbox"
            case mailboxMaxQueues = "mailbox.max_queues"
            case mailboxMaxMailboxes = "mailbox.max_mailboxes"
            case mailboxMaxTotalBytes = "mailbox.max_total_bytes"
            case mailboxIntroMaxMessages = "mailbox.intro_max_messages"
            case mailboxIntroPerMinute = "mailbox.intro_per_minute"
            case mailboxIntroBurst = "mailbox.intro_burst"
            case mailboxUnclaimedTTLSeconds = "mailbox.unclaimed_ttl_seconds"
            case mailboxUnclaimedPerLink = "mailbox.unclaimed_per_link"
            case mailboxUnclaimedMax = "mailbox.unclaimed_max"
            case keyRotationSeconds = "keys.rotation_seconds"
            case keyGraceSeconds = "keys.grace_seconds"
            case directoryPeriodSeconds = "directory.period_seconds"
            case directoryBootstrapURLs = "directory.bootstrap_urls"
            case logLevel = "log.level"
        }
    }

    struct Security: Encodable {
        var firstRingMembers: [String]
        var threshold: Int
        var validitySeconds: Int
        var coverRate: Double
        var loopRate: Double
        var relayCoverRate: Double
        var meanDelayMs: Int
        var admissionMode: String
        var maxRelaysPerAddress: Int
        var maxRelaysPerPrefix: Int
        var newRelaysPerPeriod: Int
        var uploadsPerMinute: Int
        var uploadBurst: Int
        var probationHours: Int
        var recheckMinutes: Int
        var maxCapacity: Int
        enum CodingKeys: String, CodingKey {
            case threshold
            case admissionMode = "admission.mode"
            case maxRelaysPerAddress = "admission.max_relays_per_address"
            case maxRelaysPerPrefix = "admission.max_relays_per_prefix"
            case newRelaysPerPeriod = "admission.new_relays_per_period"
            case uploadsPerMinute = "admission.uploads_per_minute"
            case uploadBurst = "admission.upload_burst"
            case probationHours = "admission.probation_hours"
            case recheckMinutes = "admission.recheck_minutes"
            case maxCapacity = "admission.max_capacity"
            case validitySeconds = "first_ring.validity_seconds"
            case firstRingMembers = "first_ring.members"
            case coverRate = "network.cover_rate_per_s"
            case loopRate = "network.loop_rate_per_s"
            case relayCoverRate = "network.relay_cover_rate_per_s"
            case meanDelayMs = "network.mean_delay_ms"
        }
    }

    let server: Server
    let security: Security

    public init(_ settings: RelaySettings) {
        let s = settings.server
        server = Server(
            name: s.relay.name, dataDir: s.relay.dataDirectory, udpListen: s.udp.listen.description,
            udpAdvertise: s.udp.advertise?.description, udpBatch: s.udp.batch, udpQueuePackets: s.udp.queuePackets,
            httpListen: s.http.listen.description, httpPublicURL: s.http.publicURL, tls: s.http.tls.rawValue,
            tlsKeyFile: s.http.keyFile.isEmpty ? "" : "<set>", maxBodyBytes: s.http.maxBodyBytes,
            mailboxTTLSeconds: s.mailbox.ttlSeconds, mailboxMaxMessagesPerQueue: s.mailbox.maxMessagesPerQueue,
            mailboxMaxMessagesPerGroup: s.mailbox.maxMessagesPerGroup,
            mailboxMaxQueuesPerMailbox: s.mailbox.maxQueuesPerMailbox, mailboxMaxQueues: s.mailbox.maxQueues,
            mailboxMaxMailboxes: s.mailbox.maxMailboxes, mailboxMaxTotalBytes: s.mailbox.maxTotalBytes,
            mailboxIntroMaxMessages: s.mailbox.introMaxMessages, mailboxIntroPerMinute: s.mailbox.introPerMinute,
            mailboxIntroBurst: s.mailbox.introBurst, mailboxUnclaimedTTLSeconds: s.mailbox.unclaimedTTLSeconds,
            mailboxUnclaimedPerLink: s.mailbox.unclaimedPerLink, mailboxUnclaimedMax: s.mailbox.unclaimedMax,
            keyRotationSeconds: s.keys.rotationSeconds, keyGraceSeconds: s.keys.graceSeconds,
            directoryPeriodSeconds: s.directory.periodSeconds, directoryBootstrapURLs: s.directory.bootstrapURLs,
            logLevel: s.logLevel.rawValue)
        let ring = settings.security.firstRing
        let admission = settings.security.admission
        security = Security(firstRingMembers: ring.members.map { $0.id.hex },
                            threshold: ring.effectiveThreshold(memberCount: max(ring.members.count, 1)),
                            validitySeconds: ring.validitySeconds,
                            coverRate: settings.security.network.coverRatePerSecond,
                            loopRate: settings.security.network.loopRatePerSecond,
                            relayCoverRate: settings.security.network.relayCoverRatePerSecond,
                            meanDelayMs: settings.security.network.meanDelayMilliseconds,
                            admissionMode: admission.mode.rawValue, maxRelaysPerAddress: admission.maxRelaysPerAddress,
                            maxRelaysPerPrefix: admission.maxRelaysPerPrefix, newRelaysPerPeriod: admission.newRelaysPerPeriod,
                            uploadsPerMinute: admission.uploadsPerMinute, uploadBurst: admission.uploadBurst,
                            probationHours: admission.probationHours, recheckMinutes: admission.recheckMinutes,
                            maxCapacity: admission.maxCapacity)
    }
}
