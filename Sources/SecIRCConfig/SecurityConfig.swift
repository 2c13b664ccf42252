internal import Foundation
public import SecIRCCrypto

/// `security.yaml`: who governs the network (the first ring) and the network parameters the
/// first ring signs into every directory.
public struct SecurityConfig: Sendable, Equatable {
    /// A first-ring member: its identity key and where to reach it.
    public struct Member: Sendable, Equatable {
        public var publicKey: SigningPublicKey
        public var udp: HostPort
        public var http: String
        public var id: ID { publicKey.id }
    }

    public struct FirstRing: Sendable, Equatable {
        /// Empty: this relay alone is the first ring (the single-machine default).
        public var members: [Member] = []
        /// Signatures a directory needs; nil = floor(n/2)+1.
        public var threshold: Int?
        /// A ring of several: how long each directory it publishes stays valid (at least three
        /// periods) — how long relays and clients carry on with the last one when no newer
        /// one comes.
        public var validitySeconds = 86_400

        /// The threshold in force for a ring of `count` members.
        public func effectiveThreshold(memberCount count: Int) -> Int { threshold ?? count / 2 + 1 }
    }

    public struct Network: Sendable, Equatable {
        /// Rate λ of each client's payload stream (real packets, else drop cover), packets per
        /// second, under the balanced profile.
        public var coverRatePerSecond = 2.0
        /// Rate λ_L of each client's loop stream (loop cover to its own mailbox), packets per
        /// second, under the balanced profile.
        public var loopRatePerSecond = 0.5
        /// Rate of each relay's own cover stream (loops back to itself and drop cover, even
        /// odds), packets per second.
        public var relayCoverRatePerSecond = 0.5
        /// Mean per-hop delay μ in milliseconds.
        public var meanDelayMilliseconds = 50
    }

    /// What a first-ring member admits into the relays it lists (docs/SECURITY.md "Directory
    /// uploads"). Only first-ring members read it.
    public struct Admission: Sendable, Equatable {
        public enum Mode: String, CaseIterable, Sendable {
            /// Any relay that answers its challenge, within the caps.
            case open
            /// Only relays an operator allowed (`POST /v1/admin/admission/allow`).
            case allowlist
        }

        public var mode = Mode.open
        /// Relays (listed or being challenged) per advertised IP address; 0: no cap.
        public var maxRelaysPerAddress = 2
        /// Relays per /24 (IPv4) or /48 (IPv6) of the advertised address; 0: no cap.
        public var maxRelaysPerPrefix = 4
        /// Relays listed for the first time within any one directory period; 0: no cap.
        public var newRelaysPerPeriod = 8
        /// `POST /v1/descriptors` per client host (IPv4 address or IPv6 /64): a minute's
        /// average and a burst.
        public var uploadsPerMinute = 30
        public var uploadBurst = 10
        /// Hours a new relay is listed before it earns full weight and the `mailbox` flag; 0: at once.
        public var probationHours = 24
        /// Minutes after which a listed relay is checked again with a handshake (at its next
        /// upload); 0: only at admission.
        public var recheckMinutes = 60
        /// The most packets per second a relay's claimed capacity counts for in its weight.
        public var maxCapacity = 10_000

        public init(mode: Mode = .open, maxRelaysPerAddress: Int = 2, maxRelaysPerPrefix: Int = 4, newRelaysPerPeriod: Int = 8,
                    uploadsPerMinute: Int = 30, uploadBurst: Int = 10, probationHours: Int = 24, recheckMinutes: Int = 60,
                    maxCapacity: Int = 10_000) {
            self.probationHours = probationHours
            self.recheckMinutes = recheckMinutes
            self.maxCapacity = maxCapacity
            self.mode = mode
            self.maxRelaysPerAddress = maxRelaysPerAddress
            self.maxRelaysPerPrefix = maxRelaysPerPrefix
            self.newRelaysPerPeriod = newRelaysPerPeriod
            self.uploadsPerMinute = uploadsPerMinute
            self.uploadBurst = uploadBurst
        }
    }

    public var firstRing = FirstRing()
    public var network = Network()
    public var admission = Admission()

    public init() {}

    /// Reads `path` (nil: defaults) with `SECIRC_SECURITY_*` overrides from `environment`.
    public static func load(path: String?, environment: [String: String]? = nil) throws -> SecurityConfig {
        try ConfigLoading.load(path: path, defaultName: "security.yaml", environmentPrefix: "SECIRC_SECURITY_",
                               environment: environment ?? ProcessInfo.processInfo.environment, decode: decode)
    }

