import SecIRCCore
public import SecIRCHTTP
import SecIRCLock
public import SecIRCNode

/// What `/metrics` shows: the latest data-plane counters plus HTTP statuses, in Prometheus
/// text format. Thread-safe.
public final class RelayMetrics: Sendable {
    private let counters = Locked(RelayCounters())
    private let httpStatuses = Locked([Int: Int]())
    private let uploads = Locked([UploadResult: Int]())
    private let httpLimits = Locked<(@Sendable () -> HTTPLimitCounters)?>(nil)

    public init() {}

    /// Where the HTTP server's limit counters are read from (set once the server exists).
    public func readHTTPLimits(from source: @escaping @Sendable () -> HTTPLimitCounters) {
        httpLimits.withLock { $0 = source }
    }

    public func publish(_ snapshot: RelayCounters) { counters.withLock { $0 = snapshot } }
    public var snapshot: RelayCounters { counters.withLock { $0 } }
    public func countHTTP(status: Int) { httpStatuses.withLock { $0[status, default: 0] += 1 } }
    public func countUpload(_ result: UploadResult) { uploads.withLock { $0[result, default: 0] += 1 } }

    /// What became of a `POST /v1/descriptors` (`secirc_relay_uploads_total{result}`).
    public enum UploadResult: String, Sendable, CaseIterable {
        case challenged, updated
        /// Malformed JSON, a bad signature, a host name, a stale `published`.
        case invalid
        case banned
        case notAllowed = "not_allowed"
        /// Its IP address or /24 (/48) holds the most relays allowed.
        case addressLimit = "address_limit"
        /// The period's new relays are all listed.
        case newRelayLimit = "new_relay_limit"
        /// Listing it could push the signed directory over its byte limit (or 10,000 relays).
        case directoryFull = "directory_full"
        /// 64 uploads wait for their handshake challenge.
        case busy
        /// The source's upload rate.
        case rateLimited = "rate_limited"
        /// This relay is no first-ring member.
        case notFirstRing = "not_first_ring"

        /// The result of the engine's reply (nil: the relay is stopping).
        init?(_ reply: RelayEngine.Reply?) {
            switch reply {
            case .accepted(_, .challenged)?: self = .challenged
            case .accepted?: self = .updated
            case .notFirstRing?: self = .notFirstRing
            case let .refused(error)?:
                switch error {
                case .invalid, .stale: self = .invalid
                case .banned: self = .banned
                case .notAllowed: self = .notAllowed
                case .addressLimit: self = .addressLimit
                case .newRelayLimit: self = .newRelayLimit
                case .directoryFull, .full: self = .directoryFull
                case .busy: self = .busy
                }
            default: return nil
            }
        }
    }

