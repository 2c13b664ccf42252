public import SecIRCCrypto

/// A change of the first ring (docs/PROTOCOL.md §3.5): the next roster in full — members added
/// or removed, another threshold — and, optionally, network parameters the ring is to use from
/// then on. It takes effect once at least the threshold of the roster it replaces signed it;
/// each change names the hash of the roster it replaces, so the changes form a chain that
/// relays and clients follow from the roster they were configured with.
public struct RosterChange: SignedContent, Hashable {
    public static let documentType = "secirc-roster-change-v1"

    public var version: Int
    /// The new roster's epoch: one more than the roster it replaces.
    public var epoch: UInt64
    /// ``Roster/hash`` of the roster it replaces.
    public var previous: Bytes32
    /// The new roster (its `epoch` is this change's).
    public var roster: Roster
    /// Network parameters the ring votes for from this epoch on (absent: unchanged).
    public var network: GovernedParameters?
    /// Unix seconds, when a member proposed it (informational).
    public var proposedAt: Int64
    /// The proposer's reason, for the operators who approve it.
    public var note: String?

    public static let maximumNoteLength = 280

    public init(version: Int = 1, epoch: UInt64, previous: Bytes32, roster: Roster, network: GovernedParameters? = nil,
                proposedAt: Int64, note: String? = nil) {
        self.version = version
        self.epoch = epoch
        self.previous = previous
        self.roster = roster
        self.network = network
        self.proposedAt = proposedAt
        self.note = note
    }

    enum CodingKeys: String, CodingKey {
        case version, epoch, previous, roster, network, note
        case proposedAt = "proposed_at"
    }

    public func validate() throws {
        guard version == 1 else { throw DirectoryError.invalid("roster change version \(version)") }
        guard epoch >= 1 else { throw DirectoryError.invalid("roster change epoch 0 (the configured roster is epoch 0)") }
        guard roster.epoch == epoch else { throw DirectoryError.invalid("roster epoch \(roster.epoch) is not the change's \(epoch)") }
        try roster.validate()
        try network?.validate()
        if let note, note.utf8.count > Self.maximumNoteLength {
            throw DirectoryError.invalid("note longer than \(Self.maximumNoteLength) bytes")
        }
        if let note, note.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            throw DirectoryError.invalid("note holds a control character")
        }
    }

    /// The body as a document for members to sign.
    public func unsignedDocument() -> SignedDocument {
        SignedDocument(type: Self.documentType, body: DocumentCoding.encode(self))
    }

    /// The change following `current`: `roster` (members and threshold) becomes epoch
    /// `current.epoch + 1`.
    public static func following(_ current: Roster, members: [Roster.Member], threshold: Int?, network: GovernedParameters?,
                                 proposedAt: Int64, note: String?) throws -> RosterChange {
        var next = Roster(members: members, threshold: threshold)
        next.epoch = current.epoch + 1
        let change = RosterChange(epoch: next.epoch, previous: current.hash, roster: next, network: network,
                                  proposedAt: proposedAt, note: note)
        try change.validate()
        guard next.members != current.members || next.threshold != current.threshold || network != nil else {
            throw DirectoryError.invalid("the proposal changes nothing")
        }
        return change
    }
}

/// Network parameters a roster change sets (each absent one stays as it was).
public struct GovernedParameters: Codable, Hashable, Sendable {
    public var coverRate: Double?
    public var loopRate: Double?
    public var relayCoverRate: Double?
    public var meanDelayMs: Int?

    public init(coverRate: Double? = nil, loopRate: Double? = nil, relayCoverRate: Double? = nil, meanDelayMs: Int? = nil) {
        self.coverRate = coverRate
        self.loopRate = loopRate
        self.relayCoverRate = relayCoverRate
        self.meanDelayMs = meanDelayMs
    }

    enum CodingKeys: String, CodingKey {
        case coverRate = "cover_rate"
        case loopRate = "loop_rate"
        case relayCoverRate = "relay_cover_rate"
        case meanDelayMs = "mean_delay_ms"
    }

    /// The ranges security.yaml accepts for the same parameters.
    public func validate() throws {
        guard coverRate != nil || loopRate != nil || relayCoverRate != nil || meanDelayMs != nil else {
            throw DirectoryError.invalid("network sets nothing")
        }
        if let coverRate, !(0.01...1000).contains(coverRate) { throw DirectoryError.invalid("cover_rate \(coverRate) outside 0.01...1000") }
        if let loopRate, !(0...1000).contains(loopRate) { throw DirectoryError.invalid("loop_rate \(loopRate) outside 0...1000") }
        if let relayCoverRate, !(0...1000).contains(relayCoverRate) {
            throw DirectoryError.invalid("relay_cover_rate \(relayCoverRate) outside 0...1000")
        }
        if let meanDelayMs, !(0...60_000).contains(meanDelayMs) {
            throw DirectoryError.invalid("mean_delay_ms \(meanDelayMs) outside 0...60000")
        }
    }

    /// `base` with these values put in; later changes override earlier ones field by field.
    public func applied(to base: NetworkParameters) -> NetworkParameters {
        var out = base
        if let coverRate { out.coverRate = coverRate }
        if let loopRate { out.loopRate = loopRate }
        if let relayCoverRate { out.relayCoverRate = relayCoverRate }
        if let meanDelayMs { out.meanDelayMs = meanDelayMs }
        return out
    }

