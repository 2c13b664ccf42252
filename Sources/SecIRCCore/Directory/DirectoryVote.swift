public import SecIRCCrypto

/// A first-ring member's vote for one round's directory: the relay descriptors it accepts and
/// the parameters it proposes, signed by the member (docs/PROTOCOL.md §3.4). Round `serial`'s
/// directory is made from the votes of that round only (``Consensus``).
public struct DirectoryVote: SignedContent, Hashable {
    public static let documentType = "secirc-vote-v1"

    public var version: Int
    /// The round, which is the serial of the directory voted for.
    public var serial: UInt64
    /// The latest directory the voter holds (its serial and body hash; zeros for none): the
    /// directory this round continues. Votes that name another one are not counted together.
    public var previousSerial: UInt64
    public var previous: Bytes32
    /// The member who votes (the envelope must carry its signature).
    public var voter: SigningPublicKey
    /// The validity the voter proposes (Unix seconds).
    public var validAfter: Int64
    public var validUntil: Int64
    public var network: NetworkParameters
    /// The descriptors the voter accepts, each signed by its relay.
    public var relays: [SignedDocument]
    /// The voter's rating of each relay it accepts, in the order of ``relays`` (flags among
    /// ``RelayRating/votedFlags``); nil: every relay rated 1, no flag.
    public var ratings: [RelayRating]?

    public init(version: Int = 1, serial: UInt64, previousSerial: UInt64, previous: Bytes32, voter: SigningPublicKey,
                validAfter: Int64, validUntil: Int64, network: NetworkParameters, relays: [SignedDocument],
                ratings: [RelayRating]? = nil) {
        self.version = version
        self.serial = serial
        self.previousSerial = previousSerial
        self.previous = previous
        self.voter = voter
        self.validAfter = validAfter
        self.validUntil = validUntil
        self.network = network
        self.relays = relays
        self.ratings = ratings
    }

    /// The voter's rating of its relay at `index`.
    public func rating(at index: Int) -> RelayRating {
        guard let ratings, ratings.indices.contains(index) else { return RelayRating(weight: 1) }
        return ratings[index]
    }

    enum CodingKeys: String, CodingKey {
        case version, serial, previous, voter, network, relays, ratings
        case previousSerial = "previous_serial"
        case validAfter = "valid_after"
        case validUntil = "valid_until"
    }

    public func validate() throws {
        guard version == 1 else { throw DirectoryError.invalid("vote version \(version)") }
        guard validUntil > validAfter else { throw DirectoryError.invalid("empty validity window") }
        guard relays.count <= RelayDirectory.maximumRelays else {
            throw DirectoryError.invalid("more than \(RelayDirectory.maximumRelays) relays")
        }
        guard previousSerial < serial else { throw DirectoryError.invalid("previous serial \(previousSerial) is not before \(serial)") }
        guard (previousSerial == 0) == (previous == .zero) else {
            throw DirectoryError.invalid("a previous directory needs both its serial and its hash")
        }
        if let ratings {
            guard ratings.count == relays.count else { throw DirectoryError.invalid("\(ratings.count) ratings for \(relays.count) relays") }
            for rating in ratings { try rating.validate(allowing: RelayRating.votedFlags) }
        }
    }

    /// The vote signed by `identity` (whose public key must be `voter`).
    public func signed(by identity: SigningPrivateKey) throws -> SignedDocument {
        guard identity.publicKey == voter else { throw DirectoryError.invalid("signing key is not the voter") }
        var document = SignedDocument(type: Self.documentType, body: DocumentCoding.encode(self))
        document.sign(with: identity)
        return document
    }
}

extension Unverified where Content == DirectoryVote {
    /// Checks that a member of `roster` signed the vote it names as voter and that every
    /// descriptor in it is signed by its relay (`known`: descriptors verified before, by body
    /// hash, not verified again); a relay listed twice refuses the vote.
    public func verified(roster: Roster, known: [Bytes32: RelayDescriptor] = [:]) throws
        -> (vote: DirectoryVote, descriptors: [RelayDescriptor]) {
        let vote = try decodeBody()
        guard roster.keys.contains(vote.voter) else { throw DirectoryError.invalid("the voter is not a member of the roster") }
        guard document.validSigners(among: [vote.voter]).contains(vote.voter) else {
            throw DirectoryError.insufficientSignatures(valid: 0, required: 1)
        }
        var seen: Set<ID> = []
        let descriptors = try vote.relays.map { signed in
            let descriptor = try known[signed.bodyHash] ?? Unverified<RelayDescriptor>(signed).verified()
            guard seen.insert(descriptor.id).inserted else { throw DirectoryError.invalid("relay \(descriptor.id) listed twice") }
            return descriptor
        }
        return (vote, descriptors)
    }
}
