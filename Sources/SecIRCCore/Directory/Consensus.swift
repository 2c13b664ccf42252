public import SecIRCCrypto

/// The first ring's consensus: the directory a set of votes makes, computed the same way by
/// every member, so members holding the same votes sign the same bytes (docs/PROTOCOL.md §3.4).
///
/// - A relay is listed when more than half of the votes list it; of the descriptors the votes
///   carry for it, the one with the newest `published` (equal: the lowest body hash).
/// - Its rating: the lower median of the weights the listing votes give it, the flags more
///   than half of all votes grant, and `first_ring` when it is a member of the roster.
/// - Each number (network parameters, validity) is the lower median of the votes' values.
/// - Serial and predecessor are the votes' own (all votes must agree on them).
/// - The signed directory, with every member's signature, fits `maximumBytes` (what every
///   verifier decodes): if the relays listed would not fit, those listed by the most votes are
///   kept (equal counts: the lower IDs), as many as fit.
public enum Consensus {
    /// A vote, verified, with its descriptors (in the vote's order).
    public struct CountedVote: Sendable {
        public var vote: DirectoryVote
        public var descriptors: [RelayDescriptor]

        public init(vote: DirectoryVote, descriptors: [RelayDescriptor]) {
            self.vote = vote
            self.descriptors = descriptors
        }
    }

    /// The directory `votes` make, for `roster`, continuing `previous` (the directory the votes
    /// name, with its envelope; nil when they name none). Throws unless there are at least
    /// `roster.threshold` votes, by distinct members of `roster`, all for one round and one
    /// predecessor — which must be `previous`.
    public static func directory(from votes: [CountedVote], roster: Roster,
                                 previous: (document: SignedDocument, directory: RelayDirectory)?,
                                 maximumBytes: Int = SignedDocument.maximumEncodedLength) throws -> RelayDirectory {
        guard let first = votes.first?.vote, votes.count >= roster.threshold else {
            throw DirectoryError.insufficientSignatures(valid: votes.count, required: roster.threshold)
        }
        guard Set(votes.map(\.vote.voter)).count == votes.count, votes.allSatisfy({ roster.keys.contains($0.vote.voter) }) else {
            throw DirectoryError.invalid("votes must come from distinct members of the roster")
        }
        guard votes.allSatisfy({ $0.vote.serial == first.serial && $0.vote.previous == first.previous
                                 && $0.vote.previousSerial == first.previousSerial }) else {
            throw DirectoryError.invalid("votes for different rounds or predecessors")
        }
        if let previous {
            guard previous.directory.serial == first.previousSerial, previous.document.bodyHash == first.previous else {
                throw DirectoryError.brokenChain("the votes continue another directory")
            }
        } else {
            guard first.previousSerial == 0 else { throw DirectoryError.brokenChain("the votes continue a directory not held") }
        }

        var listings: [ID: Listing] = [:]
        let members = roster.keys // built once, not once a listed relay
        for counted in votes {
            for (index, (document, descriptor)) in zip(counted.vote.relays, counted.descriptors).enumerated() {
                let rating = counted.vote.rating(at: index)
                guard var held = listings[descriptor.id] else {
                    listings[descriptor.id] = Listing(document: document, published: descriptor.published,
                                                      member: members.contains(descriptor.identityKey),
                                                      weights: [rating.weight], flags: Dictionary(rating.flags.map { ($0, 1) }) { $0 + $1 })
                    continue
                }
                if descriptor.published > held.published
                    || (descriptor.published == held.published && precedes(document.bodyHash, held.document.bodyHash)) {
                    held.document = document
                    held.published = descriptor.published
                }
                held.weights.append(rating.weight)
                for flag in rating.flags { held.flags[flag, default: 0] += 1 }
                listings[descriptor.id] = held
            }
        }
        let listed = listings.filter { 2 * $0.value.weights.count > votes.count }

        let all = votes.map(\.vote)
        let network = NetworkParameters(
            packetSize: lowerMedian(all.map(\.network.packetSize)), maxHops: lowerMedian(all.map(\.network.maxHops)),
            coverRate: lowerMedian(all.map(\.network.coverRate)), loopRate: lowerMedian(all.map(\.network.loopRate)),
            relayCoverRate: lowerMedian(all.map(\.network.relayCoverRate)), meanDelayMs: lowerMedian(all.map(\.network.meanDelayMs)))
        let validAfter = lowerMedian(all.map(\.validAfter))
        let validUntil = max(lowerMedian(all.map(\.validUntil)), validAfter + 1)
        let (previousHash, earlier) = chainLinks(serial: first.serial, previous: previous)
        func directory(_ chosen: [(key: ID, value: Listing)]) -> RelayDirectory {
            let sorted = chosen.sorted { $0.key < $1.key }
            return RelayDirectory(serial: first.serial, previous: previousHash, earlier: earlier, validAfter: validAfter,
                                  validUntil: validUntil, network: network, roster: roster, relays: sorted.map(\.value.document),
                                  ratings: sorted.map { $0.value.rating(votes: votes.count) })
        }
        var result = directory(Array(listed))
        if signedSize(result, roster: roster) > maximumBytes {
            // The most-listed first (equal: lower ID); the longest prefix that fits.
            let ranked = listed.sorted {
                $0.value.weights.count != $1.value.weights.count ? $0.value.weights.count > $1.value.weights.count : $0.key < $1.key
            }
            var fits = 0, over = ranked.count
            while over - fits > 1 {
                let middle = (fits + over) / 2
                if signedSize(directory(Array(ranked.prefix(middle))), roster: roster) <= maximumBytes { fits = middle } else { over = middle }
            }
            result = directory(Array(ranked.prefix(fits)))
        }
        try result.validate()
        return result
    }

