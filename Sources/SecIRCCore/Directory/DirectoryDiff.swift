public import SecIRCCrypto

/// The change from one signed relay directory (the base) to a later one, from which a node
/// holding the base rebuilds the later one's exact signed body — so the first ring's
/// signatures are checked over the rebuilt bytes exactly as over a full download
/// (docs/PROTOCOL.md §3.6). On the wire, canonical JSON like every document:
/// ```json
/// {"base_hash": "<hex>", "base_serial": 41, "body_hash": "<hex>",
///  "directory": {<the new body's fields, with "relays": []>},
///  "ratings": [{"keep": [0, 500]}, {"set": {"flags": ["mailbox"], "weight": 1200}}, {"keep": [501, 500]}],
///  "relays": [{"keep": [0, 120]}, {"add": {<descriptor document>}}, {"keep": [121, 880]}],
///  "signatures": [{"key": "<hex>", "sig": "<hex>"}], "type": "secirc-directory-diff-v1"}
/// ```
/// The new directory's relays are the pieces in order: `keep [i, n]` is the base's relays
/// i ..< i+n (their exact signed documents), `add` a document the base does not hold; its
/// ratings likewise (`keep` the base's, `set` one). Runs of
/// base positions, not one hash per relay: directories list relays sorted by ID, so what did
/// not change is a few runs, and 10,000 unchanged relays cost bytes, not 670 KB of hashes.
public struct DirectoryDiff: Codable, Sendable, Hashable {
    public static let documentType = "secirc-directory-diff-v1"

    /// One run of the new directory's relay list.
    public enum Piece: Codable, Sendable, Hashable {
        /// The base's relays `from ..< from + count`.
        case keep(from: Int, count: Int)
        /// A descriptor document the base does not hold (new, or signed again).
        case add(SignedDocument)

