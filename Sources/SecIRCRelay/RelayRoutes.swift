import Foundation
internal import SecIRCConfig
import SecIRCCore
internal import SecIRCCrypto
public import SecIRCHTTP
public import SecIRCNode
internal import SecIRCTransport

/// The relay's HTTP API (openapi/relay.yaml). Handlers run on libmicrohttpd's threads: reads
/// come from the published ``RelayState`` and metrics; what changes the relay (uploads, peers,
/// key rotation) is a command to the relay's engine, answered within one turn of its loop.
public struct RelayRoutes: Sendable {
    public let state: RelayState
    public let metrics: RelayMetrics
    public let settings: RelaySettings
    public let adminToken: HTTPBearerToken
    public let logLevel: LogLevelControl
    /// Hands a command to the relay's engine and returns its reply (nil when the relay stopped).
    public let perform: @Sendable (RelayEngine.Command) -> RelayEngine.Reply?
    public let clock: any NodeClock
    /// Called after `POST /v1/admin/drain` (the relay stops once drained).
    public let drain: @Sendable () -> Void
    /// The per-source rate of `POST /v1/descriptors`.
    public let uploads: UploadLimiter

    public init(state: RelayState, metrics: RelayMetrics, settings: RelaySettings, adminToken: HTTPBearerToken,
                logLevel: LogLevelControl, perform: @escaping @Sendable (RelayEngine.Command) -> RelayEngine.Reply?,
                clock: any NodeClock, drain: @escaping @Sendable () -> Void, uploads: UploadLimiter? = nil) {
        self.state = state
        self.metrics = metrics
        self.settings = settings
        self.adminToken = adminToken
        self.logLevel = logLevel
        self.perform = perform
        self.clock = clock
        self.drain = drain
        let admission = settings.security.admission
        self.uploads = uploads ?? UploadLimiter(perMinute: admission.uploadsPerMinute, burst: admission.uploadBurst)
    }

    /// Every route, on a fresh router.
    public func router() -> HTTPRouter {
        let router = HTTPRouter()
        let admin = HTTPAuth.bearer(adminToken)
        router.get("/healthz") { _ in .json(["status": "ok"]) }
        router.get("/readyz") { _ in readyz() }
        router.get("/v1/directory") { request in directory(request) }
        router.get("/v1/relays") { request in try relays(request) }
        router.get("/v1/relay") { _ in try ownDescriptor() }
        router.post("/v1/descriptors") { request in try upload(request) }
        router.post("/v1/ring/votes") { request in try ringDocument(request, vote: true) }
        router.post("/v1/ring/shares") { request in try ringDocument(request, vote: false) }
        router.get("/v1/ring/status") { _ in try ringStatus() }
        addGovernanceRoutes(to: router, admin: admin)
        router.get("/metrics") { _ in .text(metrics.render(), contentType: "text/plain; version=0.0.4; charset=utf-8") }
        router.get("/v1/admin/status", auth: admin) { _ in status() }
        router.get("/v1/admin/peers", auth: admin) { _ in peers() }
        router.post("/v1/admin/peers", auth: admin) { request in try addPeer(request) }
        router.delete("/v1/admin/peers/:id", auth: admin) { request in try removePeer(request) }
        router.post("/v1/admin/keys/rotate", auth: admin) { _ in
            guard perform(.rotateKeys) != nil else { throw HTTPError.unavailable("the relay is stopping") }
            return .json(["status": "rotating"], status: 202)
        }
        router.post("/v1/admin/drain", auth: admin) { _ in
            drain()
            return .json(["status": "draining"], status: 202)
        }
        router.get("/v1/admin/log-level", auth: admin) { _ in .json(["level": logLevel.level.rawValue]) }
        router.put("/v1/admin/log-level", auth: admin) { request in try setLogLevel(request) }
        router.get("/v1/admin/config", auth: admin) { _ in .json(RedactedConfig(settings)) }
        router.get("/v1/admin/admission", auth: admin) { _ in try admission(.readAdmission) }
        router.post("/v1/admin/admission/allow", auth: admin) { request in try changeAdmission(.allow, request) }
        router.delete("/v1/admin/admission/allow/:id", auth: admin) { request in try changeAdmission(.disallow, request) }
        router.post("/v1/admin/admission/ban", auth: admin) { request in try changeAdmission(.ban, request) }
        router.delete("/v1/admin/admission/ban/:id", auth: admin) { request in try changeAdmission(.unban, request) }
        return router
    }

