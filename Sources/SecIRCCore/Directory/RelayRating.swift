/// What the first ring grants a relay (docs/PROTOCOL.md §3.4): a weight, by which clients and
/// relays choose path and mailbox relays, and flags. Never taken from the relay's own
/// descriptor: each member rates the relays it votes for from what it measured itself (how long
/// it has listed the relay, whether the relay answered its handshake checks, the capacity it
/// claims up to a cap), and the consensus takes the median weight and the flags a majority
/// granted; `first_ring` comes from the roster alone.
public struct RelayRating: Codable, Hashable, Sendable {
    /// Flags a member grants in its vote: `mailbox` once a relay served its probation.
    public static let votedFlags: Set<String> = ["mailbox"]
    /// Flags a directory may carry: the voted ones and `first_ring` (members of its roster).
    public static let directoryFlags: Set<String> = ["first_ring", "mailbox"]
    /// The largest weight (a member caps claimed capacity well below it).
    public static let maximumWeight = 1_000_000

    /// Relative share of the traffic this relay should see, at least 1.
    public var weight: Int
    /// Granted flags, sorted, each once. Absent from the JSON when empty.
    public var flags: [String]

    public init(weight: Int, flags: [String] = []) {
        self.weight = weight
        self.flags = Array(Set(flags)).sorted()
    }

    /// What a directory of the older form, without ratings, grants: weight 1 and the flags the
    /// descriptor names that a directory may carry, `first_ring` only for a member of its roster.
    public init(describedBy descriptor: RelayDescriptor, rosterMember: Bool) {
        self.init(weight: 1, flags: descriptor.flags.filter { Self.directoryFlags.contains($0) && ($0 != "first_ring" || rosterMember) })
    }

    public func has(_ flag: String) -> Bool { flags.contains(flag) }

    enum CodingKeys: String, CodingKey { case weight, flags }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        weight = try c.decode(Int.self, forKey: .weight)
        flags = try c.decodeIfPresent([String].self, forKey: .flags) ?? []
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        if !flags.isEmpty { try c.encode(flags, forKey: .flags) }
        try c.encode(weight, forKey: .weight)
    }

    /// A weight in 1...``maximumWeight``; flags sorted, distinct and among `allowed`.
    public func validate(allowing allowed: Set<String>) throws {
        guard (1...Self.maximumWeight).contains(weight) else {
            throw DirectoryError.invalid("weight \(weight) is outside 1...\(Self.maximumWeight)")
        }
        guard flags == Array(Set(flags)).sorted() else { throw DirectoryError.invalid("flags must be sorted and distinct") }
        if let unknown = flags.first(where: { !allowed.contains($0) }) {
            throw DirectoryError.invalid("flag \(unknown) is not one the first ring grants here")
        }
    }

    /// `weight` kept to two significant digits (1,234 → 1,200; 87 → 87): ratings change only
    /// when what they measure moved by some percent, so a directory diff does not resend them
    /// every period.
    public static func rounded(_ weight: Double) -> Int {
        guard weight.isFinite, weight >= 1 else { return 1 }
        let whole = min(weight, Double(maximumWeight)).rounded()
        var scale = 1.0
        while whole / scale >= 100 { scale *= 10 }
        return max(1, Int((whole / scale).rounded(.down) * scale))
    }
}
