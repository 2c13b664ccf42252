import Foundation
import SecIRCCore
internal import SecIRCCrypto
import SecIRCHTTP
import SecIRCNode

/// Governance routes (docs/PROTOCOL.md §3.5, openapi/relay.yaml): the roster chain any relay
/// serves, proposals members exchange, and the operator's propose / list / approve.
extension RelayRoutes {
    func addGovernanceRoutes(to router: HTTPRouter, admin: HTTPAuth) {
        router.get("/v1/ring/roster") { request in try rosterChain(request) }
        router.post("/v1/ring/proposals") { request in try proposalFromMember(request) }
        router.get("/v1/admin/ring/proposals", auth: admin) { _ in governance() }
        router.post("/v1/admin/ring/proposals", auth: admin) { request in try propose(request) }
        router.post("/v1/admin/ring/proposals/:id/approve", auth: admin) { request in try approve(request) }
    }

    /// The roster in force and the changes after `since` (default 0: all of them).
    private func rosterChain(_ request: HTTPRequest) throws(HTTPError) -> HTTPResponse {
        var since: UInt64 = 0
        if let text = request.query["since"] {
            guard let value = UInt64(text), text.count <= 20 else {
                throw HTTPError(400, "invalid_request", "since: expected an epoch (a whole number ≥ 0)")
            }
            since = value
        }
        let chain = state.rosterChain
        let answer = RosterChainAnswer(epoch: chain.current.epoch, roster: chain.current, changes: Array(chain.changes(since: since)))
        return .jsonBytes(answer.jsonBytes(), headers: [("Cache-Control", "no-cache")])
    }

    /// A proposal (or a change in force) from another relay: authenticated by its signatures.
    private func proposalFromMember(_ request: HTTPRequest) throws(HTTPError) -> HTTPResponse {
        let document = try request.decodeJSON(SignedDocument.self)
        switch perform(.rosterProposal(document)) {
        case let .proposalTaken(outcome)?:
            return .json(["status": ProposalBody.name(outcome)], status: 202)
        case let .proposalRefused(refusal)?:
            throw Self.error(refusal)
        default:
            throw HTTPError.unavailable("the relay is stopping")
        }
    }

    private func governance() -> HTTPResponse {
        guard let status = state.governance else {
            return .json(GovernanceBody(roster: state.trustedRoster, network: nil, member: state.isAuthority, signed: nil, proposals: []))
        }
        return .json(GovernanceBody(status))
    }

    private func propose(_ request: HTTPRequest) throws(HTTPError) -> HTTPResponse {
        let body = try request.decodeJSON(ProposalRequestBody.self)
        let proposal = try body.request()
        return try signed(perform(.proposeRosterChange(proposal)))
    }

    private func approve(_ request: HTTPRequest) throws(HTTPError) -> HTTPResponse {
        guard let id = request.pathParameters["id"].flatMap({ try? Bytes32(hex: $0) }) else {
            throw HTTPError(400, "invalid_request", "id: expected 64 hex digits (a proposal's id)")
        }
        return try signed(perform(.approveRosterChange(id)))
    }

    private func signed(_ reply: RelayEngine.Reply?) throws(HTTPError) -> HTTPResponse {
        switch reply {
        case let .proposal(pending, inForce)?:
            let body = pending.map { ProposalBody($0) }
            return .json(["in_force": AnyEncodable(inForce), "proposal": AnyEncodable(body)], status: 201)
        case let .proposalRefused(refusal)?:
            throw Self.error(refusal)
        default:
            throw HTTPError.unavailable("the relay is stopping")
        }
    }

    static func error(_ refusal: RosterProposals.Refusal) -> HTTPError {
        switch refusal {
        case .invalid: HTTPError(422, "invalid_proposal", refusal.description)
        case .unknown: HTTPError(404, "unknown_proposal", refusal.description)
        case .alreadySigned: HTTPError(409, "already_signed", refusal.description)
        case .notMember: HTTPError(409, "not_ring_member", refusal.description)
        case .full: HTTPError(409, "too_many_proposals", refusal.description)
        }
    }
}