    /// What the votes that list one relay say of it.
    struct Listing {
        /// The newest descriptor among the votes (equal: the lowest body hash).
        var document: SignedDocument
        var published: Int64
        /// Whether the relay is a member of the roster (`first_ring`).
        var member: Bool
        /// Each listing vote's weight for it.
        var weights: [Int]
        /// How many votes granted each flag.
        var flags: [String: Int]

        /// The lower median of the weights; the flags more than half of all `votes` granted.
        func rating(votes: Int) -> RelayRating {
            let granted = flags.filter { 2 * $0.value > votes }.map(\.key)
            return RelayRating(weight: Consensus.lowerMedian(weights), flags: granted + (member ? ["first_ring"] : []))
        }
    }

    /// Bytes of `directory`'s envelope signed by every member of `roster`.
    static func signedSize(_ directory: RelayDirectory, roster: Roster) -> Int {
        let body = directory.unsignedDocument().body
        let blank = SignedDocument.Entry(key: roster.members[0].identityKey, sig: try! Signature(bytes: [UInt8](repeating: 0, count: Signature.byteCount)))
        let signatures = SignedDocument(type: RelayDirectory.documentType, body: [], signatures: Array(repeating: blank, count: roster.members.count))
        return signatures.jsonBytes().count + (body.count + 2) / 3 * 4
    }

    /// The hashes a directory with `serial` names for the 64 serials before it: `previous`'s
    /// hash at its serial, what `previous` names further back, zeros for serials that had no
    /// directory (a round that gathered too few signatures).
    public static func chainLinks(serial: UInt64, previous: (document: SignedDocument, directory: RelayDirectory)?)
        -> (previous: Bytes32, earlier: [Bytes32]?) {
        guard let previous, serial > 1 else { return (.zero, nil) }
        func hash(at older: UInt64) -> Bytes32 {
            older == previous.directory.serial ? previous.document.bodyHash : previous.directory.linkedHash(serial: older) ?? .zero
        }
        let back = min(UInt64(RelayDirectory.maximumEarlier), serial - 2)
        var earlier = back == 0 ? [] : (2...(back + 1)).map { hash(at: serial - $0) }
        while earlier.last == .zero { earlier.removeLast() } // names nothing a verifier could hold
        return (hash(at: serial - 1), earlier.isEmpty ? nil : earlier)
    }

    /// The lower median (of an even count, the lower of the two middle values).
    static func lowerMedian<T: Comparable>(_ values: [T]) -> T {
        values.sorted()[(values.count - 1) / 2]
    }

    private static func precedes(_ a: Bytes32, _ b: Bytes32) -> Bool { a.bytes.lexicographicallyPrecedes(b.bytes) }
}