        enum CodingKeys: String, CodingKey { case keep, add }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            if let (from, count) = try DirectoryDiff.keepRun(c, keep: .keep) {
                self = .keep(from: from, count: count)
            } else {
                self = .add(try c.decode(SignedDocument.self, forKey: .add))
            }
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            switch self {
            case let .keep(from, count): try c.encode([from, count], forKey: .keep)
            case let .add(document): try c.encode(document, forKey: .add)
            }
        }
    }

    /// One run of the new directory's ratings: `{"keep": [from, count]}`, the base's ratings
    /// `from ..< from + count`, or `{"set": <rating>}`, one rating.
    public enum RatingPiece: Codable, Sendable, Hashable {
        case keep(from: Int, count: Int)
        case set(RelayRating)

        enum CodingKeys: String, CodingKey { case keep, set }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            if let (from, count) = try DirectoryDiff.keepRun(c, keep: .keep) {
                self = .keep(from: from, count: count)
            } else {
                self = .set(try c.decode(RelayRating.self, forKey: .set))
            }
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            switch self {
            case let .keep(from, count): try c.encode([from, count], forKey: .keep)
            case let .set(rating): try c.encode(rating, forKey: .set)
            }
        }
    }

    /// A piece's `keep` run, `[from, count]`; nil when the piece holds its other key instead.
    /// A piece holds exactly one key.
    static func keepRun<Key: CodingKey>(_ c: KeyedDecodingContainer<Key>, keep: Key) throws -> (from: Int, count: Int)? {
        guard c.allKeys.count == 1 else {
            throw DecodingError.dataCorrupted(.init(codingPath: c.codingPath, debugDescription: "a piece holds exactly one key"))
        }
        guard c.contains(keep) else { return nil }
        let range = try c.decode([Int].self, forKey: keep)
        guard range.count == 2 else {
            throw DecodingError.dataCorruptedError(forKey: keep, in: c, debugDescription: "keep is [from, count]")
        }
        return (range[0], range[1])
    }

    /// Always ``documentType``.
    public var type: String
    /// The serial and `bodyHash` of the directory the diff applies to.
    public var baseSerial: UInt64
    public var baseHash: Bytes32
    /// `bodyHash` of the rebuilt directory: checked before any signature.
    public var bodyHash: Bytes32
    /// The new directory's fields; its `relays` is empty (they are in ``relays``).
    public var directory: RelayDirectory
    public var relays: [Piece]
    /// The new directory's ratings, as runs of the base's and single ones; nil when it has none.
    public var ratings: [RatingPiece]?
    /// The new directory's signatures, as its envelope carries them.
    public var signatures: [SignedDocument.Entry]

    enum CodingKeys: String, CodingKey {
        case type, directory, relays, ratings, signatures
        case baseSerial = "base_serial"
        case baseHash = "base_hash"
        case bodyHash = "body_hash"
    }

    /// The diff from `base` (whose body is `baseDirectory`) to `target` (whose body is
    /// `targetDirectory`); nil when the target's body is not what this encoder writes for its
    /// fields (a diff could not rebuild it: serve the full directory instead).
    public static func make(from base: SignedDocument, _ baseDirectory: RelayDirectory,
                            to target: SignedDocument, _ targetDirectory: RelayDirectory) -> DirectoryDiff? {
        var position: [SignedDocument: Int] = [:]
        for (i, document) in baseDirectory.relays.enumerated() { position[document] = position[document] ?? i }
        var pieces: [Piece] = []
        var ratingPieces: [RatingPiece]? = targetDirectory.ratings == nil ? nil : []
        for (j, document) in targetDirectory.relays.enumerated() {
            let i = position[document]
            if let i {
                if case let .keep(from, count)? = pieces.last, from + count == i {
                    pieces[pieces.count - 1] = .keep(from: from, count: count + 1)
                } else {
                    pieces.append(.keep(from: i, count: 1))
                }
            } else {
                pieces.append(.add(document))
            }
            guard let rating = targetDirectory.ratings?[j] else { continue }
            // A kept relay whose rating did not change keeps the base's rating too.
            if let i, baseDirectory.ratings?.indices.contains(i) == true, baseDirectory.ratings?[i] == rating {
                if case let .keep(from, count)? = ratingPieces?.last, from + count == i {
                    ratingPieces![ratingPieces!.count - 1] = .keep(from: from, count: count + 1)
                } else {
                    ratingPieces!.append(.keep(from: i, count: 1))
                }
            } else {
                ratingPieces!.append(.set(rating))
            }
        }
        var header = targetDirectory
        header.relays = []
        header.ratings = nil
        let diff = DirectoryDiff(type: documentType, baseSerial: baseDirectory.serial, baseHash: base.bodyHash,
                                 bodyHash: target.bodyHash, directory: header, relays: pieces, ratings: ratingPieces,
                                 signatures: target.signatures)
        guard let rebuilt = try? diff.apply(to: base, baseDirectory), rebuilt == target else { return nil }
        return diff
    }

    /// The new directory's signed envelope, rebuilt from `base` (whose body is `baseDirectory`).
    /// Nothing is verified here but the shape and the body hash: verify the result like any
    /// fetched directory. Throws ``DirectoryError/malformed(_:)`` when the diff is for another
    /// base, a run leaves the base, or the rebuilt body's hash differs.
    public func apply(to base: SignedDocument, _ baseDirectory: RelayDirectory) throws -> SignedDocument {
        guard baseSerial == baseDirectory.serial, baseHash == base.bodyHash else {
            throw DirectoryError.malformed("diff applies to serial \(baseSerial), not the directory held (serial \(baseDirectory.serial))")
        }
        guard directory.relays.isEmpty, directory.ratings == nil else {
            throw DirectoryError.malformed("diff directory lists relays or ratings outside its pieces")
        }
        let old = baseDirectory.relays
        var relays: [SignedDocument] = []
        for piece in self.relays {
            switch piece {
            case let .keep(from, count):
                guard from >= 0, count >= 1, from <= old.count, count <= old.count - from else {
                    throw DirectoryError.malformed("keep [\(from), \(count)] leaves the base's \(old.count) relays")
                }
                relays += old[from ..< from + count]
            case let .add(document):
                relays.append(document)
            }
            guard relays.count <= RelayDirectory.maximumRelays else {
                throw DirectoryError.malformed("diff lists more than \(RelayDirectory.maximumRelays) relays")
            }
        }
        var rebuilt = directory
        rebuilt.relays = relays
        rebuilt.ratings = try ratings.map { try rebuildRatings($0, base: baseDirectory.ratings ?? []) }
        let body = DocumentCoding.encode(rebuilt)
        guard SHA256.hash(body) == bodyHash else { throw DirectoryError.malformed("the rebuilt directory's hash differs from body_hash") }
        return SignedDocument(type: RelayDirectory.documentType, body: body, signatures: signatures)
    }

    /// The ratings `pieces` make from the base's `old` ones.
    private func rebuildRatings(_ pieces: [RatingPiece], base old: [RelayRating]) throws -> [RelayRating] {
        var ratings: [RelayRating] = []
        for piece in pieces {
            switch piece {
            case let .keep(from, count):
                guard from >= 0, count >= 1, from <= old.count, count <= old.count - from else {
                    throw DirectoryError.malformed("ratings keep [\(from), \(count)] leaves the base's \(old.count) ratings")
                }
                ratings += old[from ..< from + count]
            case let .set(rating):
                ratings.append(rating)
            }
            guard ratings.count <= RelayDirectory.maximumRelays else {
                throw DirectoryError.malformed("diff rates more than \(RelayDirectory.maximumRelays) relays")
            }
        }
        return ratings
    }

    /// Compact canonical JSON.
    public func jsonBytes() -> [UInt8] { DocumentCoding.encode(self) }

    /// Parses a diff from untrusted bytes: at most ``SignedDocument/maximumEncodedLength`` bytes,
    /// ``RelayDirectory/maximumRelays`` pieces and ``SignedDocument/maximumSignatures``.
    public static func decode(json: [UInt8]) throws -> DirectoryDiff {
        guard json.count <= SignedDocument.maximumEncodedLength else {
            throw DirectoryError.malformed("larger than \(SignedDocument.maximumEncodedLength) bytes")
        }
        let diff = try DocumentCoding.decode(DirectoryDiff.self, from: json)
        guard diff.type == documentType else { throw DirectoryError.wrongType(expected: documentType, found: diff.type) }
        guard diff.relays.count <= RelayDirectory.maximumRelays, (diff.ratings?.count ?? 0) <= RelayDirectory.maximumRelays else {
            throw DirectoryError.malformed("too many pieces")
        }
        guard diff.signatures.count <= SignedDocument.maximumSignatures else { throw DirectoryError.malformed("too many signatures") }
        return diff
    }
}
