import SecIRCAPI
import SecIRCConfig
import SecIRCCore
import SecIRCCrypto
import SecIRCHTTP
import SecIRCNode
import SecIRCTransport

/// One fuzzed entry point: a decoder the network or an API reaches, called the way the daemons
/// call it. `run` must return for every input; a trap is a bug in the decoder (or a broken
/// round trip, checked with `precondition` where the decoder promises one).
enum FuzzTarget: String, CaseIterable, Sendable {
    /// `LinkPacket.decode` and `receiverIndex(of:)`: every UDP datagram a relay or client takes.
    case linkPacket = "link-packet"
    /// `LinkFrame.decode`: the plaintext of a link transport packet.
    case linkFrame = "link-frame"
    /// A relay engine fed up to 8 datagrams (each `u16 length | bytes`) from one address:
    /// handshakes, cookies, transport packets, the relay's frame handling.
    case relayDatagrams = "relay-datagrams"
    /// `SphinxProcessor.peel` of a packet (zero-padded or cut to the Sphinx length) against a
    /// fixed onion key.
    case sphinx
    /// `Unverified<RelayDescriptor>(json:).verified()`: a descriptor upload (`POST /v1/descriptors`).
    case descriptor
    /// A fetched directory: the envelope, then its body re-signed by the fixed roster and verified
    /// (so the body's decoding, its ratings and every descriptor in it is reached); or a
    /// directory diff, applied to the fixture relay's directory.
    case directory
    /// A first-ring member's round (`RingRound`) fed a vote (first byte 0 mod 4) or a signature
    /// share (1 mod 4): `POST /v1/ring/votes` and `/v1/ring/shares`; or governance (2 and 3 mod
    /// 4): a proposal (`RosterProposals`, `POST /v1/ring/proposals`), a change appended to a
    /// `RosterChain`, and the bytes as a `GET /v1/ring/roster` answer; each also with the body
    /// re-signed by members, to reach the checks behind the signatures.
    case ring
    /// `Invite.parse(uri:now:)`: what `POST /v1/contacts` takes.
    case invite
    /// `ContactCard.decode`, as sent and re-signed by a fixed key (to reach the field checks).
    case contactCard = "contact-card"
    /// `SealedPacket.open` with a fixed recipient key: a mailbox body.
    case sealedPacket = "sealed-packet"
    /// `Envelope.decode`, its text and receipt IDs: the plaintext of an E2E message.
    case envelope
    /// `SessionMessage.decode`, then what a client does with it: the set-up's answer with bob's
    /// prekeys and the ratchet decryption.
    case sessionMessage = "session-message"
    /// `InitialMessage.decode` and the responder's set-up.
    case initialMessage = "initial-message"
    /// `RatchetMessage.decode` (its `RatchetHeader`) and decryption by an established session.
    case ratchetMessage = "ratchet-message"
    /// `HTTPRequest.decodeJSON` (jansson strictness, `JSONDecoder`, unknown fields) for the API bodies.
    case strictJSON = "strict-json"
    /// `HTTPRouter.handle`: method byte, then `path\nbody`, with or without the bearer token.
    case httpRoute = "http-route"
    /// The YAML config loaders: first byte picks server / client / security, the rest is the file.
    case config
    /// `DNSTXTAnswer.decode`: a DNS answer for the bootstrap TXT lookup.
    case dnsTXT = "dns-txt"
    /// Addresses from config, directories and the admin API: `SocketAddress(numeric:)`, `HostPort`,
    /// `BootstrapURL`, Base64URL, mailbox address lists.
    case addresses
    /// What the `secirc` command line reads from a daemon: `HTTPResponseParser` fed in pieces
    /// (first byte: the piece size), the body through `ServerSentEventParser`.
    case apiResponse = "api-response"
    /// Group formats: sender-key messages and distributions, roster updates and snapshots,
    /// group posts (see ``group(_:)``).
    case group

    /// The target named by `SECIRC_FUZZ_TARGET` (a fuzzing process runs one).
    static func named(_ name: String) -> FuzzTarget? { FuzzTarget(rawValue: name) }

