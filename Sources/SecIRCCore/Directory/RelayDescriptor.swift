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
    /// How full the relay's mailbox store is, percent in multiples of 10 (0...100); nil when it
    /// does not say (absent from the JSON). Clients open fewer new mailboxes at a loaded relay.
    public var load: Int?

    /// SHA-256 of `identityKey`, computed once (paths and fetches ask for it all the time).
    public private(set) var id: ID

    public init(version: Int = 1, identityKey: SigningPublicKey, linkKey: AgreementPublicKey, udp: String, http: String,
                onionKeys: [OnionKeyEntry], capacity: Int, flags: [String], published: Int64, load: Int? = nil) {
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
        self.load = load
    }

    enum CodingKeys: String, CodingKey {
        case version, udp, http, capacity, flags, published, load
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
                      published: c.decode(Int64.self, forKey: .published), load: c.decodeIfPresent(Int.self, forKey: .load))
    }

    public func validate() throws {
        guard version == 1 else { throw DirectoryError.invalid("descriptor version \(version)") }
        guard (1...4).contains(onionKeys.count) else { throw DirectoryError.invalid("\(onionKeys.count) onion keys (1...4 allowed)") }
        guard Set(onionKeys.map(\.epoch)).count == onionKeys.count else { throw DirectoryError.invalid("repeated onion-key epoch") }
        for key in onionKeys where key.validUntil <= key.validAfter {
            throw DirectoryError.invalid("onion key \(key.epoch) has an empty validity window")
        }
        guard (0...Self.maximumCapacity).contains(capacity) else {
            throw DirectoryError.invalid("capacity \(capacity) outside 0...\(Self.maximumCapacity)")
        }
        if let load, !(0...100).contains(load) || load % 10 != 0 {
            throw DirectoryError.invalid("load \(load): a multiple of 10 from 0 to 100")
        }
        guard flags.count <= Self.maximumFlags, flags.allSatisfy(Self.isFlag) else {
            throw DirectoryError.invalid("flags: at most \(Self.maximumFlags) words of 1 to 32 characters a-z, 0-9, _, -")
        }
        guard Self.isNumericEndpoint(udp) else {
            throw DirectoryError.invalid("udp: a numeric address and port (a.b.c.d:port or [v6]:port), at most \(Self.maximumUDPLength) bytes")
        }
        guard Self.isHTTPURL(http) else {
            throw DirectoryError.invalid("http: an http:// or https:// URL of printable ASCII, at most \(Self.maximumHTTPLength) bytes")
        }
    }

    /// Field bounds (docs/PROTOCOL.md §3.2): a descriptor is at most a few KiB, so the first
    /// ring's directory byte limit (``SignedDocument/maximumEncodedLength``) holds thousands.
    public static let maximumUDPLength = 64
    public static let maximumHTTPLength = 256
    public static let maximumFlags = 16
    public static let maximumCapacity = 100_000_000

    /// A word of 1 to 32 characters a-z, 0-9, `_` and `-`.
    static func isFlag(_ flag: String) -> Bool {
        (1...32).contains(flag.utf8.count) && flag.utf8.allSatisfy {
            (0x61...0x7a).contains($0) || (0x30...0x39).contains($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-")
        }
    }

    /// `a.b.c.d:port` or `[hex:colons:and.dots]:port`: only the characters a numeric address
    /// can have, a port of 1 to 65535 written plainly. Syntax only (no I/O here): the first
    /// ring parses the address itself too.
    static func isNumericEndpoint(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.count <= maximumUDPLength, let colon = bytes.lastIndex(of: UInt8(ascii: ":")), colon > 0 else { return false }
        let host = bytes[..<colon], port = bytes[(colon + 1)...]
        guard (1...5).contains(port.count), port.first != UInt8(ascii: "0"), port.allSatisfy({ (0x30...0x39).contains($0) }),
              let number = Int(String(decoding: port, as: UTF8.self)), number <= 65_535
        else { return false }
        func hexDigit(_ byte: UInt8) -> Bool {
            (0x30...0x39).contains(byte) || (0x61...0x66).contains(byte) || (0x41...0x46).contains(byte)
        }
        if host.first == UInt8(ascii: "[") {
            guard host.count > 2, host.last == UInt8(ascii: "]") else { return false }
            return host.dropFirst().dropLast().allSatisfy { hexDigit($0) || $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: ".") }
        }
        return host.allSatisfy { (0x30...0x39).contains($0) || $0 == UInt8(ascii: ".") }
    }

    /// `http://` or `https://` (lower case), then a non-empty host, in printable ASCII without
    /// spaces, quotes, `<`, `>`, `\\`, `^`, backquote, braces or `|`.
    static func isHTTPURL(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.count <= maximumHTTPLength else { return false }
        let rest: ArraySlice<UInt8>
        if text.hasPrefix("http://") { rest = bytes[7...] } else if text.hasPrefix("https://") { rest = bytes[8...] } else { return false }
        let forbidden = Set("\"<>\\^`{|}".utf8)
        guard rest.allSatisfy({ (0x21...0x7e).contains($0) && !forbidden.contains($0) }) else { return false }
        let host = rest.prefix { $0 != UInt8(ascii: "/") && $0 != UInt8(ascii: "?") && $0 != UInt8(ascii: "#") }
        return !host.isEmpty && host.first != UInt8(ascii: ":") && host.first != UInt8(ascii: "@")
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