    // MARK: Public routes

    private func readyz() -> HTTPResponse {
        let (ready, reason) = state.readiness(now: clock.now())
        if ready { return .json(["status": "ready"]) }
        return .error(HTTPError(503, "not_ready", reason))
    }

    private func directory(_ request: HTTPRequest) -> HTTPResponse {
        guard let served = state.directory else { return .error(HTTPError(503, "no_directory", "no directory yet")) }
        // The query is checked first: a malformed `since` is 400 whatever the ETag says.
        var since: UInt64?
        if let text = request.query["since"] {
            guard let value = UInt64(text), String(value) == text else {
                return .error(HTTPError(400, "invalid_parameter", "since must be a directory serial (a whole number)"))
            }
            since = value
        }
        if let match = request.header("If-None-Match"), match.split(separator: ",").contains(where: {
            let tag = $0.trimmingCharacters(in: .whitespaces)
            return tag == served.etag || tag == "*"
        }) {
            return HTTPResponse(status: 304, headers: served.headers)
        }
        if let since {
            // A diff when the directory with that serial is still kept, else the full one.
            if let diff = state.diff(since: since) {
                return HTTPResponse(status: 200, headers: [("Content-Type", DirectoryTracker.diffContentType)] + served.headers, body: diff)
            }
        }
        return .jsonBytes(served.json, headers: served.headers)
    }

    struct RelaySummary: Encodable {
        var id: String
        var udp: String
        var http: String
        var flags: [String]
        var weight: Int
        var capacity: Int
        var onionKeys: [RelayDescriptor.OnionKeyEntry]
        var published: Int64
        enum CodingKeys: String, CodingKey {
            case id, udp, http, flags, weight, capacity, published
            case onionKeys = "onion_keys"
        }
    }

    /// `GET /v1/relay`'s `directory_source`: the channel that brought the directory served, and
    /// when it was installed (Unix seconds).
    struct DirectorySource: Encodable {
        var channel: String
        var installedAt: Int64?
        enum CodingKeys: String, CodingKey {
            case channel
            case installedAt = "installed_at"
        }
    }

    private func relays(_ request: HTTPRequest) throws(HTTPError) -> HTTPResponse {
        guard let served = state.directory else { return .error(HTTPError(503, "no_directory", "no directory yet")) }
        var limit = RelayDirectory.maximumRelays
        if let text = request.query["limit"] {
            guard let value = Int(text), (1...RelayDirectory.maximumRelays).contains(value) else {
                throw HTTPError(400, "invalid_parameter", "limit must be a whole number from 1 to \(RelayDirectory.maximumRelays)")
            }
            limit = value
        }
        let flag = request.query["flag"]
        // Counted in Unicode scalars, as the spec's maxLength counts.
        if let flag, !(1...32).contains(flag.unicodeScalars.count) {
            throw HTTPError(400, "invalid_parameter", "flag must be 1 to 32 characters")
        }
        // Flags and weight as the first ring granted them (docs/PROTOCOL.md §3.4), not as claimed.
        let rated = served.descriptors.enumerated().map { ($1, served.directory.rating(at: $0, of: $1)) }
        let list = rated.filter { flag == nil || $0.1.has(flag!) }.prefix(limit).map { descriptor, rating in
            RelaySummary(id: descriptor.id.hex, udp: descriptor.udp, http: descriptor.http, flags: rating.flags, weight: rating.weight,
                         capacity: descriptor.capacity, onionKeys: descriptor.onionKeys, published: descriptor.published)
        }
        return .json(["serial": AnyEncodable(served.directory.serial), "relays": AnyEncodable(Array(list))])
    }

    private func ownDescriptor() throws(HTTPError) -> HTTPResponse {
        guard let descriptor = state.descriptor else { throw HTTPError(503, "not_ready", "descriptor not signed yet") }
        let identityKey = (try? Unverified<RelayDescriptor>(descriptor).verified())?.identityKey.rawValue.hex
        return .json([
            "id": AnyEncodable(state.relayID.hex),
            "identity_key": AnyEncodable(identityKey),
            "descriptor": AnyEncodable(descriptor),
            "tls_fingerprint": AnyEncodable(state.tlsFingerprint),
            "tls_spki_pin": AnyEncodable(state.tlsPin),
            "first_ring": AnyEncodable(state.isAuthority),
            "directory_source": AnyEncodable(state.directory.map {
                DirectorySource(channel: $0.channel.rawValue, installedAt: $0.installedAt?.seconds)
            }),
        ])
    }