    /// Prometheus text exposition format 0.0.4.
    public func render() -> String {
        let c = snapshot
        var out = ""
        func metric(_ name: String, _ type: String, _ help: String, _ samples: [(String, Int)]) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
            for (labels, value) in samples { out += "\(name)\(labels) \(value)\n" }
        }
        func labelled<K: RawRepresentable & CaseIterable>(_ layer: String, _ values: [K: Int]) -> [(String, Int)] where K.RawValue == String {
            K.allCases.map { ("{layer=\"\(layer)\",reason=\"\($0.rawValue)\"}", values[$0, default: 0]) }
        }
        metric("secirc_datagrams_received_total", "counter", "UDP datagrams received.", [("", c.datagramsReceived)])
        metric("secirc_relay_challenges_total", "counter",
               "First ring: uploaded relays challenged with a link handshake at their advertised address, by result.",
               [("{result=\"listed\"}", c.relaysAdmitted), ("{result=\"unanswered\"}", c.challengesFailed),
                ("{result=\"deferred\"}", c.admissionsDeferred)])
        metric("secirc_relay_probe_packets_total", "counter",
               "First ring: forwarding-probe packets sent through challenged relays and back, by result.",
               ProbeResult.allCases.map { ("{result=\"\($0.rawValue)\"}", c.probePackets[$0, default: 0]) })
        metric("secirc_relay_cover_packets_total", "counter",
               "The relay's own cover stream: loops through two relays back to itself (sent, returned, lost) and drop cover (sent).",
               CoverResult.allCases.map { ("{kind=\"\($0.labels.kind)\",result=\"\($0.labels.result)\"}", c.coverPackets[$0, default: 0]) })
        let uploadCounts = uploads.withLock { $0 }
        metric("secirc_relay_uploads_total", "counter", "First ring: descriptor uploads (POST /v1/descriptors), by result.",
               UploadResult.allCases.map { ("{result=\"\($0.rawValue)\"}", uploadCounts[$0, default: 0]) })
        if let ring = c.ring {
            metric("secirc_ring_rounds_total", "counter", "First-ring rounds this member took part in, by result.",
                   [("{result=\"published\"}", ring.roundsPublished), ("{result=\"failed\"}", ring.roundsFailed)])
            metric("secirc_ring_refused_total", "counter", "Votes and signature shares from the network refused.",
                   [("{what=\"vote\"}", ring.votesRefused), ("{what=\"share\"}", ring.sharesRefused)])
            metric("secirc_ring_disagreements_total", "counter", "Shares from members that computed another consensus.",
                   [("", ring.disagreements)])
            metric("secirc_ring_equivocations_total", "counter", "Members caught signing two things for one round (proofs: GET /v1/ring/status).",
                   [("", ring.equivocationCount)])
            metric("secirc_ring_last_published_serial", "gauge", "Serial of the last directory this member published.",
                   [("", Int(clamping: ring.lastPublished))])
        }
        metric("secirc_ring_roster_epoch", "gauge", "Epoch of the first-ring roster in force (0: security.yaml's; docs/PROTOCOL.md §3.5).",
               [("", Int(clamping: c.rosterEpoch))])
        metric("secirc_ring_proposals_pending", "gauge", "Roster change proposals this member holds for the next epoch.",
               [("", c.proposalsPending)])
        metric("secirc_ring_proposals_refused_total", "counter", "Roster change proposals from the network refused.",
               [("", c.proposalsRefused)])
        metric("secirc_datagrams_sent_total", "counter", "UDP datagrams sent.", [("", c.datagramsSent)])
        metric("secirc_send_failures_total", "counter", "Datagrams the kernel did not take.", [("", c.sendFailures)])
        metric("secirc_packets_forwarded_total", "counter", "Sphinx packets peeled and forwarded.", [("", c.forwarded)])
        metric("secirc_packets_delivered_total", "counter", "Sphinx packets delivered to a mailbox.", [("", c.delivered)])
        metric("secirc_cover_dropped_total", "counter", "Cover packets that ended here.", [("", c.coverDropped)])
        metric("secirc_packets_dropped_total", "counter", "Packets dropped, by layer and reason.",
               labelled("sphinx", c.sphinxRejects) + labelled("link", c.linkDrops)
                   + labelled("mailbox", c.mailboxDrops) + labelled("relay", c.relayDrops))
        metric("secirc_sphinx_replays_total", "counter", "Sphinx packets refused as replays.",
               [("", c.sphinxRejects[.replay, default: 0])])
        metric("secirc_handshakes_total", "counter", "Link handshakes completed.", [("", c.handshakes)])
        metric("secirc_handshakes_refused_total", "counter", "Handshake initiations refused before key agreement, by reason.",
               HandshakeRefusal.allCases.map { ("{reason=\"\($0.rawValue)\"}", c.handshakeRefusals[$0, default: 0]) })
        metric("secirc_handshakes_unconfirmed_expired_total", "counter", "Answered handshakes never confirmed in time.",
               [("", c.unconfirmedExpired)])
        metric("secirc_mailbox_fetches_total", "counter", "Authenticated mailbox fetches.", [("", c.fetches)])
        metric("secirc_mailbox_pushed_total", "counter", "New mail sent down a subscribed link at once.", [("", c.pushed)])
        metric("secirc_onion_key_rotations_total", "counter", "Onion key rotations.", [("", c.keyRotations)])
        metric("secirc_onion_key_early_rotations_total", "counter", "Onion key rotations made early because the replay filter was filling.",
               [("", c.earlyRotations)])
        metric("secirc_directory_refused_total", "counter",
               "Fetched directories not used (unreachable, unverifiable, older, broken chain).",
               [("", c.directoryRefusals)])
        metric("secirc_mailbox_messages", "gauge", "Messages held in all mailboxes.", [("", c.mailboxMessages)])
        metric("secirc_mailbox_bytes", "gauge", "Bytes held in all mailboxes.", [("", c.mailboxBytes)])
        metric("secirc_mailboxes", "gauge", "Mailboxes known (fetched by their owner within the TTL).", [("", c.mailboxes)])
        metric("secirc_mailbox_queues", "gauge", "Contact deposit queues registered.", [("", c.mailboxQueues)])
        metric("secirc_mailbox_unclaimed", "gauge", "Deposits held that name no known mailbox or queue.", [("", c.unclaimedDeposits)])
        metric("secirc_mailboxes_evicted_total", "counter", "Empty mailboxes forgotten at the mailbox limit.", [("", c.mailboxesEvicted)])
        metric("secirc_mailbox_subscriptions", "gauge", "Mailboxes subscribed for push delivery.", [("", c.subscriptions)])
        metric("secirc_mailbox_subscriptions_evicted_total", "counter",
               "Subscriptions a link session gave up, least recently renewed first, to subscribe another at its bound.",
               [("", c.subscriptionsEvicted)])
        metric("secirc_link_sessions", "gauge", "Link sessions (relays and clients).", [("", c.linkSessions)])
        metric("secirc_link_sessions_unconfirmed", "gauge", "Answered handshakes waiting for confirmation.",
               [("", c.unconfirmedSessions)])
        metric("secirc_handshake_sources", "gauge", "Hosts whose handshake budgets are tracked.", [("", c.handshakeSources)])
        metric("secirc_peers", "gauge", "Relays with an established link.", [("", c.connectedPeers)])
        metric("secirc_delay_queue_packets", "gauge", "Packets waiting out their mixing delay.", [("", c.delayQueue)])
        metric("secirc_peels_out", "gauge", "Sphinx peels handed to the worker threads and not yet back (udp.workers > 1).",
               [("", c.peelsOut)])
        metric("secirc_onion_epoch", "gauge", "Current onion-key epoch.", [("", Int(c.currentEpoch))])
        let statuses = httpStatuses.withLock { $0 }.sorted { $0.key < $1.key }
        metric("secirc_http_requests_total", "counter", "HTTP requests answered, by status.",
               statuses.map { ("{status=\"\($0.key)\"}", $0.value) })
        let limits = httpLimits.withLock { $0 }?() ?? HTTPLimitCounters()
        metric("secirc_http_connections_refused_total", "counter",
               "HTTP connections closed on arrival, by limit (per_ip: the address held http.max_connections_per_ip).",
               [("{limit=\"per_ip\"}", limits.refusedPerIP), ("{limit=\"total\"}", limits.refusedConnectionLimit)])
        metric("secirc_http_header_timeouts_total", "counter",
               "HTTP connections closed because a request's headers were not complete within http.header_timeout_seconds.",
               [("", limits.closedHeaderTimeout)])
        metric("secirc_http_event_streams_refused_total", "counter", "Event streams answered 503 at the stream cap.",
               [("", limits.refusedEventStreams)])
        metric("secirc_http_connections", "gauge", "HTTP connections open.", [("", limits.openConnections)])
        return out
    }
}