    /// `self` overridden field by field by `newer`.
    func merged(with newer: GovernedParameters) -> GovernedParameters {
        GovernedParameters(coverRate: newer.coverRate ?? coverRate, loopRate: newer.loopRate ?? loopRate,
                           relayCoverRate: newer.relayCoverRate ?? relayCoverRate, meanDelayMs: newer.meanDelayMs ?? meanDelayMs)
    }
}

extension Unverified where Content == RosterChange {
    /// A proposal continuing `current` (the next epoch, naming `current`'s hash), with the
    /// members of `current` whose signatures verify: at least one, or it is refused.
    public func proposal(continuing current: Roster) throws -> (change: RosterChange, signatures: [SignedDocument.Entry]) {
        let change = try decodeBody()
        guard change.epoch == current.epoch + 1 else {
            throw DirectoryError.invalid("roster change for epoch \(change.epoch), the roster held is epoch \(current.epoch)")
        }
        guard change.previous == current.hash else { throw DirectoryError.invalid("roster change replaces another roster") }
        let signatures = document.validEntries(among: current.keys)
        guard !signatures.isEmpty else { throw DirectoryError.insufficientSignatures(valid: 0, required: 1) }
        return (change, signatures)
    }

    /// The epoch the body names, before anything is verified (nil when it is not a change).
    public var claimedEpoch: UInt64? {
        try? DocumentCoding.decode(EpochPeek.self, from: document.body).epoch
    }

    /// A change in force: it continues `current` and at least `current.threshold` of its members
    /// signed it.
    public func verified(continuing current: Roster) throws -> RosterChange {
        let (change, signatures) = try proposal(continuing: current)
        guard signatures.count >= current.threshold else {
            throw DirectoryError.insufficientSignatures(valid: signatures.count, required: current.threshold)
        }
        return change
    }
}

/// The roster a node trusts now: the one it was configured with (epoch 0) and the changes in
/// force since, each checked against the roster before it. What relays serve at
/// `GET /v1/ring/roster` and what every node follows.
public struct RosterChain: Sendable, Equatable {
    public let genesis: Roster
    /// The changes in force, in epoch order (epoch 1 first).
    public private(set) var changes: [SignedDocument] = []
    public private(set) var current: Roster
    /// Every roster of the chain, the configured one first and `current` last.
    public private(set) var rosters: [Roster]
    /// The network parameters set by the changes, merged (nil when none set any).
    public private(set) var network: GovernedParameters?

    /// More changes than any ring makes (each one needs its operators' approval).
    public static let maximumChanges = 4096

    public init(genesis: Roster) {
        self.genesis = genesis
        current = genesis
        rosters = [genesis]
    }

    /// Takes a change: true when it continued the chain, false when it is one held already.
    /// Throws when it neither continues the chain nor is held (another change for an epoch
    /// held is a fork, which only members signing twice can make).
    @discardableResult
    public mutating func append(_ document: SignedDocument) throws -> Bool {
        // Only the epoch is read here; the whole body is decoded once, when it is verified.
        guard let epoch = try Unverified<RosterChange>(document).claimedEpoch else {
            throw DirectoryError.malformed("not a roster change")
        }
        if epoch <= current.epoch {
            guard epoch >= 1, epoch <= UInt64(changes.count), changes[Int(epoch - 1)].bodyHash == document.bodyHash
            else { throw DirectoryError.brokenChain("a different roster change for epoch \(epoch) is in force") }
            return false
        }
        guard changes.count < Self.maximumChanges else { throw DirectoryError.invalid("more than \(Self.maximumChanges) roster changes") }
        let verified = try Unverified<RosterChange>(document).verified(continuing: current)
        changes.append(document)
        current = verified.roster
        rosters.append(current)
        if let set = verified.network { network = network?.merged(with: set) ?? set }
        return true
    }

    /// The changes after `epoch` (all of them for 0).
    public func changes(since epoch: UInt64) -> ArraySlice<SignedDocument> {
        changes.dropFirst(Int(min(epoch, UInt64(changes.count))))
    }
}

/// The answer of `GET /v1/ring/roster?since=EPOCH`: the roster in force and the changes that
/// lead to it from `since`.
public struct RosterChainAnswer: Codable, Sendable, Equatable {
    public var epoch: UInt64
    public var roster: Roster
    public var changes: [SignedDocument]

    public init(epoch: UInt64, roster: Roster, changes: [SignedDocument]) {
        self.epoch = epoch
        self.roster = roster
        self.changes = changes
    }

    /// Compact JSON.
    public func jsonBytes() -> [UInt8] { DocumentCoding.encode(self) }

    /// Parses an answer from untrusted bytes (nothing verified: each change is checked when
    /// appended to a ``RosterChain``).
    public static func decode(json: [UInt8]) throws -> RosterChainAnswer {
        guard json.count <= SignedDocument.maximumEncodedLength else {
            throw DirectoryError.malformed("larger than \(SignedDocument.maximumEncodedLength) bytes")
        }
        let answer = try DocumentCoding.decode(RosterChainAnswer.self, from: json)
        guard answer.changes.count <= RosterChain.maximumChanges else {
            throw DirectoryError.malformed("more than \(RosterChain.maximumChanges) changes")
        }
        return answer
    }
}

/// The field an unverified change names its epoch with.
private struct EpochPeek: Decodable {
    var epoch: UInt64
}