    func run(_ input: [UInt8]) {
        switch self {
        case .linkPacket: Self.linkPacket(input)
        case .linkFrame: Self.linkFrame(input)
        case .relayDatagrams: Self.relayDatagrams(input)
        case .sphinx: Self.sphinx(input)
        case .descriptor: Self.descriptor(input)
        case .directory: Self.directory(input)
        case .ring: Self.ring(input)
        case .invite: Self.invite(input)
        case .contactCard: Self.contactCard(input)
        case .sealedPacket: Self.sealedPacket(input)
        case .envelope: Self.envelope(input)
        case .sessionMessage: Self.sessionMessage(input)
        case .initialMessage: Self.initialMessage(input)
        case .ratchetMessage: Self.ratchetMessage(input)
        case .strictJSON: Self.strictJSON(input)
        case .httpRoute: Self.httpRoute(input)
        case .config: Self.config(input)
        case .dnsTXT: Self.dnsTXT(input)
        case .addresses: Self.addresses(input)
        case .apiResponse: Self.apiResponse(input)
        case .group: Self.group(input)
        }
    }

    // MARK: Link and relay

    static func linkPacket(_ input: [UInt8]) {
        _ = try? LinkPacket.decode(input)
        _ = LinkPacket.receiverIndex(of: input)
    }

    static func linkFrame(_ input: [UInt8]) {
        guard let frame = try? LinkFrame.decode(input) else { return }
        let again = frame.encoded()
        precondition(again.count == input.count, "a decoded frame encodes to another length")
        precondition((try? LinkFrame.decode(again)) == frame, "a decoded frame does not survive its own encoding")
    }

    /// Splits `u16 length | bytes` records (a short last record takes what is left).
    static func records(_ input: [UInt8], limit: Int) -> [[UInt8]] {
        var out: [[UInt8]] = []
        var i = 0
        while i + 2 <= input.count, out.count < limit {
            let length = Int(input[i]) << 8 | Int(input[i + 1])
            let end = min(i + 2 + length, input.count)
            out.append(Array(input[(i + 2)..<end]))
            i = end
        }
        return out
    }

    static func relayDatagrams(_ input: [UInt8]) {
        var engine = FuzzFixture.relay.engine
        var rng = FuzzFixture.seeded("relay datagrams")
        var effects = NodeEffects<RelayEngine.Event>()
        for datagram in records(input, limit: 8) {
            engine.receive(datagram, from: FuzzFixture.peerAddress, now: FuzzFixture.now, rng: &rng, effects: &effects)
        }
        engine.tick(now: FuzzFixture.now.adding(.seconds(1)), rng: &rng, effects: &effects)
    }

    static func sphinx(_ input: [UInt8]) {
        var processor = FuzzFixture.sphinx
        let length = processor.geometry.sphinxPacketLength
        var packet = input.count >= length ? Array(input[..<length]) : input + [UInt8](repeating: 0, count: length - input.count)
        if case .deliver = processor.peel(&packet) {
            _ = Array(packet[(processor.geometry.payloadOffset + 16)...])
        }
        var raw = input
        _ = processor.peel(&raw)
    }

    // MARK: Signed documents

    static func descriptor(_ input: [UInt8]) {
        _ = try? Unverified<RelayDescriptor>(json: input).verified()
    }

    static func directory(_ input: [UInt8]) {
        // A diff answer (`GET /v1/directory?since=`), applied to the fixture relay's directory.
        if let diff = try? DirectoryDiff.decode(json: input), let base = FuzzFixture.signedDirectory {
            _ = try? diff.apply(to: base.document, base.directory)
        }
        guard let document = try? SignedDocument.decode(json: input) else { return }
        _ = document.jsonBytes()
        _ = try? Unverified<RelayDirectory>(document).verified(trusting: FuzzFixture.roster, now: FuzzFixture.now.seconds)
        var resigned = SignedDocument(type: RelayDirectory.documentType, body: document.body)
        resigned.sign(with: FuzzFixture.rosterKey)
        guard let unverified = try? Unverified<RelayDirectory>(resigned) else { return }
        _ = try? unverified.verifiedAtAnyTime(trusting: FuzzFixture.roster)
    }

    static func ring(_ input: [UInt8]) {
        if let first = input.first, first & 2 != 0 { return governance(Array(input.dropFirst())) }
        guard let first = input.first, let document = try? SignedDocument.decode(json: Array(input.dropFirst())) else { return }
        var resigned = SignedDocument(type: document.type, body: document.body)
        resigned.sign(with: FuzzFixture.ringMembers[1])
        for candidate in [document, resigned] {
            var round = FuzzFixture.ringRound
            if first & 1 == 0 {
                _ = try? round.receiveVote(candidate)
                _ = round.closeVoting()
            } else {
                _ = round.closeVoting()
                _ = try? round.receiveShare(candidate)
            }
            _ = round.published
            for proof in round.equivocations { _ = try? proof.check(roster: round.roster) }
        }
    }