    /// `POST /v1/descriptors`: the source's rate first (before any signature is checked), then
    /// the engine's admission. Every answer is counted by result (`secirc_relay_uploads_total`).
    private func upload(_ request: HTTPRequest) throws(HTTPError) -> HTTPResponse {
        if let wait = uploads.take(request.peer, now: clock.now()) {
            metrics.countUpload(.rateLimited)
            return Self.tooManyRequests("rate_limited", "too many uploads from this address; try again later", after: wait)
        }
        let document: SignedDocument
        do { document = try request.decodeJSON(SignedDocument.self) } catch {
            metrics.countUpload(.invalid)
            throw error
        }
        let reply = perform(.acceptDescriptor(document))
        if let result = RelayMetrics.UploadResult(reply) { metrics.countUpload(result) }
        switch reply {
        case let .accepted(id, change)?:
            return .json(["id": id.hex, "status": change == .challenged ? "challenged" : "updated"], status: 202)
        case .notFirstRing?:
            throw HTTPError(409, "not_first_ring", "this relay does not sign the directory; upload to a first-ring member")
        case let .refused(error)?:
            switch error {
            case .busy: return Self.tooManyRequests("too_many_challenges", error.description, after: .seconds(5))
            case let .newRelayLimit(wait): return Self.tooManyRequests("too_many_new_relays", error.description, after: wait)
            case .banned: throw HTTPError(403, "banned", error.description)
            case .notAllowed: throw HTTPError(403, "not_allowed", error.description)
            case .addressLimit: throw HTTPError(409, "address_limit", error.description)
            case .directoryFull, .full: throw HTTPError(409, "directory_full", error.description)
            case .invalid, .stale: throw HTTPError(422, "invalid_descriptor", error.description)
            }
        default:
            throw HTTPError.unavailable("the relay is stopping")
        }
    }

    /// 429 `code` with `Retry-After` in whole seconds (at least 1).
    static func tooManyRequests(_ code: String, _ message: String, after wait: Duration) -> HTTPResponse {
        var response = HTTPResponse.error(HTTPError(429, code, message))
        let (seconds, attoseconds) = wait.components
        response.headers.append(("Retry-After", "\(max(1, seconds + (attoseconds > 0 ? 1 : 0)))"))
        return response
    }

    /// A first-ring member's vote or signature share: authenticated by its signature, so open
    /// to anyone (docs/PROTOCOL.md §3.4).
    private func ringDocument(_ request: HTTPRequest, vote: Bool) throws(HTTPError) -> HTTPResponse {
        let document = try request.decodeJSON(SignedDocument.self)
        let what = vote ? "vote" : "share"
        switch perform(vote ? .ringVote(document) : .ringShare(document)) {
        case let .ring(outcome)?:
            return .json(["status": RingStatusBody.name(outcome)], status: 202)
        case let .ringRefused(refusal)?:
            switch refusal {
            case .invalid: throw HTTPError(422, "invalid_\(what)", refusal.description)
            case .otherRound: throw HTTPError(409, "other_round", refusal.description)
            case .otherPredecessor: throw HTTPError(409, "other_predecessor", refusal.description)
            case .late: throw HTTPError(409, "late_vote", refusal.description)
            }
        case .notRingMember?:
            throw HTTPError(409, "not_ring_member", "this relay is not a member of a first ring of several")
        default:
            throw HTTPError.unavailable("the relay is stopping")
        }
    }

    private func ringStatus() throws(HTTPError) -> HTTPResponse {
        guard let status = state.ringStatus else {
            throw HTTPError(404, "not_ring_member", "this relay is not a member of a first ring of several")
        }
        return .json(RingStatusBody(status))
    }

    // MARK: Admin routes

