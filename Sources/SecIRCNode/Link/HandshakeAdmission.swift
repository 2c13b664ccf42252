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
/// An entry is made only when a handshake is answered (forged or garbage initiations make
/// none) and is forgotten once its budget is whole again and it holds no session. At most
/// `maxSources` entries exist; past that, new sources are refused until some are forgotten.
///
/// The known relays' addresses (`exempt`) are outside the per-source budgets; the global
/// under-load rule (cookies above a rate) still applies to them.
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
    /// The known relays' link addresses (outside the per-source budgets).
    public var exempt: Set<SocketAddress> = []
    private(set) var entries: [HostPrefix: Entry] = [:]
    private var lastSweep: UnixTime?

    public init(limits: Limits) {
        self.limits = limits
    }

    private var interval: Int64 { 1_000_000_000 / Int64(max(1, limits.handshakesPerSecond)) }

    /// Sources tracked now.
    public var sourceCount: Int { entries.count }

    /// Whether `address` is outside the per-source budgets.
    public func isExempt(_ address: SocketAddress) -> Bool { exempt.contains(address) }

    /// The verdict for an initiation from `address` at `now`; changes nothing (a refused or
    /// failed handshake costs its source nothing).
    public mutating func check(_ address: SocketAddress, now: UnixTime) -> Verdict {
        guard !exempt.contains(address) else { return .admit(requireCookie: false) }
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

    /// A handshake from `address` was answered: spends budget and counts it as unconfirmed.
    /// Returns the source to record with the session (nil for an exempt address).
    mutating func answered(_ address: SocketAddress, now: UnixTime) -> HostPrefix? {
        guard !exempt.contains(address) else { return nil }
        let key = address.hostPrefix
        var entry = entries[key] ?? Entry(tat: now)
        entry.tat = UnixTime(nanoseconds: max(entry.tat.nanoseconds, now.nanoseconds) + interval)
        entry.unconfirmed += 1
        entries[key] = entry
        return key
    }

    /// An unconfirmed handshake of `source` was confirmed (`kept`: it became a session) or
    /// dropped.
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
    private mutating func sweep(now: UnixTime) {
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
