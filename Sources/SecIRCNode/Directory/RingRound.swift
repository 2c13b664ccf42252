public import SecIRCCore
public import SecIRCCrypto

/// One round of the first ring's vote, as one member runs it (docs/PROTOCOL.md §3.4): it holds
/// the votes of the round (its own first), at the vote deadline computes the ``Consensus`` from
/// them and signs it once, then gathers the other members' signatures on the same body until
/// `roster.threshold` make the directory. Pure: the caller sends what it returns (its vote,
/// votes to forward, its share) to the other members, and calls ``closeVoting()`` at the deadline.
///
/// What it holds is bounded by the roster: one vote and one share per member, and at most one
/// proof of equivocation per member and kind.
public struct RingRound: Sendable {
    public let serial: UInt64
    public let roster: Roster
    private let identity: SigningPrivateKey
    private let previous: (document: SignedDocument, directory: RelayDirectory)?
    /// This member's own vote, signed: what it sends to the others.
    public let ownVote: SignedDocument

    private var votes: [SigningPublicKey: (document: SignedDocument, counted: Consensus.CountedVote)] = [:]
    /// The first share of each member (a second, for another body, is equivocation).
    private var shares: [SigningPublicKey: (document: SignedDocument, share: DirectorySignatureShare)] = [:]
    /// The consensus this member computed and signed, gathering signatures.
    public private(set) var consensus: (document: SignedDocument, directory: RelayDirectory)?
    /// Whether the vote deadline passed (votes arriving now are not counted).
    public private(set) var votingClosed = false
    public private(set) var equivocations: [EquivocationProof] = []
    /// Members whose share names another body than this member's consensus.
    public private(set) var disagreeing: Set<SigningPublicKey> = []

    /// Why a vote or share from the network was refused.
    public enum Refusal: Error, Equatable, Sendable, CustomStringConvertible {
        /// Not a valid document of a roster member (the text says why).
        case invalid(String)
        /// For another round.
        case otherRound(UInt64)
        /// A vote that continues another directory than this member holds.
        case otherPredecessor(serial: UInt64)
        /// A vote after the deadline.
        case late

        public var description: String {
            switch self {
            case let .invalid(text): text
            case let .otherRound(serial): "for round \(serial), not this one"
            case let .otherPredecessor(serial): "continues another directory (serial \(serial))"
            case .late: "the vote deadline has passed"
            }
        }
    }

    /// What a vote or share from the network did.
    public enum Outcome: Equatable, Sendable {
        /// New and counted: a vote to forward to the other members.
        case counted
        /// The same bytes were held already.
        case duplicate
        /// Its member signed something else for this round before: proof recorded.
        case equivocation
        /// A share for another body than this member's consensus.
        case disagrees
        /// A share that arrived before this member computed its consensus: held until then.
        case held
    }

    /// Starts round `serial`, continuing `previous` (the latest directory this member holds),
    /// with this member's vote for it: `relays` are the descriptors it accepts, `ratings` its
    /// rating of each (nil: 1 each, no flag).
    public init(serial: UInt64, roster: Roster, identity: SigningPrivateKey,
                previous: (document: SignedDocument, directory: RelayDirectory)?,
                validAfter: Int64, validUntil: Int64, network: NetworkParameters, relays: [SignedDocument],
                ratings: [RelayRating]? = nil) throws {
        guard roster.keys.contains(identity.publicKey) else { throw Refusal.invalid("this member is not in the roster") }
        self.serial = serial
        self.roster = roster
        self.identity = identity
        self.previous = previous
        let vote = DirectoryVote(serial: serial, previousSerial: previous?.directory.serial ?? 0,
                                 previous: previous?.document.bodyHash ?? .zero, voter: identity.publicKey,
                                 validAfter: validAfter, validUntil: validUntil, network: network, relays: relays,
                                 ratings: ratings)
        try vote.validate()
        ownVote = try vote.signed(by: identity)
        let counted = try Unverified<DirectoryVote>(ownVote).verified(roster: roster)
        votes[identity.publicKey] = (ownVote, Consensus.CountedVote(vote: counted.vote, descriptors: counted.descriptors))
    }

