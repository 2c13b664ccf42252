import SecIRCAPI
import SecIRCCore
import SecIRCCrypto
import SecIRCHTTP
import SecIRCNode
import SecIRCTransport

/// The fixed keys and states every target runs against, made once from fixed seeds, so that an
/// input means the same thing in every run and the seed corpus (``SeedCorpus``) can hold real
/// encodings for them: a Sphinx packet built for this relay's onion key, a sealed body for this
/// recipient, a ratchet message for this session.
enum FuzzFixture {
    /// The one clock reading of every run.
    static let now = UnixTime(seconds: 1_800_000_000)

    static func seeded(_ seed: String) -> SeededRandom { SeededRandom(seed: "secirc-fuzz \(seed)") }

    // MARK: Relay

    /// A first-ring relay alone, started: what a datagram from the network reaches.
    static let relayAddress = try! SocketAddress(host: "10.0.0.1", port: 6690)
    /// Where the fuzzed datagrams come from.
    static let peerAddress = try! SocketAddress(host: "10.0.0.2", port: 5000)

    static let relay: (engine: RelayEngine, events: [RelayEngine.Event]) = {
        var rng = seeded("relay")
        let identity = SigningPrivateKey(using: &rng)
        let http = "http://10.0.0.1:6691"
        let roster = Roster(members: [Roster.Member(identityKey: identity.publicKey, udp: "\(relayAddress)", http: http)])
        var configuration = RelayEngine.Configuration(
            identity: identity, linkKey: AgreementPrivateKey(using: &rng), roster: roster,
            network: NetworkParameters(coverRate: 1, meanDelayMs: 10), directoryPeriod: .seconds(60),
            advertisedUDP: "\(relayAddress)", advertisedHTTP: http,
            mailbox: MailboxStore.Limits(ttl: .seconds(60), maxMessagesPerQueue: 10, maxMailboxes: 10, maxTotalBytes: 1 << 20),
            keyPeriod: .seconds(3_600), keyGrace: .seconds(60))
        // Each run copies the engine; a small replay filter keeps the copy of a peel cheap.
        configuration.replayCapacity = 1024
        var engine = RelayEngine(configuration: configuration, now: now, rng: &rng)
        var effects = NodeEffects<RelayEngine.Event>()
        engine.start(now: now, rng: &rng, effects: &effects)
        return (engine, effects.events)
    }()

    /// The first directory the fixture relay signed (with its ratings): the base diffs apply to.
    static let signedDirectory: (document: SignedDocument, directory: RelayDirectory)? = {
        for case let .saveDirectory(document) in relay.events {
            if let directory = try? Unverified<RelayDirectory>(document).verifiedAtAnyTime(trusting: roster).directory {
                return (document, directory)
            }
        }
        return nil
    }()

    /// The relay's link peer entry, for a client link manager.
    static var relayPeer: LinkPeer {
        LinkPeer(id: relay.engine.relayID, address: relayAddress, linkKey: relay.engine.configuration.linkKey.publicKey)
    }

    /// The roster that signs directories here (the relay above alone).
    static var roster: Roster { relay.engine.configuration.roster }
    static var rosterKey: SigningPrivateKey { relay.engine.configuration.identity }

    /// A first ring of three (threshold two), and member 0's round 1,000 holding its own vote.
    static let ringMembers: [SigningPrivateKey] = { var r = seeded("ring"); return (0..<3).map { _ in SigningPrivateKey(using: &r) } }()
    static var ringRoster: Roster {
        Roster(members: ringMembers.enumerated().map { i, key in
            Roster.Member(identityKey: key.publicKey, udp: "10.0.1.\(i + 1):6690", http: "http://10.0.1.\(i + 1):6691")
        })
    }
    static let ringRound: RingRound = ringRound(member: 0)
    static func ringRound(member: Int, coverRate: Double = 2) -> RingRound {
        try! RingRound(serial: 1_000, roster: ringRoster, identity: ringMembers[member], previous: nil, validAfter: 1_000_000,
                       validUntil: 1_086_400, network: NetworkParameters(coverRate: coverRate, meanDelayMs: 50),
                       relays: relay.events.compactMap { if case let .descriptorSigned(document) = $0 { document } else { nil } }.prefix(1).map { $0 })
    }

    // MARK: Sphinx

    static let onionKey = OnionKey(epoch: 7, privateKey: { var r = seeded("onion"); return AgreementPrivateKey(using: &r) }())

    /// A processor holding ``onionKey``, with a small replay filter (each run copies it).
    static let sphinx: SphinxProcessor = {
        var processor = SphinxProcessor(replayCapacity: 64)
        processor.install(onionKey)
        return processor
    }()

    // MARK: End to end

    /// Bob: the recipient of sealed packets and session set-ups.
    static let bob: (identity: SessionSetup.Identity, prekeys: SessionSetup.Prekeys) = {
        var rng = seeded("bob")
        let identity = SessionSetup.Identity(using: &rng)
        return (identity, SessionSetup.Prekeys(signedPrekeyID: 7, pqPrekeyID: 9, using: &rng))
    }()

    static let alice: SessionSetup.Identity = { var r = seeded("alice"); return SessionSetup.Identity(using: &r) }()

    static func mailboxes(_ count: Int) -> [MailboxAddress] {
        var rng = seeded("mailboxes")
        return (0..<count).map { _ in
            MailboxAddress(relayID: ID(rawValue: try! Bytes32(rng.bytes(32))), mailboxID: try! Bytes32(rng.bytes(32)))
        }
    }