    private func status() -> HTTPResponse {
        let c = metrics.snapshot
        let served = state.directory
        let (ready, reason) = state.readiness(now: clock.now())
        return .json([
            "id": AnyEncodable(state.relayID.hex),
            "ready": AnyEncodable(ready),
            "readiness": AnyEncodable(reason),
            "draining": AnyEncodable(state.isDraining),
            "first_ring": AnyEncodable(state.isAuthority),
            "directory_serial": AnyEncodable(served?.directory.serial),
            "directory_relays": AnyEncodable(served?.descriptors.count),
            "onion_epoch": AnyEncodable(c.currentEpoch),
            "onion_keys": AnyEncodable(state.onionKeys),
            "link_sessions": AnyEncodable(c.linkSessions),
            "peers": AnyEncodable(c.connectedPeers),
            "mailbox_messages": AnyEncodable(c.mailboxMessages),
            "delay_queue": AnyEncodable(c.delayQueue),
            "datagrams_received": AnyEncodable(c.datagramsReceived),
            "datagrams_sent": AnyEncodable(c.datagramsSent),
            "drops": AnyEncodable(c.totalDrops),
        ])
    }

    struct PeerBody: Codable {
        var id: String
        var udp: String
        var linkKey: String
        enum CodingKeys: String, CodingKey {
            case id, udp
            case linkKey = "link_key"
        }
    }

    private func peers() -> HTTPResponse {
        let list = (state.directory?.descriptors ?? []).filter { $0.id != state.relayID }.map {
            PeerBody(id: $0.id.hex, udp: $0.udp, linkKey: $0.linkKey.rawValue.hex)
        }
        return .json(["directory_peers": AnyEncodable(list), "connected": AnyEncodable(metrics.snapshot.connectedPeers)])
    }

    private func addPeer(_ request: HTTPRequest) throws(HTTPError) -> HTTPResponse {
        let body = try request.decodeJSON(PeerBody.self)
        guard let id = try? ID(hex: body.id) else { throw HTTPError(400, "invalid_request", "id: expected 64 hex digits") }
        guard let key = try? AgreementPublicKey(bytes: Hex.decode(body.linkKey)) else {
            throw HTTPError(400, "invalid_request", "link_key: expected 64 hex digits")
        }
        guard let address = Self.numericAddress(body.udp) else {
            throw HTTPError(400, "invalid_request", "udp: expected a numeric address and port 1-65535, e.g. 192.0.2.1:6690 or [2001:db8::1]:6690")
        }
        guard perform(.addPeer(LinkPeer(id: id, address: address, linkKey: key))) != nil else {
            throw HTTPError.unavailable("the relay is stopping")
        }
        return .json(["status": "added", "id": id.hex], status: 201)
    }

    /// `a.b.c.d:port` or `[v6]:port` with the port written plainly (no sign, no leading zero,
    /// not 0) and no IPv6 zone: never a host name, so nothing asks a resolver on an HTTP
    /// thread. openapi/relay.yaml's `Peer.udp` pattern says the same.
    static func numericAddress(_ text: String) -> SocketAddress? {
        guard let colon = text.lastIndex(of: ":"), !text.contains("%"),
              let port = UInt16(text[text.index(after: colon)...]), port > 0,
              String(port) == text[text.index(after: colon)...]
        else { return nil }
        return try? SocketAddress(numeric: text)
    }

    private func removePeer(_ request: HTTPRequest) throws(HTTPError) -> HTTPResponse {
        guard let text = request.pathParameters["id"], let id = try? ID(hex: text) else {
            throw HTTPError(400, "invalid_request", "id: expected 64 hex digits")
        }
        guard perform(.removePeer(id)) != nil else { throw HTTPError.unavailable("the relay is stopping") }
        return .noContent
    }

    enum AdmissionAction { case allow, disallow, ban, unban }

    struct RelayIDBody: Codable { var id: String }

    /// `/v1/admin/admission...`: the allow and ban lists, read or changed (a first ring only).
    private func changeAdmission(_ action: AdmissionAction, _ request: HTTPRequest) throws(HTTPError) -> HTTPResponse {
        let text: String?
        switch action {
        case .allow, .ban: text = try request.decodeJSON(RelayIDBody.self).id
        case .disallow, .unban: text = request.pathParameters["id"]
        }
        guard let text, let id = try? ID(hex: text) else { throw HTTPError(400, "invalid_request", "id: expected 64 hex digits") }
        let change: AdmissionLists.Change = switch action {
        case .allow: .allow(id)
        case .disallow: .disallow(id)
        case .ban: .ban(id)
        case .unban: .unban(id)
        }
        return try admission(.changeAdmission(change))
    }

