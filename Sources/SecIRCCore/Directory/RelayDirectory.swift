public import SecIRCCrypto

/// The first ring: who may sign directories, and how many signatures make one valid.
public struct Roster: Codable, Hashable, Sendable {
    public struct Member: Codable, Hashable, Sendable {
        public var identityKey: SigningPublicKey
        public var udp: String
        public var http: String
        public var id: ID { identityKey.id }

        public init(identityKey: SigningPublicKey, udp: String, http: String) {
            self.identityKey = identityKey
            self.udp = udp
            self.http = http
        }

        enum CodingKeys: String, CodingKey {
            case udp, http
            case identityKey = "identity_key"
        }
    }

    public var members: [Member]
    /// Signatures needed: a majority (floor(n/2)+1 by default).
    public var threshold: Int
    /// 0 for the roster a node is configured with; each ``RosterChange`` in force adds one.
    /// Absent from the JSON when 0 (so epoch-0 directories keep their bytes).
    public var epoch: UInt64

    public init(members: [Member], threshold: Int? = nil, epoch: UInt64 = 0) {
        self.members = members
        self.threshold = threshold ?? members.count / 2 + 1
        self.epoch = epoch
    }

    enum CodingKeys: String, CodingKey {
        case members, threshold, epoch
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        members = try c.decode([Member].self, forKey: .members)
        threshold = try c.decode(Int.self, forKey: .threshold)
        epoch = try c.decodeIfPresent(UInt64.self, forKey: .epoch) ?? 0
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(members, forKey: .members)
        try c.encode(threshold, forKey: .threshold)
        if epoch != 0 { try c.encode(epoch, forKey: .epoch) }
    }

    /// SHA-256 of the roster's canonical JSON: what a ``RosterChange`` names as `previous`.
    public var hash: Bytes32 { SHA256.hash(DocumentCoding.encode(self)) }

    /// The member with `id`.
    public func member(_ id: ID) -> Member? { members.first { $0.id == id } }

    /// 1...64 distinct members; the threshold is a majority and at most n.
    public func validate() throws {
        let n = members.count
        guard (1...64).contains(n) else { throw DirectoryError.invalid("roster of \(n) members") }
        guard Set(members.map(\.identityKey)).count == n else { throw DirectoryError.invalid("roster repeats a member") }
        guard threshold > n / 2, threshold <= n else { throw DirectoryError.invalid("threshold \(threshold) of \(n) is not a majority") }
    }

    public var keys: Set<SigningPublicKey> { Set(members.map(\.identityKey)) }
}

/// Network-wide parameters the first ring signs into every directory.
public struct NetworkParameters: Codable, Hashable, Sendable {
    /// Datagram size (must equal the geometry clients and relays use).
    public var packetSize: Int
    public var maxHops: Int
    /// Rate λ of each client's payload stream (Poisson), packets per second: a real packet
    /// when one waits, else a drop cover packet (Loopix's λ_P).
    public var coverRate: Double
    /// Rate of each client's loop stream (Poisson), packets per second: loop cover packets to
    /// its own mailbox, never replaced by real ones (Loopix's λ_L). Absent in a directory: 0.
    public var loopRate: Double
    /// Rate of each relay's own cover stream (Poisson), packets per second: at each event a
    /// relay sends a loop through two other relays back to itself, or drop cover ending at a
    /// relay, with even odds (Loopix's relay loops). Absent in a directory: 0.
    public var relayCoverRate: Double
    /// Mean per-hop delay μ in milliseconds.
    public var meanDelayMs: Int

    public init(geometry: PacketGeometry = .standard, coverRate: Double, loopRate: Double = 0, relayCoverRate: Double = 0,
                meanDelayMs: Int) {
        packetSize = geometry.datagramSize
        maxHops = geometry.maxHops
        self.coverRate = coverRate
        self.loopRate = loopRate
        self.relayCoverRate = relayCoverRate
        self.meanDelayMs = meanDelayMs
    }

    /// Every field as given (the first ring's consensus takes each from the votes).
    public init(packetSize: Int, maxHops: Int, coverRate: Double, loopRate: Double, relayCoverRate: Double = 0, meanDelayMs: Int) {
        self.packetSize = packetSize
        self.maxHops = maxHops
        self.coverRate = coverRate
        self.loopRate = loopRate
        self.relayCoverRate = relayCoverRate
        self.meanDelayMs = meanDelayMs
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        packetSize = try c.decode(Int.self, forKey: .packetSize)
        maxHops = try c.decode(Int.self, forKey: .maxHops)
        coverRate = try c.decode(Double.self, forKey: .coverRate)
        loopRate = try c.decodeIfPresent(Double.self, forKey: .loopRate) ?? 0
        relayCoverRate = try c.decodeIfPresent(Double.self, forKey: .relayCoverRate) ?? 0
        meanDelayMs = try c.decode(Int.self, forKey: .meanDelayMs)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(packetSize, forKey: .packetSize)
        try c.encode(maxHops, forKey: .maxHops)
        try c.encode(coverRate, forKey: .coverRate)
        if loopRate != 0 { try c.encode(loopRate, forKey: .loopRate) } // absent means 0
        if relayCoverRate != 0 { try c.encode(relayCoverRate, forKey: .relayCoverRate) } // absent means 0
        try c.encode(meanDelayMs, forKey: .meanDelayMs)
    }

