public import SecIRCCrypto

/// What a relay says about itself, signed by its own identity key. Its ID is SHA-256 of
/// `identityKey`.
public struct RelayDescriptor: SignedContent, Hashable {
    public static let documentType = "secirc-descriptor-v1"

    /// One onion key and the epoch it serves.
    public struct OnionKeyEntry: Codable, Hashable, Sendable {
        public var epoch: UInt32
        public var key: AgreementPublicKey
        /// Unix seconds.
        public var validAfter: Int64
        public var validUntil: Int64

        public init(epoch: UInt32, key: AgreementPublicKey, validAfter: Int64, validUntil: Int64) {
            self.epoch = epoch
            self.key = key
            self.validAfter = validAfter
            self.validUntil = validUntil
        }

        enum CodingKeys: String, CodingKey {
            case epoch, key
            case validAfter = "valid_after"
            case validUntil = "valid_until"
        }
    }

    /// Format version (1).
    public var version: Int
    /// Ed25519 identity: signs this descriptor, names the relay.
    public var identityKey: SigningPublicKey { didSet { id = identityKey.id } }
    /// X25519 static key for the Noise link layer.
    public var linkKey: AgreementPublicKey
    /// `host:port` of the UDP data plane.
    public var udp: String
    /// Base URL of the HTTP(S) API.
    public var http: String
    /// Current and next onion keys (at most 4).
    public var onionKeys: [OnionKeyEntry]
    /// Packets per second the relay offers (for path weighting).
    public var capacity: Int
    /// Open set of words, e.g. `first_ring`, `mailbox`.
    public var flags: [String]
    /// Unix seconds when signed.
    public var published: Int64

    /// SHA-256 of `identityKey`, computed once (paths and fetches ask for it all the time).
    public private(set) var id: ID

    public init(version: Int = 1, identityKey: SigningPublicKey, linkKey: AgreementPublicKey, udp: String, http: String,
                onionKeys: [OnionKeyEntry], capacity: Int, flags: [String], published: Int64) {
        self.version = version
        self.identityKey = identityKey
        id = identityKey.id
        self.linkKey = linkKey
        self.udp = udp
        self.http = http
        self.onionKeys = onionKeys
        self.capacity = capacity
        self.flags = flags
        self.published = published
    }

    enum CodingKeys: String, CodingKey {
        case version, udp, http, capacity, flags, published
        case identityKey = "identity_key"
        case linkKey = "link_key"
        case onionKeys = "onion_keys"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        try self.init(version: c.decode(Int.self, forKey: .version), identityKey: c.decode(SigningPublicKey.self, forKey: .identityKey),
                      linkKey: c.decode(AgreementPublicKey.self, forKey: .linkKey), udp: c.decode(String.self, forKey: .udp),
                      http: c.decode(String.self, forKey: .http), onionKeys: c.decode([OnionKeyEntry].self, forKey: .onionKeys),
                      capacity: c.decode(Int.self, forKey: .capacity), flags: c.decode([String].self, forKey: .flags),
                      published: c.decode(Int64.self, forKey: .published))
    }

    public func validate() throws {
        guard version == 1 else { throw DirectoryError.invalid("descriptor version \(version)") }
        guard (1...4).contains(onionKeys.count) else { throw DirectoryError.invalid("\(onionKeys.count) onion keys (1...4 allowed)") }
        guard Set(onionKeys.map(\.epoch)).count == onionKeys.count else { throw DirectoryError.invalid("repeated onion-key epoch") }
        for key in onionKeys where key.validUntil <= key.validAfter {
            throw DirectoryError.invalid("onion key \(key.epoch) has an empty validity window")
        }
        guard capacity >= 0, flags.count <= 16, flags.allSatisfy({ $0.utf8.count <= 32 }) else {
            throw DirectoryError.invalid("capacity or flags out of range")
        }
        guard udp.utf8.count <= 262, http.utf8.count <= 2048, !udp.isEmpty, !http.isEmpty else {
            throw DirectoryError.invalid("address too long or empty")
        }
    }

    /// The onion key for `epoch`, if listed.
    public func onionKey(epoch: UInt32) -> OnionKeyEntry? { onionKeys.first { $0.epoch == epoch } }

    /// The descriptor's body, signed by `identity` (whose public key must be `identityKey`).
    public func signed(by identity: SigningPrivateKey) throws -> SignedDocument {
        guard identity.publicKey == identityKey else { throw DirectoryError.invalid("signing key is not the descriptor's identity key") }
        var document = SignedDocument(type: Self.documentType, body: DocumentCoding.encode(self))
        document.sign(with: identity)
        return document
    }
}

extension Unverified where Content == RelayDescriptor {
    /// Checks the signature by the identity key the body names, then returns the descriptor.
    /// (The body is decoded to learn the key; nothing in it is used before the check.)
    public func verified() throws -> RelayDescriptor {
        let descriptor = try decodeBody()
        guard document.validSigners(among: [descriptor.identityKey]).contains(descriptor.identityKey) else {
            throw DirectoryError.badSelfSignature
        }
        return descriptor
    }
}