    private func admission(_ command: RelayEngine.Command) throws(HTTPError) -> HTTPResponse {
        switch perform(command) {
        case let .admission(lists, policy)?:
            return .json(AdmissionBody(lists: lists, policy: policy))
        case .admissionListFull?:
            throw HTTPError(409, "list_full", "the list holds \(AdmissionLists.maximumEntries) relays, the most it may")
        case .notFirstRing?:
            throw HTTPError(409, "not_first_ring", "this relay does not sign the directory; admission is a first-ring member's")
        default:
            throw HTTPError.unavailable("the relay is stopping")
        }
    }

    private func setLogLevel(_ request: HTTPRequest) throws(HTTPError) -> HTTPResponse {
        struct Body: Codable { var level: String }
        let body = try request.decodeJSON(Body.self)
        guard let level = LogLevel(rawValue: body.level) else {
            let words = LogLevel.allCases.map(\.rawValue).joined(separator: ", ")
            throw HTTPError(400, "invalid_request", "level: one of \(words)")
        }
        logLevel.level = level
        return .json(["level": level.rawValue])
    }
}

/// Encodes any Encodable value (for small heterogeneous JSON objects).
struct AnyEncodable: Encodable {
    private let encodeValue: (any Encoder) throws -> Void
    init<T: Encodable>(_ value: T) { encodeValue = value.encode }
    func encode(to encoder: any Encoder) throws { try encodeValue(encoder) }
}

/// `GET /v1/admin/admission` (openapi/relay.yaml `Admission`).
struct AdmissionBody: Encodable {
    var mode: String
    var maxRelaysPerAddress: Int
    var maxRelaysPerPrefix: Int
    var newRelaysPerPeriod: Int
    var probationHours: Int64
    var recheckMinutes: Int64
    var maxCapacity: Int
    var allowed: [String]
    var banned: [String]

    init(lists: AdmissionLists, policy: AdmissionPolicy) {
        mode = policy.mode.rawValue
        maxRelaysPerAddress = policy.maxRelaysPerAddress
        maxRelaysPerPrefix = policy.maxRelaysPerPrefix
        newRelaysPerPeriod = policy.newRelaysPerPeriod
        probationHours = policy.probation.components.seconds / 3_600
        recheckMinutes = policy.recheckInterval.components.seconds / 60
        maxCapacity = policy.maximumCapacity
        allowed = lists.allowed.sorted().map(\.hex)
        banned = lists.banned.sorted().map(\.hex)
    }

    enum CodingKeys: String, CodingKey {
        case mode, allowed, banned
        case maxRelaysPerAddress = "max_relays_per_address"
        case maxRelaysPerPrefix = "max_relays_per_prefix"
        case newRelaysPerPeriod = "new_relays_per_period"
        case probationHours = "probation_hours"
        case recheckMinutes = "recheck_minutes"
        case maxCapacity = "max_capacity"
    }
}

/// `GET /v1/ring/status` (openapi/relay.yaml `RingStatus`).
struct RingStatusBody: Encodable {
    var round: UInt64
    var votes: Int
    var votingClosed: Bool
    var lastPublished: UInt64
    var roundsPublished: Int
    var roundsFailed: Int
    var votesRefused: Int
    var sharesRefused: Int
    var disagreements: Int
    var equivocationCount: Int
    var equivocations: [EquivocationProof]

    init(_ s: RingStatus) {
        round = s.round
        votes = s.votes
        votingClosed = s.votingClosed
        lastPublished = s.lastPublished
        roundsPublished = s.roundsPublished
        roundsFailed = s.roundsFailed
        votesRefused = s.votesRefused
        sharesRefused = s.sharesRefused
        disagreements = s.disagreements
        equivocationCount = s.equivocationCount
        equivocations = s.equivocations
    }

    enum CodingKeys: String, CodingKey {
        case round, votes, disagreements, equivocations
        case votingClosed = "voting_closed"
        case lastPublished = "last_published"
        case roundsPublished = "rounds_published"
        case roundsFailed = "rounds_failed"
        case votesRefused = "votes_refused"
        case sharesRefused = "shares_refused"
        case equivocationCount = "equivocation_count"
    }

    /// The word a taken vote or share is answered with.
    static func name(_ outcome: RingRound.Outcome) -> String {
        switch outcome {
        case .counted: "counted"
        case .duplicate: "duplicate"
        case .equivocation: "equivocation"
        case .disagrees: "disagrees"
        case .held: "held"
        }
    }
}
