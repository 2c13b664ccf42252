public import SecIRCCore
public import SecIRCCrypto

/// A first-ring member's governance (docs/PROTOCOL.md §3.5): the roster changes proposed for
/// the next epoch, each gathering its members' signatures until the threshold of the roster
/// in force signed it. Members send every proposal they hold, with the signatures they have,
/// to the others (`POST /v1/ring/proposals`); signatures merge. Pure.
///
/// A member signs at most one proposal per epoch (an operator approving a second one is
/// refused): with a majority threshold, two rival changes for one epoch can then never both
/// come into force unless members sign twice. What it holds is bounded: ``maximumPending``.
public struct RosterProposals: Sendable {
    public struct Pending: Sendable, Equatable {
        /// The change with every verified signature of a current member gathered so far.
        public var document: SignedDocument
        public var change: RosterChange
        public var signers: Set<SigningPublicKey>
        /// Signatures it needs: the threshold of the roster in force.
        public var needed: Int
        public var id: Bytes32 { document.bodyHash }
    }

    public private(set) var pending: [Bytes32: Pending] = [:]
    /// What this member signed, and for which epoch: it signs nothing else for that epoch.
    public private(set) var signed: (epoch: UInt64, id: Bytes32)?

    public static let maximumPending = 16

    public init(signed: (epoch: UInt64, id: Bytes32)? = nil) {
        self.signed = signed
    }

    public enum Refusal: Error, Sendable, Equatable, CustomStringConvertible {
        /// Not a valid proposal continuing the roster in force (the text says why).
        case invalid(String)
        /// This member signed another proposal for the epoch.
        case alreadySigned(epoch: UInt64, id: Bytes32)
        /// No such proposal is held.
        case unknown
        /// This relay is not a member of the roster in force.
        case notMember
        /// ``maximumPending`` proposals wait already.
        case full

        public var description: String {
            switch self {
            case let .invalid(text): text
            case let .alreadySigned(epoch, id): "this member signed proposal \(id.hex.prefix(16)) for epoch \(epoch) already"
            case .unknown: "no such proposal"
            case .notMember: "this relay is not a member of the first ring"
            case .full: "\(RosterProposals.maximumPending) proposals wait already"
            }
        }
    }

    /// What a proposal from the network did.
    public enum Outcome: Sendable, Equatable {
        /// It brought signatures not held before: forward it.
        case counted
        /// Nothing new.
        case duplicate
        /// It now carries the threshold of signatures: the change is in force.
        case inForce(SignedDocument)
    }

    /// Proposes `change` (which must continue `roster`) signed by `identity`: the document to
    /// send to the other members, and whether it is in force already (a roster whose threshold
    /// this member alone meets).
    public mutating func propose(_ change: RosterChange, roster: Roster, identity: SigningPrivateKey) throws(Refusal)
        -> (document: SignedDocument, outcome: Outcome) {
        guard roster.keys.contains(identity.publicKey) else { throw .notMember }
        var document = change.unsignedDocument()
        try checkMaySign(document.bodyHash, epoch: change.epoch)
        document.sign(with: identity)
        let outcome = try take(document, roster: roster)
        signed = (change.epoch, document.bodyHash)
        return (pending[document.bodyHash]?.document ?? document, outcome)
    }

    /// Adds this member's signature to the proposal `id`.
    public mutating func approve(_ id: Bytes32, roster: Roster, identity: SigningPrivateKey) throws(Refusal)
        -> (document: SignedDocument, outcome: Outcome) {
        guard roster.keys.contains(identity.publicKey) else { throw .notMember }
        guard var document = pending[id]?.document else { throw .unknown }
        try checkMaySign(id, epoch: pending[id]!.change.epoch)
        document.sign(with: identity)
        let outcome = try take(document, roster: roster)
        signed = (pending[id]!.change.epoch, id)
        return (pending[id]!.document, outcome)
    }

    /// Takes a proposal from another member: its valid signatures join those held.
    public mutating func receive(_ document: SignedDocument, roster: Roster) throws(Refusal) -> Outcome {
        try take(document, roster: roster)
    }

    /// The roster in force is now `roster`: proposals for other epochs go.
    public mutating func rosterChanged(to roster: Roster) {
        pending = pending.filter { $0.value.change.epoch == roster.epoch + 1 && $0.value.change.previous == roster.hash }
    }

    private func checkMaySign(_ id: Bytes32, epoch: UInt64) throws(Refusal) {
        if let signed, signed.epoch == epoch, signed.id != id { throw .alreadySigned(epoch: epoch, id: signed.id) }
    }

    private mutating func take(_ document: SignedDocument, roster: Roster) throws(Refusal) -> Outcome {
        let change: RosterChange, signatures: [SignedDocument.Entry]
        do {
            (change, signatures) = try Unverified<RosterChange>(document).proposal(continuing: roster)
        } catch {
            throw .invalid("\(error)")
        }
        let id = document.bodyHash
        var held = pending[id] ?? Pending(document: SignedDocument(type: document.type, body: document.body, signatures: []),
                                          change: change, signers: [], needed: roster.threshold)
        if pending[id] == nil, pending.count >= Self.maximumPending { throw .full }
        // Only verified signatures of current members are kept, one each.
        let added = signatures.filter { !held.signers.contains($0.key) }
        guard !added.isEmpty else { return held.signers.count >= roster.threshold ? .inForce(held.document) : .duplicate }
        held.document.signatures += added
        held.signers.formUnion(added.map(\.key))
        pending[id] = held
        return held.signers.count >= roster.threshold ? .inForce(held.document) : .counted
    }
}
