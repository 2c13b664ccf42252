public import SecIRCCrypto

/// The first ring's consensus: the directory a set of votes makes, computed the same way by
/// every member, so members holding the same votes sign the same bytes (docs/PROTOCOL.md §3.4).
///
/// - A relay is listed when more than half of the votes list it; of the descriptors the votes
///   carry for it, the one with the newest `published` (equal: the lowest body hash).
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

        var listings: [ID: (count: Int, document: SignedDocument, published: Int64)] = [:]
        for counted in votes {
            for (document, descriptor) in zip(counted.vote.relays, counted.descriptors) {
                guard let held = listings[descriptor.id] else {
                    listings[descriptor.id] = (1, document, descriptor.published)
                    continue
                }
                let newer = descriptor.published > held.published
                    || (descriptor.published == held.published && precedes(document.bodyHash, held.document.bodyHash))
                listings[descriptor.id] = (held.count + 1, newer ? document : held.document, newer ? descriptor.published : held.published)
            }
        }
        let listed = listings.filter { 2 * $0.value.count > votes.count }

        let all = votes.map(\.vote)
        let network = NetworkParameters(
            packetSize: lowerMedian(all.map(\.network.packetSize)), maxHops: lowerMedian(all.map(\.network.maxHops)),
            coverRate: lowerMedian(all.map(\.network.coverRate)), loopRate: lowerMedian(all.map(\.network.loopRate)),
            meanDelayMs: lowerMedian(all.map(\.network.meanDelayMs)))
        let validAfter = lowerMedian(all.map(\.validAfter))
        let validUntil = max(lowerMedian(all.map(\.validUntil)), validAfter + 1)
        let (previousHash, earlier) = chainLinks(serial: first.serial, previous: previous)
        func directory(_ chosen: [(key: ID, value: (count: Int, document: SignedDocument, published: Int64))]) -> RelayDirectory {
            RelayDirectory(serial: first.serial, previous: previousHash, earlier: earlier, validAfter: validAfter,
                           validUntil: validUntil, network: network, roster: roster,
                           relays: chosen.sorted { $0.key < $1.key }.map(\.value.document))
        }
        var result = directory(Array(listed))
        if signedSize(result, roster: roster) > maximumBytes {
            // The most-listed first (equal: lower ID); the longest prefix that fits.
            let ranked = listed.sorted { $0.value.count != $1.value.count ? $0.value.count > $1.value.count : $0.key < $1.key }
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