    /// The longest per-hop delay a relay accepts: 20 means μ (an honest Exp(1/μ) draw exceeds it
    /// with probability e^-20), at least 1 s, at most 60 s. Senders cap their draws at it. A
    /// packet asking for more would only hold a place in the relay's delay queue.
    public var maxDelayMilliseconds: UInt32 { Self.maxDelayMilliseconds(meanDelayMs: Double(meanDelayMs)) }

    /// `maxDelayMilliseconds` for a mean of `meanDelayMs`.
    public static func maxDelayMilliseconds(meanDelayMs: Double) -> UInt32 {
        UInt32(min(60_000, max(1_000, (20 * meanDelayMs).rounded(.up))))
    }

    enum CodingKeys: String, CodingKey {
        case packetSize = "packet_size"
        case maxHops = "max_hops"
        case coverRate = "cover_rate"
        case loopRate = "loop_rate"
        case relayCoverRate = "relay_cover_rate"
        case meanDelayMs = "mean_delay_ms"
    }
}

/// The relay directory for one period: every admitted relay's signed descriptor, the network
/// parameters and the roster, chained to the previous directory by its hash. Valid with
/// signatures of at least `threshold` members of the roster the verifier trusts.
public struct RelayDirectory: SignedContent, Hashable {
    public static let documentType = "secirc-directory-v1"

    public var version: Int
    /// Increases by one each period.
    public var serial: UInt64
    /// `bodyHash` of the previous directory; zeros for the first.
    public var previous: Bytes32
    /// `bodyHash`es of the directories before `previous`, newest first (serial − 2, serial − 3,
    /// …), at most ``maximumEarlier``; nil when there are none. With them a verifier that
    /// missed some directories still checks that this one continues the chain it holds.
    public var earlier: [Bytes32]?
    /// Unix seconds.
    public var validAfter: Int64
    public var validUntil: Int64
    public var network: NetworkParameters
    public var roster: Roster
    /// Each relay's own signed descriptor.
    public var relays: [SignedDocument]
    /// What the ring grants each relay, in the order of ``relays`` (same count); nil in a
    /// directory without ratings (``rating(at:of:)`` says what that means).
    public var ratings: [RelayRating]?

    public init(version: Int = 1, serial: UInt64, previous: Bytes32, earlier: [Bytes32]? = nil, validAfter: Int64, validUntil: Int64,
                network: NetworkParameters, roster: Roster, relays: [SignedDocument], ratings: [RelayRating]? = nil) {
        self.version = version
        self.serial = serial
        self.previous = previous
        self.earlier = earlier?.isEmpty == true ? nil : earlier
        self.validAfter = validAfter
        self.validUntil = validUntil
        self.network = network
        self.roster = roster
        self.relays = relays
        self.ratings = ratings
    }

    enum CodingKeys: String, CodingKey {
        case version, serial, previous, earlier, network, roster, relays, ratings
        case validAfter = "valid_after"
        case validUntil = "valid_until"
    }

    public static let maximumRelays = 10_000
    /// Most hashes in ``earlier``: with `previous`, a directory links the 64 before it.
    public static let maximumEarlier = 63

    public func validate() throws {
        guard version == 1 else { throw DirectoryError.invalid("directory version \(version)") }
        guard validUntil > validAfter else { throw DirectoryError.invalid("empty validity window") }
        guard relays.count <= Self.maximumRelays else { throw DirectoryError.invalid("more than \(Self.maximumRelays) relays") }
        if let earlier {
            guard !earlier.isEmpty, earlier.count <= Self.maximumEarlier else {
                throw DirectoryError.invalid("earlier holds \(earlier.count) hashes (1...\(Self.maximumEarlier) when present)")
            }
            guard UInt64(earlier.count) + 2 <= serial else { throw DirectoryError.invalid("earlier reaches before the first directory") }
        }
        try roster.validate()
        if let ratings {
            guard ratings.count == relays.count else {
                throw DirectoryError.invalid("\(ratings.count) ratings for \(relays.count) relays")
            }
            for rating in ratings { try rating.validate(allowing: RelayRating.directoryFlags) }
        }
    }

    /// What the first ring grants the relay at `index` of ``relays`` (whose descriptor is
    /// `descriptor`). A directory without ratings, the older form, rates every relay 1 and
    /// grants the flags its descriptor names, but `first_ring` only to members of its roster.
    public func rating(at index: Int, of descriptor: RelayDescriptor) -> RelayRating {
        if let ratings, ratings.indices.contains(index) { return ratings[index] }
        return RelayRating(describedBy: descriptor, rosterMember: roster.members.contains { $0.identityKey == descriptor.identityKey })
    }