    static func governance(_ input: [UInt8]) {
        if let answer = try? RosterChainAnswer.decode(json: input) {
            var chain = RosterChain(genesis: FuzzFixture.ringRoster)
            for change in answer.changes { guard (try? chain.append(change)) != nil else { break } }
        }
        guard let document = try? SignedDocument.decode(json: input) else { return }
        var resigned = SignedDocument(type: document.type, body: document.body)
        resigned.sign(with: FuzzFixture.ringMembers[1])
        resigned.sign(with: FuzzFixture.ringMembers[2])
        for candidate in [document, resigned] {
            var proposals = RosterProposals()
            _ = try? proposals.receive(candidate, roster: FuzzFixture.ringRoster)
            _ = try? proposals.approve(candidate.bodyHash, roster: FuzzFixture.ringRoster, identity: FuzzFixture.ringMembers[0])
            var chain = RosterChain(genesis: FuzzFixture.ringRoster)
            _ = try? chain.append(candidate)
            _ = chain.changes(since: 0)
        }
    }

    // MARK: End to end

    static func invite(_ input: [UInt8]) {
        guard let uri = String(validating: input, as: UTF8.self) else { return }
        _ = try? Invite.parse(uri: uri, now: FuzzFixture.now)
    }

    static func contactCard(_ input: [UInt8]) {
        if let card = try? ContactCard.decode(input) {
            precondition(card.encoded == input, "a decoded card encodes to other bytes")
        }
        // The same body signed by a key it names, to reach the checks behind the signature.
        let bodyLength = input.count - Signature.byteCount
        guard bodyLength >= 33 else { return }
        let key = FuzzFixture.alice.signing
        var body = Array(input[..<bodyLength])
        body.replaceSubrange(1..<33, with: key.publicKey.rawValue.bytes)
        let signed = body + key.sign(ContactCard.signatureContext + body).bytes
        if let card = try? ContactCard.decode(signed) {
            precondition(card.encoded == signed, "a decoded card encodes to other bytes")
        }
    }

    static func sealedPacket(_ input: [UInt8]) {
        _ = try? SealedPacket.open(input, with: FuzzFixture.bob.identity.agreement)
    }

