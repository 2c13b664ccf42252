public import SecIRCCrypto
internal import FoundationEssentials

/// A JSON body with detached Ed25519 signatures over its exact bytes. On the wire:
/// ```json
/// {"type": "secirc-directory-v1", "body": "<base64 of the body's exact bytes>",
///  "signatures": [{"key": "<hex Ed25519 public key>", "sig": "<hex signature>"}]}
/// ```
/// Each signature covers `type || 0x00 || body` (domain separation), and is checked over the
/// bytes as received: nothing is re-serialised before verifying.
public struct SignedDocument: Codable, Hashable, Sendable {
    public struct Entry: Codable, Hashable, Sendable {
        public var key: SigningPublicKey
        public var sig: Signature

        public init(key: SigningPublicKey, sig: Signature) {
            self.key = key
            self.sig = sig
        }
    }

    /// The document type, e.g. `secirc-descriptor-v1`.
    public var type: String
    /// The exact body bytes that were signed.
    public var body: [UInt8]
    public var signatures: [Entry]

    /// Refuses envelopes larger than this before parsing (directories of a few thousand relays fit).
    public static let maximumEncodedLength = 4 << 20
    /// A document carries at most this many signatures.
    public static let maximumSignatures = 64

    enum CodingKeys: String, CodingKey { case type, body, signatures }

    public init(type: String, body: [UInt8], signatures: [Entry] = []) {
        self.type = type
        self.body = body
        self.signatures = signatures
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        type = try c.decode(String.self, forKey: .type)
        let text = try c.decode(String.self, forKey: .body)
        guard let data = Data(base64Encoded: text) else {
            throw DecodingError.dataCorruptedError(forKey: .body, in: c, debugDescription: "body is not base64")
        }
        body = Array(data)
        signatures = try c.decode([Entry].self, forKey: .signatures)
        guard signatures.count <= Self.maximumSignatures else {
            throw DecodingError.dataCorruptedError(forKey: .signatures, in: c, debugDescription: "too many signatures")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(type, forKey: .type)
        try c.encode(Data(body).base64EncodedString(), forKey: .body)
        try c.encode(signatures, forKey: .signatures)
    }

    /// What each signature covers.
    public var signedBytes: [UInt8] { Array(type.utf8) + [0] + body }

    /// Adds `key`'s signature (replacing an earlier one by the same key).
    public mutating func sign(with key: SigningPrivateKey) {
        signatures.removeAll { $0.key == key.publicKey }
        signatures.append(Entry(key: key.publicKey, sig: key.sign(signedBytes)))
    }

    /// The distinct keys whose signatures verify, among `candidates` (all signers when nil).
    public func validSigners(among candidates: Set<SigningPublicKey>? = nil) -> Set<SigningPublicKey> {
        Set(validEntries(among: candidates).map(\.key))
    }

    /// The signatures that verify, the first of each key, among `candidates` (all when nil).
    public func validEntries(among candidates: Set<SigningPublicKey>? = nil) -> [Entry] {
        let message = signedBytes
        var valid: Set<SigningPublicKey> = []
        var entries: [Entry] = []
        for entry in signatures where candidates?.contains(entry.key) ?? true && !valid.contains(entry.key) {
            if (try? entry.key.verify(entry.sig, for: message)) != nil {
                valid.insert(entry.key)
                entries.append(entry)
            }
        }
        return entries
    }

    /// SHA-256 of the body bytes: what the next directory names as its predecessor.
    public var bodyHash: Bytes32 { SHA256.hash(body) }

    /// The envelope as compact JSON.
    public func jsonBytes() -> [UInt8] {
        // Encoding strings, arrays and hex cannot fail.
        Array(try! DocumentCoding.encoder.encode(self))
    }

    /// Parses an envelope from untrusted bytes (nothing is verified yet).
    public static func decode(json: [UInt8]) throws -> SignedDocument {
        guard json.count <= maximumEncodedLength else { throw DirectoryError.malformed("larger than \(maximumEncodedLength) bytes") }
        return try DocumentCoding.decode(SignedDocument.self, from: json)
    }
}

/// The JSON settings every document uses: sorted keys, so the same value gives the same bytes.
enum DocumentCoding {
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    static func encode<T: Encodable>(_ value: T) -> [UInt8] {
        // Documents hold strings, numbers, arrays and hex: encoding cannot fail.
        Array(try! encoder.encode(value))
    }

    static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: Data(bytes))
        } catch let error as DecodingError {
            throw DirectoryError.malformed(describe(error))
        } catch {
            throw DirectoryError.malformed("\(error)")
        }
    }

    private static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            let p = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
            return p.isEmpty ? context.debugDescription : "\(p): \(context.debugDescription)"
        }
        switch error {
        case let .dataCorrupted(c): return path(c)
        case let .keyNotFound(key, c): return "\(path(c)) missing key \(key.stringValue)"
        case let .typeMismatch(_, c): return path(c)
        case let .valueNotFound(_, c): return path(c)
        @unknown default: return "\(error)"
        }
    }
}
