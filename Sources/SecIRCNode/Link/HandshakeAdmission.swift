public import SecIRCCore
public import SecIRCTransport

/// Who may start a responder handshake, decided before any X25519 work: per-source rate and
/// session budgets, and room in the tables. One attacker host must not be able to fill a
/// relay's session table or keep it busy with key agreements.
///
/// A source is a host (`SocketAddress.hostPrefix`: an IPv4 address or an IPv6 /64). Each has
/// - a handshake rate (generic cell rate algorithm: `handshakesPerSecond`, bursts of `burst`);
///   once half its burst is spent, its initiations need a cookie (mac2), so a spoofer using the
///   host's address cannot spend the rest; once all is spent they are dropped;
/// - at most `unconfirmedPerSource` handshakes answered but not yet confirmed;
/// - at most `sessionsPerSource` confirmed sessions.
/// Key agreement spends rate whether or not the handshake is answered (an initiation with a
/// good mac1 and garbage after it still costs the source); initiations that fail before it
/// (length, mac1, cookie) cost nothing. An entry is forgotten once its budget is whole again
/// and it holds nothing (swept at most once a second, from `sweep`). At most `maxSources`
/// entries exist; past that, new sources are refused until some are forgotten.
///
/// Every source is held to its rate, relays too (a relay makes a handshake per peer every two
/// minutes or so). Only sessions made with a known relay's key are outside the unconfirmed
/// and session budgets and may use the room kept for relays.
public struct HandshakeAdmission: Sendable {
    public struct Limits: Sendable, Hashable {
        /// Handshakes answered per second per source, on average.
        public var handshakesPerSecond = 10
        /// Handshakes a source may start at once after a quiet time.
        public var burst = 40
        /// Handshakes answered and not yet confirmed per source.
        public var unconfirmedPerSource = 16
        /// Confirmed responder sessions per source (a NAT may hide many clients).
        public var sessionsPerSource = 256
        /// Sources tracked at once.
        public var maxSources = 65_536

        public init() {}
    }

    /// What to do with an initiation from a source.
    public enum Verdict: Sendable, Equatable {
        case admit(requireCookie: Bool)
        case refuse(HandshakeRefusal)
    }

    struct Entry: Sendable {
        /// GCRA's theoretical arrival time: the budget is whole when `now >= tat`.
        var tat: UnixTime
        var unconfirmed = 0
        var sessions = 0
    }

    public let limits: Limits
    /// The known relays' link addresses: they may use the room kept for relays (whether a
    /// session is a relay's is decided by its key once it is made).
    public var exempt: Set<SocketAddress> = []
    private(set) var entries: [HostPrefix: Entry] = [:]
    private var lastSweep: UnixTime?

    public init(limits: Limits) {
        self.limits = limits
    }

    private var interval: Int64 { 1_000_000_000 / Int64(max(1, limits.handshakesPerSecond)) }

    /// Sources tracked now.
    public var sourceCount: Int { entries.count }

    /// Whether `address` is a known relay's.
    public func isExempt(_ address: SocketAddress) -> Bool { exempt.contains(address) }

    /// The verdict for an initiation from `address` at `now`; changes nothing (an initiation
    /// that fails before key agreement costs its source nothing).
    public mutating func check(_ address: SocketAddress, now: UnixTime) -> Verdict {
        guard let entry = entries[address.hostPrefix] else {
            if entries.count >= limits.maxSources {
                sweep(now: now)
                if entries.count >= limits.maxSources { return .refuse(.sourceTable) }
            }
            return .admit(requireCookie: false)
        }
        let debt = max(0, entry.tat.nanoseconds - now.nanoseconds)
        // One more handshake would add `interval`; the budget is `burst` intervals.
        if debt + interval > Int64(limits.burst) * interval { return .refuse(.sourceRate) }
        if entry.unconfirmed >= limits.unconfirmedPerSource { return .refuse(.sourceUnconfirmed) }
        if entry.sessions >= limits.sessionsPerSource { return .refuse(.sourceSessions) }
        return .admit(requireCookie: debt * 2 >= Int64(limits.burst) * interval)
    }

    /// Key agreement ran for an initiation from `address` (answered or not): spends one
    /// handshake of its rate.
    mutating func spend(_ address: SocketAddress, now: UnixTime) {
        let key = address.hostPrefix
        var entry = entries[key] ?? Entry(tat: now)
        entry.tat = UnixTime(nanoseconds: max(entry.tat.nanoseconds, now.nanoseconds) + interval)
        entries[key] = entry
    }

    /// A handshake from `address` was answered (its rate already spent): counts it as
    /// unconfirmed. Returns the source to record with the session.
    mutating func answered(_ address: SocketAddress) -> HostPrefix {
        let key = address.hostPrefix
        entries[key, default: Entry(tat: UnixTime(nanoseconds: 0))].unconfirmed += 1
        return key
    }

    /// An unconfirmed handshake of `source` was confirmed (`kept`: it became a session counted
    /// against the source) or dropped.
    mutating func confirmed(_ source: HostPrefix, kept: Bool) {
        guard entries[source] != nil else { return }
        entries[source]!.unconfirmed -= 1
        if kept { entries[source]!.sessions += 1 }
    }

    /// A confirmed session of `source` ended.
    mutating func ended(_ source: HostPrefix) {
        guard entries[source] != nil else { return }
        entries[source]!.sessions -= 1
    }

    /// Whether `source` may hold another confirmed session.
    func hasRoom(_ source: HostPrefix) -> Bool {
        (entries[source]?.sessions ?? 0) < limits.sessionsPerSource
    }

    /// Forgets sources whose budget is whole and that hold nothing; at most once a second.
    mutating func sweep(now: UnixTime) {
        if let last = lastSweep, now.duration(since: last) < .seconds(1), now >= last { return }
        lastSweep = now
        entries = entries.filter { _, entry in entry.tat > now || entry.unconfirmed > 0 || entry.sessions > 0 }
    }
}

/// Why a handshake initiation was refused before any key agreement (`/metrics`
/// `secirc_handshakes_refused_total{reason}`).
public enum HandshakeRefusal: String, Sendable, CaseIterable {
    /// The source host started handshakes faster than its budget.
    case sourceRate = "source_rate"
    /// The source host has its maximum of answered, unconfirmed handshakes.
    case sourceUnconfirmed = "source_unconfirmed"
    /// The source host holds its maximum of sessions.
    case sourceSessions = "source_sessions"
    /// The table of tracked hosts is full.
    case sourceTable = "source_table"
    /// The table of answered, unconfirmed handshakes is full.
    case unconfirmedFull = "unconfirmed_full"
}