    static let invite: Invite = try! SessionSetup.makeInvite(
        identity: bob.identity, prekeys: bob.prekeys, mailboxes: mailboxes(2), expiry: UInt64(now.nanoseconds / 1_000_000_000) + 86_400,
        displayNameHint: "Bob")

    static var associatedData: [UInt8] {
        SessionSetup.associatedData(initiator: alice.agreement.publicKey, responder: bob.identity.agreement.publicKey)
    }

    /// Alice's session with bob as she starts it, and her first (set-up) message.
    static func aliceSession() -> (ratchet: DoubleRatchet, initial: InitialMessage) {
        var rng = seeded("alice session")
        let (ratchet, initial) = try! SessionSetup.initiate(identity: alice, invite: invite, rng: &rng)
        return (ratchet, initial)
    }

    /// A session between alice and bob from a fixed shared secret (the set-up's ML-KEM step
    /// draws from the system RNG, so a session from `SessionSetup` would differ in every
    /// process, and committed ratchet messages would not decrypt): alice's side, and bob's
    /// before he received anything.
    static func ratchetPair() -> (alice: DoubleRatchet, bob: DoubleRatchet) {
        var rng = seeded("ratchet pair")
        let secret = try! SymmetricKey(bytes: rng.bytes(32))
        let alice = try! DoubleRatchet(initiatorWith: secret, remoteRatchetKey: bob.prekeys.signedPrekey.publicKey, rng: &rng)
        return (alice, DoubleRatchet(responderWith: secret, ratchetKeyPair: bob.prekeys.signedPrekey))
    }

    /// Alice's first message of ``ratchetPair()``: `[1, 2, 3]`.
    static func firstRatchetMessage(from alice: inout DoubleRatchet) -> RatchetMessage {
        var rng = seeded("alice first message")
        return try! alice.encrypt([1, 2, 3], associatedData: associatedData, rng: &rng)
    }

    /// Bob's side of ``ratchetPair()`` after he took alice's first message: what later ratchet
    /// messages of the session (the seeds) are decrypted with.
    static let bobRatchet: DoubleRatchet = {
        var (alice, bobSide) = ratchetPair()
        _ = try! bobSide.decrypt(firstRatchetMessage(from: &alice), associatedData: associatedData)
        return bobSide
    }()

    // MARK: HTTP

    /// A group of alice (admin) and bob, created by a fixed group key.
    static let groupRoster: GroupRoster = {
        var r = seeded("group")
        let groupKey = SigningPrivateKey(using: &r)
        return try! GroupRoster.create(groupKey: groupKey, name: "fuzz",
                                       creator: GroupIdentity(signing: alice.signing.publicKey, agreement: alice.agreement.publicKey),
                                       others: [GroupIdentity(signing: bob.identity.signing.publicKey,
                                                              agreement: bob.identity.agreement.publicKey)]).1
    }()

    /// The group's epoch 0.
    static let groupEpoch: GroupEpoch = { var r = seeded("group epoch"); return GroupEpoch(number: 0, using: &r) }()

    /// bob's session in that group, joined from an invitation.
    static let groupSession: GroupSession = {
        var r = seeded("group session")
        return GroupSession.join(GroupInvitation(roster: groupRoster, epoch: groupEpoch), identity: bob.identity, now: now, rng: &r)!.0
    }()

    /// alice's sender chain in that group, after three messages.
    static let groupChain: SenderKeyChain = {
        var r = seeded("group chain")
        var chain = SenderKeyChain(groupID: groupRoster.groupID.rawValue, using: &r)
        for _ in 0..<3 { _ = try! chain.encrypt([]) }
        return chain
    }()

    static let apiToken = HTTPBearerToken(SecureBytes(Array("secirc-fuzz-api-token-0123456789abcdef".utf8)))

    /// A router with the route shapes of both daemons (literal, one and two parameters, admin
    /// routes behind a bearer token); each handler decodes the body its route takes.
    static let router: HTTPRouter = {
        let router = HTTPRouter()
        let auth = HTTPAuth.bearer(apiToken)
        let ok: HTTPHandler = { _ in HTTPResponse(status: 200) }
        @Sendable func parameter(_ request: HTTPRequest) throws -> HTTPResponse {
            guard let id = request.pathParameters["id"], !id.isEmpty else { throw HTTPError.notFound("no id") }
            return HTTPResponse(status: 200, body: Array(id.utf8))
        }
        router.get("/healthz", ok)
        router.get("/v1/directory", ok)
        router.post("/v1/descriptors") { request in _ = try request.decodeJSON(SignedDocument.self); return HTTPResponse(status: 202) }
        router.delete("/v1/admin/peers/:id", auth: auth) { try parameter($0) }
        router.get("/v1/contacts", auth: auth, ok)
        router.post("/v1/contacts", auth: auth) { request in
            _ = try request.decodeJSON(AddContactRequest.self)
            return HTTPResponse(status: 201)
        }
        router.get("/v1/contacts/:id", auth: auth) { try parameter($0) }
        router.put("/v1/contacts/:id", auth: auth) { request in
            _ = try request.decodeJSON(RenameContactRequest.self)
            return try parameter(request)
        }
        router.post("/v1/contacts/:id/queues/rotate", auth: auth) { try parameter($0) }
        router.get("/v1/conversations/:id/messages", auth: auth) { try parameter($0) }
        router.post("/v1/conversations/:id/messages", auth: auth) { request in
            _ = try request.decodeJSON(SendTextRequest.self)
            return try parameter(request)
        }
        return router
    }()
}
