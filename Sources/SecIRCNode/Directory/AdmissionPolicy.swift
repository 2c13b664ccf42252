public import SecIRCCrypto
import SecIRCTransport

/// What one first-ring member admits into the relays it lists (security.yaml `admission`,
/// docs/SECURITY.md "Directory uploads"): caps on what one party can add, and the operator's
/// allow-list mode. The defaults here cap nothing (the engine's and the tests'); security.yaml's
/// defaults are the ones an operator gets.
public struct AdmissionPolicy: Sendable, Equatable {
    public enum Mode: String, Sendable, CaseIterable {
        /// Any relay that passes the challenge and the caps.
        case open
        /// Only relays on the operator's allow list (``AdmissionLists/allowed``).
        case allowlist
    }

    public var mode: Mode
    /// Relays (listed or being challenged) whose advertised UDP address is one IP address; 0: no cap.
    public var maxRelaysPerAddress: Int
    /// Relays (listed or being challenged) in one /24 (IPv4) or /48 (IPv6); 0: no cap.
    public var maxRelaysPerPrefix: Int
    /// Relays listed for the first time within any one directory period; 0: no cap.
    public var newRelaysPerPeriod: Int
    /// How long a new relay is listed before it earns full weight and the `mailbox` flag
    /// (``DirectoryAuthority/rating(of:now:)``); zero: at once.
    public var probation: Duration
    /// How often a listed relay is checked again with a handshake at its address (when it
    /// uploads after this long); zero: never after admission.
    public var recheckInterval: Duration
    /// The most capacity (packets per second) a relay's claim counts for in its weight.
    public var maximumCapacity: Int

    public init(mode: Mode = .open, maxRelaysPerAddress: Int = 0, maxRelaysPerPrefix: Int = 0, newRelaysPerPeriod: Int = 0,
                probation: Duration = .zero, recheckInterval: Duration = .zero, maximumCapacity: Int = 10_000) {
        self.mode = mode
        self.maxRelaysPerAddress = maxRelaysPerAddress
        self.maxRelaysPerPrefix = maxRelaysPerPrefix
        self.newRelaysPerPeriod = newRelaysPerPeriod
        self.probation = probation
        self.recheckInterval = recheckInterval
        self.maximumCapacity = maximumCapacity
    }

    /// What the per-address and per-prefix caps count by, for a numeric `host:port`: the IP
    /// address, and its /24 (IPv4) or /48 (IPv6). An IPv4-mapped IPv6 address counts as IPv4.
    /// Nil when `udp` is not a numeric address.
    static func network(of udp: String) -> (address: [UInt8], prefix: [UInt8])? {
        guard let address = try? SocketAddress(numeric: udp) else { return nil }
        let bytes = address.bytes // family (4 or 6) | address | port (2)
        let host = Array(bytes.dropLast(2))
        return (host, Array(host.prefix(bytes[0] == 4 ? 1 + 3 : 1 + 6)))
    }
}

/// The operator's lists (`POST /v1/admin/admission/allow`, `.../ban`): allowed relays (what
/// `allowlist` mode lists), and banned ones (never listed, whatever the mode). Kept in the
/// relay's data directory (`admission.json`, 0600) across restarts.
public struct AdmissionLists: Sendable, Equatable, Codable {
    public var allowed: Set<ID>
    public var banned: Set<ID>

    /// Entries per list, at most.
    public static let maximumEntries = 10_000

    public init(allowed: Set<ID> = [], banned: Set<ID> = []) {
        self.allowed = allowed
        self.banned = banned
    }

    enum CodingKeys: String, CodingKey { case version, allowed, banned }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let version = try c.decode(Int.self, forKey: .version)
        guard version == 1 else { throw DecodingError.dataCorruptedError(forKey: .version, in: c, debugDescription: "version \(version), expected 1") }
        let allowed = try c.decode([ID].self, forKey: .allowed)
        let banned = try c.decode([ID].self, forKey: .banned)
        for (key, list) in [(CodingKeys.allowed, allowed), (.banned, banned)] where list.count > Self.maximumEntries {
            throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: "more than \(Self.maximumEntries) entries")
        }
        self.allowed = Set(allowed)
        self.banned = Set(banned)
    }

    /// Sorted, so the same lists give the same bytes.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(1, forKey: .version)
        try c.encode(allowed.sorted(), forKey: .allowed)
        try c.encode(banned.sorted(), forKey: .banned)
    }

    /// A change from the admin routes.
    public enum Change: Sendable, Equatable {
        case allow(ID), disallow(ID), ban(ID), unban(ID)
    }

    /// Applies `change`; false when the list is full.
    mutating func apply(_ change: Change) -> Bool {
        switch change {
        case let .allow(id):
            guard allowed.contains(id) || allowed.count < Self.maximumEntries else { return false }
            allowed.insert(id)
        case let .disallow(id): allowed.remove(id)
        case let .ban(id):
            guard banned.contains(id) || banned.count < Self.maximumEntries else { return false }
            banned.insert(id)
        case let .unban(id): banned.remove(id)
        }
        return true
    }
}