    public static func parse(yaml: String, file: String = "security.yaml", environment: [String: String] = [:]) throws -> SecurityConfig {
        try ConfigLoading.parse(yaml: yaml, file: file, environmentPrefix: "SECIRC_SECURITY_", environment: environment, decode: decode)
    }

    private static func decode(_ root: ConfigReader.Section) throws -> SecurityConfig {
        var c = SecurityConfig()
        try root.section("first_ring") { s in
            c.firstRing.members = try s.sections("members", maxCount: 64) { m in
                let key = try m.scalar("public_key", default: nil as SigningPublicKey?) { (text) throws(ConfigValueError) in
                    do { return try SigningPublicKey(bytes: Hex.decode(text)) } catch {
                        throw ConfigValueError("\"\(text)\" is not a 64-hex-digit Ed25519 public key")
                    }
                }
                guard let key else { throw m.invalid("public_key", "required") }
                let udp = try m.scalar("udp", default: nil as HostPort?) { (text) throws(ConfigValueError) in try HostPort(parsing: text) }
                guard let udp else { throw m.invalid("udp", "required") }
                let http = try m.scalar("http", default: nil as String?, ConfigLoading.url)
                guard let http else { throw m.invalid("http", "required") }
                return Member(publicKey: key, udp: udp, http: http)
            }
            var seen: Set<SigningPublicKey> = []
            for (index, member) in c.firstRing.members.enumerated() where !seen.insert(member.publicKey).inserted {
                throw s.invalid("members", "entry [\(index)] repeats public key \(member.publicKey.rawValue.hex)")
            }
            let count = max(c.firstRing.members.count, 1)
            c.firstRing.threshold = try s.scalar("threshold", default: nil as Int?) { (text) throws(ConfigValueError) in
                guard let t = Int(text) else { throw ConfigValueError("\"\(text)\" is not a whole number") }
                if t == 0 { return nil }
                guard (1...count).contains(t) else { throw ConfigValueError("\(t) is outside 1...\(count) (the number of members)") }
                guard t > count / 2 else {
                    throw ConfigValueError("\(t) is not a majority of \(count) members: two disjoint groups could sign rival directories")
                }
                return t
            }
            c.firstRing.validitySeconds = try s.int("validity_seconds", default: c.firstRing.validitySeconds, in: 60...2_592_000)
        }
        try root.section("admission") { s in
            c.admission.mode = try s.choice("mode", default: c.admission.mode)
            c.admission.maxRelaysPerAddress = try s.int("max_relays_per_address", default: c.admission.maxRelaysPerAddress, in: 0...10_000)
            c.admission.maxRelaysPerPrefix = try s.int("max_relays_per_prefix", default: c.admission.maxRelaysPerPrefix, in: 0...10_000)
            if c.admission.maxRelaysPerPrefix > 0, c.admission.maxRelaysPerAddress > c.admission.maxRelaysPerPrefix {
                throw s.invalid("max_relays_per_address",
                                "\(c.admission.maxRelaysPerAddress) is more than max_relays_per_prefix (\(c.admission.maxRelaysPerPrefix)), which includes the address")
            }
            c.admission.newRelaysPerPeriod = try s.int("new_relays_per_period", default: c.admission.newRelaysPerPeriod, in: 0...10_000)
            c.admission.uploadsPerMinute = try s.int("uploads_per_minute", default: c.admission.uploadsPerMinute, in: 1...60_000)
            c.admission.uploadBurst = try s.int("upload_burst", default: c.admission.uploadBurst, in: 1...10_000)
            c.admission.probationHours = try s.int("probation_hours", default: c.admission.probationHours, in: 0...8_760)
            c.admission.recheckMinutes = try s.int("recheck_minutes", default: c.admission.recheckMinutes, in: 0...10_080)
            c.admission.maxCapacity = try s.int("max_capacity", default: c.admission.maxCapacity, in: 1...1_000_000) // RelayRating.maximumWeight
        }
        try root.section("network") { s in
            c.network.coverRatePerSecond = try s.double("cover_rate_per_s", default: c.network.coverRatePerSecond, in: 0.01...1000)
            c.network.loopRatePerSecond = try s.double("loop_rate_per_s", default: c.network.loopRatePerSecond, in: 0...1000)
            c.network.relayCoverRatePerSecond = try s.double("relay_cover_rate_per_s", default: c.network.relayCoverRatePerSecond,
                                                             in: 0...1000)
            c.network.meanDelayMilliseconds = try s.int("mean_delay_ms", default: c.network.meanDelayMilliseconds, in: 0...60_000)
        }
        return c
    }
}