    /// Group formats (issue 13), by the first byte (mod 11): 0 a sender-key message decrypted by a
    /// member holding the fixture chain; 1 a sender-key distribution; 2 a roster update given to a
    /// member's ledger, as sent and re-signed by the group's admin (to reach the checks behind
    /// the signature); 3 a roster snapshot; 4 a group post taken into a timeline; 5 a channel
    /// message; 6 a rekey opened by a member; 7 an invitation joined; 8 the rest as a channel
    /// transfer sealed to the fixture epoch and received by a member's session (814 bytes as they
    /// are: one mailbox body); 9 a member's stored session state restored (a client's store); 10
    /// a pairwise group control message (envelope kind 6; a catch-up taken by a member).
    static func group(_ input: [UInt8]) {
        guard let selector = input.first else { return }
        let rest = Array(input.dropFirst())
        switch selector % 11 {
        case 0:
            guard let message = try? SenderKeyMessage.decode(rest, maxPlaintext: GroupPost.maxBodyLength + 1_024) else { return }
            precondition(message.encoded == rest, "a decoded sender-key message encodes to other bytes")
            var receiver = SenderKeyReceiver(FuzzFixture.groupChain.distribution)
            if let plaintext = try? receiver.decrypt(message) { groupPost(plaintext) }
        case 1:
            guard let distribution = try? SenderKeyDistribution.decode(rest) else { return }
            precondition(distribution.encoded == rest, "a decoded distribution encodes to other bytes")
        case 2:
            guard let update = try? GroupUpdate.decode(rest) else { return }
            precondition(update.encoded == rest, "a decoded group update encodes to other bytes")
            var ledger = GroupLedger(FuzzFixture.groupRoster)
            _ = ledger.receive(update)
            let roster = FuzzFixture.groupRoster
            let resigned = GroupUpdate.signed(groupKey: roster.groupKey, serial: roster.serial + 1, previous: roster.hash,
                                              operations: update.operations, by: FuzzFixture.alice.signing)
            _ = ledger.receive(resigned)
        case 3:
            guard let roster = try? GroupRoster(snapshot: rest) else { return }
            precondition(roster.snapshot == rest, "a decoded snapshot encodes to other bytes")
        case 4:
            groupPost(rest)
        case 5:
            guard let message = try? GroupChannelMessage.decode(rest) else { return }
            precondition(message.encoded == rest, "a decoded channel message encodes to other bytes")
        case 6:
            guard let rekey = try? GroupRekey.decode(rest) else { return }
            precondition(rekey.encoded == rest, "a decoded rekey encodes to other bytes")
            _ = try? rekey.open(as: FuzzFixture.bob.identity.signing.publicKey, agreement: FuzzFixture.bob.identity.agreement,
                                roster: FuzzFixture.groupRoster, previous: FuzzFixture.groupEpoch)
        case 7:
            guard let invitation = try? GroupInvitation.decode(rest) else { return }
            precondition((invitation.completeEncoding ?? invitation.encoded) == rest, "a decoded invitation encodes to other bytes")
            var rng = FuzzFixture.seeded("group join")
            _ = GroupSession.join(invitation, identity: FuzzFixture.bob.identity, now: FuzzFixture.now, rng: &rng)
            if invitation.roster == nil, let snapshot = invitation.completed(with: FuzzFixture.groupRoster.snapshot) {
                precondition(snapshot.roster == FuzzFixture.groupRoster, "a ticket completed by another roster")
            }
        case 9:
            guard let session = try? GroupSession(state: rest, identity: FuzzFixture.bob.identity) else { return }
            // Version 1 is read, not written: its session is written in parts (version 2).
            let state = session.state
            precondition(rest.first == 1 || state == rest, "a decoded group session state encodes to other bytes")
            let parts = try? GroupSession(parts: session.stateParts, identity: FuzzFixture.bob.identity)
            precondition(parts?.state == state, "a session's parts do not decode to it")
            precondition(session.stateChange(from: parts).written.keys.elementsEqual([[0]]), "an unchanged session writes more than its head")
        case 10:
            guard let control = try? GroupControl.decode(rest) else { return }
            precondition(control.encoded == rest, "a decoded group control message encodes to other bytes")
            switch control {
            case let .invitation(bytes): _ = try? GroupInvitation.decode(bytes)
            case .epochQuery, .ticketQuery: break
            case let .catchUp(bytes):
                // A catch-up, taken by a member from the group's admin (its checks, then the move).
                guard let catchUp = try? GroupCatchUp.decode(bytes) else { return }
                precondition(catchUp.encoded == bytes, "a decoded group catch-up encodes to other bytes")
                var rng = FuzzFixture.seeded("group catch-up")
                var session = FuzzFixture.groupSession
                _ = session.catchUp(catchUp, from: FuzzFixture.alice.signing.publicKey, now: FuzzFixture.now, rng: &rng)
            }
        default:
            var rng = FuzzFixture.seeded("group receive")
            var session = FuzzFixture.groupSession
            let bodies: [[UInt8]]
            if rest.count == PacketGeometry.standard.bodyLength {
                bodies = [rest]
            } else {
                guard let fragments = try? SealedPacket.fragments(of: rest, transferID: MessageID(using: &rng)) else { return }
                let sealing = FuzzFixture.groupEpoch.sealingKey.publicKey
                bodies = fragments.compactMap { try? SealedPacket.seal($0, to: sealing, rng: &rng) }
            }
            var answered = GroupAnswerLog()
            for body in bodies { _ = session.receive(body, now: FuzzFixture.now, rng: &rng, answered: &answered) }
            _ = session.finishReading(now: FuzzFixture.now, rng: &rng)
        }
    }

    static func groupPost(_ bytes: [UInt8]) {
        guard let post = try? GroupPost.decode(bytes) else { return }
        precondition(post.encoded == bytes, "a decoded group post encodes to other bytes")
        var timeline = GroupTimeline()
        _ = timeline.accept(post, from: FuzzFixture.alice.signing.publicKey)
        _ = timeline.gaps
    }

    static func envelope(_ input: [UInt8]) {
        guard let envelope = try? Envelope.decode(input) else { return }
        precondition(envelope.encoded == input, "a decoded envelope encodes to other bytes")
        _ = envelope.text
        _ = try? envelope.receiptIDs()
    }