    /// The relays' descriptors, each checked against its own signature. Throws if any fails:
    /// the first ring vouched for every one.
    public func descriptors(known: [Bytes32: RelayDescriptor] = [:]) throws -> [RelayDescriptor] {
        var seen: Set<ID> = []
        return try relays.map { document in
            let descriptor = try known[document.bodyHash] ?? Unverified<RelayDescriptor>(document).verified()
            guard seen.insert(descriptor.id).inserted else { throw DirectoryError.invalid("relay \(descriptor.id) listed twice") }
            return descriptor
        }
    }

    /// The body as a document for the roster members to sign.
    public func unsignedDocument() -> SignedDocument {
        SignedDocument(type: Self.documentType, body: DocumentCoding.encode(self))
    }
}

extension Unverified where Content == RelayDirectory {
    /// Checks that at least `trusted.threshold` distinct members of `trusted` signed the exact
    /// bytes, then that the directory is valid at `now` (Unix seconds) and well-formed,
    /// including every relay descriptor's own signature.
    public func verified(trusting trusted: Roster, now: Int64) throws -> RelayDirectory {
        try verifiedWithDescriptors(trusting: trusted, now: now).directory
    }

    /// ``verified(trusting:now:)``, also returning the verified descriptors. A descriptor whose
    /// exact signed body is in `known` (by ``SignedDocument/bodyHash``: verified before, e.g. in
    /// the directory held until now) is not verified again — the same bytes were signed by the
    /// same key — so a new directory costs a signature check only for what changed.
    public func verifiedWithDescriptors(trusting trusted: Roster, now: Int64, known: [Bytes32: RelayDescriptor] = [:]) throws
        -> (directory: RelayDirectory, descriptors: [RelayDescriptor]) {
        let directory = try signedBody(trusting: trusted)
        guard now >= directory.validAfter, now < directory.validUntil else {
            throw DirectoryError.notValidAt(now: now, validAfter: directory.validAfter, validUntil: directory.validUntil)
        }
        return (directory, try directory.descriptors(known: known))
    }

    /// ``verifiedWithDescriptors(trusting:now:known:)`` without the validity window: for a
    /// directory a first ring reads back from its own data directory, where an expired one
    /// still carries the serial and the chain to continue.
    public func verifiedAtAnyTime(trusting trusted: Roster) throws -> (directory: RelayDirectory, descriptors: [RelayDescriptor]) {
        let directory = try signedBody(trusting: trusted)
        return (directory, try directory.descriptors())
    }

    /// The roster epoch the body names, read before any signature is checked: only a hint of
    /// which roster changes to look for (nil when the body is not a directory).
    public var claimedRosterEpoch: UInt64? {
        guard let peek = try? DocumentCoding.decode(RosterEpochPeek.self, from: document.body) else { return nil }
        return peek.roster.epoch ?? 0
    }

    /// The body, once at least `trusted.threshold` distinct members of `trusted` signed it.
    private func signedBody(trusting trusted: Roster) throws -> RelayDirectory {
        try trusted.validate()
        let valid = document.validSigners(among: trusted.keys).count
        guard valid >= trusted.threshold else {
            throw DirectoryError.insufficientSignatures(valid: valid, required: trusted.threshold)
        }
        return try decodeBody()
    }
}

extension RelayDirectory {
    /// The hash this directory names for the directory with `serial`, when it names one: the
    /// previous directory's (`previous`), or one of ``earlier``.
    public func linkedHash(serial older: UInt64) -> Bytes32? {
        guard older < serial else { return nil }
        let back = serial - older
        if back == 1 { return previous }
        guard let earlier, back - 2 < UInt64(earlier.count) else { return nil }
        return earlier[Int(back - 2)]
    }

    /// The ``earlier`` list for the directory after this one (whose envelope is `document`):
    /// this one's `previous` then its own `earlier`, cut to ``maximumEarlier``.
    public func earlierForNext() -> [Bytes32]? {
        guard serial > 1 else { return nil }
        return Array(([previous] + (earlier ?? [])).prefix(Self.maximumEarlier))
    }

    /// Throws unless this directory continues the chain from `previous`, whose signed envelope
    /// is `previousDocument`: a higher serial, and the hash it names for that serial
    /// (`previous` for the next serial, ``earlier`` for up to 64 back) is that body's hash.
    public func checkFollows(_ previous: RelayDirectory, document previousDocument: SignedDocument) throws {
        guard serial > previous.serial else {
            throw DirectoryError.brokenChain("serial \(serial) does not follow \(previous.serial)")
        }
        guard let named = linkedHash(serial: previous.serial) else {
            throw DirectoryError.brokenChain("serial \(serial) names no hash for serial \(previous.serial)")
        }
        guard named == previousDocument.bodyHash else { throw DirectoryError.brokenChain("previous hash differs") }
    }
}

/// The fields an unverified body names its roster's epoch with.
private struct RosterEpochPeek: Decodable {
    struct Epoch: Decodable { var epoch: UInt64? }
    var roster: Epoch
}