    /// Votes counted so far, own included.
    public var voteCount: Int { votes.count }

    /// Takes a member's vote. `known`: descriptors verified before, by body hash.
    public mutating func receiveVote(_ document: SignedDocument, known: [Bytes32: RelayDescriptor] = [:]) throws(Refusal) -> Outcome {
        let vote: DirectoryVote, descriptors: [RelayDescriptor]
        do {
            (vote, descriptors) = try Unverified<DirectoryVote>(document).verified(roster: roster, known: known)
        } catch {
            throw .invalid("\(error)")
        }
        guard vote.serial == serial else { throw .otherRound(vote.serial) }
        if let held = votes[vote.voter] {
            guard held.document.body != document.body else { return .duplicate }
            record(EquivocationProof(kind: .vote, member: vote.voter, serial: serial, first: held.document, second: document))
            return .equivocation
        }
        guard !votingClosed else { throw .late }
        guard vote.previousSerial == (previous?.directory.serial ?? 0), vote.previous == (previous?.document.bodyHash ?? .zero) else {
            throw .otherPredecessor(serial: vote.previousSerial)
        }
        votes[vote.voter] = (document, Consensus.CountedVote(vote: vote, descriptors: descriptors))
        return .counted
    }

    /// The vote deadline: computes the consensus from the votes held and signs it, once.
    /// Returns this member's share to send to the others; nil when fewer than
    /// `roster.threshold` votes came (no directory this round) or when called again.
    public mutating func closeVoting() -> SignedDocument? {
        guard !votingClosed else { return nil }
        votingClosed = true
        // Sorted by voter: the consensus does not depend on arrival order.
        let counted = votes.sorted { $0.key.rawValue.bytes.lexicographicallyPrecedes($1.key.rawValue.bytes) }.map(\.value.counted)
        guard let directory = try? Consensus.directory(from: counted, roster: roster, previous: previous) else { return nil }
        var document = directory.unsignedDocument()
        document.sign(with: identity)
        consensus = (document, directory)
        let share = DirectorySignatureShare.share(of: document, serial: serial, by: identity)
        shares[identity.publicKey] = (share, DirectorySignatureShare(serial: serial, bodyHash: document.bodyHash,
                                                                    signer: identity.publicKey, signature: document.signatures[0].sig))
        for (_, held) in shares where held.share.signer != identity.publicKey { apply(held.share) }
        return share
    }

    /// Takes a member's signature share.
    public mutating func receiveShare(_ document: SignedDocument) throws(Refusal) -> Outcome {
        let share: DirectorySignatureShare
        do { share = try Unverified<DirectorySignatureShare>(document).verified(roster: roster) } catch { throw .invalid("\(error)") }
        guard share.serial == serial else { throw .otherRound(share.serial) }
        if let held = shares[share.signer] {
            guard held.share.bodyHash != share.bodyHash else { return .duplicate }
            record(EquivocationProof(kind: .signature, member: share.signer, serial: serial, first: held.document, second: document))
            return .equivocation
        }
        shares[share.signer] = (document, share)
        guard consensus != nil else { return .held }
        return apply(share) ? .counted : .disagrees
    }

    /// The directory, once at least `roster.threshold` members signed this member's consensus.
    public var published: SignedDocument? {
        guard let consensus, consensus.document.validSigners(among: roster.keys).count >= roster.threshold else { return nil }
        return consensus.document
    }

    /// Adds a share's signature to the consensus when it is for the same body and verifies.
    @discardableResult
    private mutating func apply(_ share: DirectorySignatureShare) -> Bool {
        guard var document = consensus?.document, share.bodyHash == document.bodyHash,
              (try? share.signer.verify(share.signature, for: document.signedBytes)) != nil
        else {
            disagreeing.insert(share.signer)
            return false
        }
        guard !document.signatures.contains(where: { $0.key == share.signer }) else { return true }
        document.signatures.append(SignedDocument.Entry(key: share.signer, sig: share.signature))
        consensus?.document = document
        return true
    }

    private mutating func record(_ proof: EquivocationProof) {
        guard !equivocations.contains(where: { $0.member == proof.member && $0.kind == proof.kind }) else { return }
        equivocations.append(proof)
    }
}