    static func sessionMessage(_ input: [UInt8]) {
        guard let message = try? SessionMessage.decode(input) else { return }
        precondition(message.encoded == input, "a decoded session message encodes to other bytes")
        var ratchet: DoubleRatchet
        if let setup = message.setup {
            guard let fresh = try? SessionSetup.respond(identity: FuzzFixture.bob.identity, prekeys: FuzzFixture.bob.prekeys,
                                                        message: setup.initialMessage) else { return }
            ratchet = fresh
        } else {
            ratchet = FuzzFixture.bobRatchet
        }
        if let plaintext = try? ratchet.decrypt(message.ratchetMessage, associatedData: FuzzFixture.associatedData) {
            envelope(plaintext)
        }
    }

    static func initialMessage(_ input: [UInt8]) {
        guard let message = try? InitialMessage.decode(input) else { return }
        precondition(message.encoded == input, "a decoded initial message encodes to other bytes")
        _ = try? SessionSetup.respond(identity: FuzzFixture.bob.identity, prekeys: FuzzFixture.bob.prekeys, message: message)
    }

    static func ratchetMessage(_ input: [UInt8]) {
        _ = try? RatchetHeader.decode(input.prefix(RatchetHeader.encodedLength))
        guard let message = try? RatchetMessage.decode(input) else { return }
        precondition(message.encoded == input, "a decoded ratchet message encodes to other bytes")
        var ratchet = FuzzFixture.bobRatchet
        if let plaintext = try? ratchet.decrypt(message, associatedData: FuzzFixture.associatedData) {
            envelope(plaintext)
        }
    }

    // MARK: APIs and configuration

    static func strictJSON(_ input: [UInt8]) {
        let request = HTTPRequest(method: .post, path: "/", headers: ["content-type": "application/json"], body: input)
        _ = try? request.decodeJSON(AddContactRequest.self)
        _ = try? request.decodeJSON(SendTextRequest.self)
        _ = try? request.decodeJSON(RenameContactRequest.self)
        _ = try? request.decodeJSON(SignedDocument.self)
        _ = try? request.decodeJSON([String: [Int64]].self, maxDepth: 4)
    }

    static let methods: [HTTPMethod] = [.get, .post, .put, .delete, .head]

    static func httpRoute(_ input: [UInt8]) {
        guard let first = input.first else { return }
        let rest = input.dropFirst()
        let newline = rest.firstIndex(of: 10) ?? rest.endIndex
        let path = String(decoding: rest[..<newline], as: UTF8.self)
        let body = newline < rest.endIndex ? Array(rest[(newline + 1)...]) : []
        var headers: [String: String] = [:]
        if first & 0x10 != 0 { headers["authorization"] = "Bearer secirc-fuzz-api-token-0123456789abcdef" }
        if first & 0x20 != 0 { headers["content-type"] = "application/json" }
        let request = HTTPRequest(method: methods[Int(first & 0x0F) % methods.count], path: path, headers: headers, body: body)
        _ = FuzzFixture.router.handle(request).bodyBytes
    }

    static func config(_ input: [UInt8]) {
        guard let first = input.first, let yaml = String(validating: input.dropFirst(), as: UTF8.self) else { return }
        switch first % 3 {
        case 0: _ = try? ServerConfig.parse(yaml: yaml)
        case 1: _ = try? ClientConfig.parse(yaml: yaml)
        default: _ = try? SecurityConfig.parse(yaml: yaml)
        }
    }

    static func dnsTXT(_ input: [UInt8]) {
        _ = try? DNSTXTAnswer.decode(input)
    }

    static func addresses(_ input: [UInt8]) {
        _ = try? MailboxAddress.decodeList(input)
        _ = try? Base64URL.decode(input)
        let text = String(decoding: input, as: UTF8.self)
        _ = try? SocketAddress(numeric: text) // what untrusted text gets (no resolver asked)
        _ = try? HostPort(parsing: text)
        if let url = try? BootstrapURL(text) { _ = url.pinnedURL("/v1/directory") }
    }

    static func apiResponse(_ input: [UInt8]) {
        guard let first = input.first else { return }
        let piece = Int(first % 64) + 1
        var parser = HTTPResponseParser(maxBodyBytes: 1 << 16)
        var events = ServerSentEventParser()
        var start = 1
        do {
            while start < input.count, !parser.isComplete {
                let end = min(start + piece, input.count)
                _ = try events.consume(try parser.consume(input[start..<end]))
                start = end
            }
            try parser.finish()
        } catch {
            return
        }
    }
}