/// `POST /v1/admin/ring/proposals` (openapi/relay.yaml `ProposalRequest`).
struct ProposalRequestBody: Codable {
    struct Member: Codable {
        var identityKey: String
        var udp: String
        var http: String
        enum CodingKeys: String, CodingKey {
            case udp, http
            case identityKey = "identity_key"
        }
    }

    var add: [Member]?
    var remove: [String]?
    var threshold: Int?
    var network: GovernedParameters?
    var note: String?

    func request() throws(HTTPError) -> RosterChangeRequest {
        var members: [Roster.Member] = []
        for (index, member) in (add ?? []).enumerated() {
            guard let key = try? SigningPublicKey(bytes: Hex.decode(member.identityKey)) else {
                throw HTTPError(400, "invalid_request", "add[\(index)].identity_key: expected 64 hex digits")
            }
            guard RelayRoutes.numericAddress(member.udp) != nil else {
                throw HTTPError(400, "invalid_request", "add[\(index)].udp: expected a numeric address and port, e.g. 192.0.2.1:6690")
            }
            guard (try? BootstrapURL(member.http)) != nil else {
                // The schema says `^https?://`; the rest of the URL syntax (docs/PROTOCOL.md §3.7) is the proposal's.
                throw HTTPError(422, "invalid_proposal", "add[\(index)].http: not a bootstrap URL (http:// or https://, host, port, optional #spki= pin)")
            }
            members.append(Roster.Member(identityKey: key, udp: member.udp, http: member.http))
        }
        var removed: [ID] = []
        for (index, text) in (remove ?? []).enumerated() {
            guard let id = try? ID(hex: text) else { throw HTTPError(400, "invalid_request", "remove[\(index)]: expected a relay ID (64 hex digits)") }
            removed.append(id)
        }
        return RosterChangeRequest(add: members, remove: removed, threshold: threshold, network: network, note: note)
    }
}

/// A proposal as `GET /v1/admin/ring/proposals` lists it.
struct ProposalBody: Encodable {
    var id: String
    var epoch: UInt64
    var roster: Roster
    var network: GovernedParameters?
    var note: String?
    var proposedAt: Int64
    var signers: [String]
    var needed: Int
    var document: SignedDocument

    init(_ pending: RosterProposals.Pending) {
        id = pending.id.hex
        epoch = pending.change.epoch
        roster = pending.change.roster
        network = pending.change.network
        note = pending.change.note
        proposedAt = pending.change.proposedAt
        signers = pending.signers.map(\.id.hex).sorted()
        needed = pending.needed
        document = pending.document
    }

    enum CodingKeys: String, CodingKey {
        case id, epoch, roster, network, note, signers, needed, document
        case proposedAt = "proposed_at"
    }

    static func name(_ outcome: RosterProposals.Outcome) -> String {
        switch outcome {
        case .counted: "counted"
        case .duplicate: "duplicate"
        case .inForce: "in_force"
        }
    }
}

/// `GET /v1/admin/ring/proposals` (openapi/relay.yaml `Governance`).
struct GovernanceBody: Encodable {
    struct Signed: Encodable {
        var epoch: UInt64
        var id: String
    }

    var epoch: UInt64
    var roster: Roster
    var network: GovernedParameters?
    var member: Bool
    var signed: Signed?
    var proposals: [ProposalBody]

    init(roster: Roster, network: GovernedParameters?, member: Bool, signed: Signed?, proposals: [ProposalBody]) {
        epoch = roster.epoch
        self.roster = roster
        self.network = network
        self.member = member
        self.signed = signed
        self.proposals = proposals
    }

    init(_ status: GovernanceStatus) {
        self.init(roster: status.roster, network: status.network, member: status.member,
                  signed: status.signed.map { Signed(epoch: $0.epoch, id: $0.id.hex) },
                  proposals: status.proposals.map { ProposalBody($0) })
    }
}
