import SecIRCCore
import SecIRCCrypto

/// `Vectors/worked-example.json`: the client flow from Bob's invite to Alice's first messages and
/// Bob's receipt, every byte (docs/PROTOCOL.md §10.7). Each step calls the SecIRCCore function
/// the client daemon calls at that point (named in the comments), in the daemon's order, so the
/// random draws fall as they do there. Randomness: one `SeededRandom` per party; the ML-KEM-768
/// encapsulation, which has no seeded form, is an input recorded in the file.
struct WorkedExample: Codable, Equatable {
    typealias Draw = RecordingRandom.Draw

    struct Relay: Codable, Equatable {
        /// Ed25519 identity key; the relay ID is its SHA-256.
        var identityKey: String
        var relayID: String
        var onionPublicKey: String
        var epoch: UInt32
    }

    struct Party: Codable, Equatable {
        var name: String
        var seed: String
        /// IdS: Ed25519 identity key; `id` is its SHA-256.
        var identityKey: String
        var id: String
        /// IK: X25519 identity agreement key.
        var identityAgreementKey: String
        /// Every draw from `SeededRandom(seed)`, in order (private keys are the draws they come from).
        var draws: [Draw]
    }

    struct InviteStep: Codable, Equatable {
        var signedPrekeyID: UInt32
        var signedPrekey: String
        var pqPrekeyID: UInt32
        var pqPrekey: String
        var mailboxRelayID: String
        /// SHA-256 of Bob's mailbox key (an Ed25519 public key).
        var mailboxID: String
        var expiry: UInt64
        var displayNameHint: String
        var body: String
        var signature: String
        var uri: String
    }

    struct SetupStep: Codable, Equatable {
        /// Alice's deposit queue for Bob at her mailbox relay: the one mailbox of her card.
        var depositQueueRelayID: String
        var depositQueueID: String
        var contactCard: String
        var ephemeralKey: String
        var dh1: String
        var dh2: String
        var dh3: String
        /// Recorded input: one run of ML-KEM-768.Encaps(PQPK_B) (system randomness, not seeded).
        var kemCiphertextRecorded: String
        /// Recorded input: the shared secret SS of that encapsulation.
        var kemSharedSecretRecorded: String
        var rootKey: String
        var initialMessage: String
        /// `IK_A || IK_B || IdS_A || IdS_B`.
        var associatedData: String
    }

    struct Transfer: Codable, Equatable {
        struct Fragment: Codable, Equatable {
            var index: Int
            var count: Int
            var totalLength: Int
            var data: String
        }

        var what: String
        var envelopeID: String
        var kind: UInt8
        var timestampMs: UInt64
        var body: String
        var envelope: String
        var ratchetMessage: String
        var sessionMessageType: UInt8
        var sessionMessage: String
        var transferID: String
        var fragments: [Fragment]
        /// One mailbox body (814 bytes) per fragment.
        var sealedPackets: [String]
        /// Indices into `relays`, entry first; every hop forwards with delay 0 (cover traffic off).
        var path: [Int]
        /// Where the last relay delivers: a mailbox or deposit queue ID.
        var deliverTo: String
        /// One Sphinx packet (1202 bytes: a link frame's body) per sealed packet.
        var sphinxPackets: [String]
    }

    var about: String
    var now: Int64
    var relaySeed: String
    var relays: [Relay]
    var relayDraws: [Draw]
    var bob: Party
    var alice: Party
    var invite: InviteStep
    var setup: SetupStep
    var aliceToBob: [Transfer]
    var bobToAlice: Transfer

    static let fileName = "worked-example.json"
    static let now = UnixTime(seconds: 1_800_000_000)
    static let relaySeed = "secirc worked example: relays"
    static let bobSeed = "secirc worked example: bob"
    static let aliceSeed = "secirc worked example: alice"
    static let text = "Hello Bob! This is Alice."
    /// The relays of Alice's path to Bob's mailbox relay (the last); Bob's receipt takes it backwards.
    static let path = [0, 1, 2]

    static let about = """
        secIRC worked example (docs/PROTOCOL.md §10.7): Bob's invite, Alice's session set-up, her \
        introduction and first text message, Bob's receipt for both. All hex. Random bytes come from \
        SeededRandom(relaySeed / bob.seed / alice.seed), listed in order in relayDraws / bob.draws / \
        alice.draws; the one exception is the ML-KEM-768 encapsulation (kem*Recorded), a recorded input.
        """

    /// The relays: for each, an Ed25519 identity seed, then its onion X25519 private key.
    static func makeRelays() -> (keys: [OnionKey], relays: [Relay], draws: [Draw]) {
        var rng = RecordingRandom(seed: relaySeed)
        var keys: [OnionKey] = []
        var relays: [Relay] = []
        for i in 0..<3 {
            rng.step = "relay \(i): Ed25519 identity seed, onion X25519 private key"
            let identity = SigningPrivateKey(using: &rng).publicKey
            let key = OnionKey(epoch: UInt32(1 + i), privateKey: AgreementPrivateKey(using: &rng))
            keys.append(key)
            relays.append(Relay(identityKey: identity.rawValue.hex, relayID: identity.id.hex,
                                onionPublicKey: key.publicKey.rawValue.hex, epoch: key.epoch))
        }
        return (keys, relays, rng.draws)
    }

    /// Bob as his client makes him: identity (`Messenger.init`), mailbox key
    /// (`Messenger.chooseMailboxes`), prekeys (`PrekeyRing.rotate`, first ID 1), invite (`Messenger.invite`).
    static func makeBob(mailboxRelay: ID,
                        rng: inout RecordingRandom) throws -> (SessionSetup.Identity, SessionSetup.Prekeys, Invite) {
        rng.step = "Bob's identity (SessionSetup.Identity): Ed25519 seed, X25519 IK_B"
        let identity = SessionSetup.Identity(using: &rng)
        rng.step = "Bob's mailbox key (MailboxKey): Ed25519 seed; mailbox ID = SHA-256(its public key)"
        let mailboxKey = SigningPrivateKey(using: &rng)
        rng.step = "Bob's prekeys (SessionSetup.Prekeys): X25519 SPK_B, ML-KEM-768 seed d || z of PQPK_B"
        let prekeys = SessionSetup.Prekeys(signedPrekeyID: 1, pqPrekeyID: 1, using: &rng)
        let mailbox = MailboxAddress(relayID: mailboxRelay, mailboxID: mailboxKey.publicKey.id.rawValue)
        let invite = try SessionSetup.makeInvite(identity: identity, prekeys: prekeys, mailboxes: [mailbox],
                                                 expiry: UInt64(now.seconds + 7 * 24 * 3600), displayNameHint: "Bob")
        return (identity, prekeys, invite)
    }

    /// The whole example; `encapsulate` gives the ML-KEM-768 encapsulation to PQPK_B (a fresh
    /// one when writing the file, the recorded one when checking it).
    static func make(
        encapsulate: (KEMPublicKey) throws -> (sharedSecret: SecureBytes, ciphertext: KEMCiphertext)
    ) throws -> WorkedExample {
        let (onionKeys, relays, relayDraws) = makeRelays()
        let relayIDs = try relays.map { ID(rawValue: try Bytes32(hex: $0.relayID)) }
        let timestampMs = UInt64(now.seconds) * 1_000

        var bobRNG = RecordingRandom(seed: bobSeed)
        let (bob, prekeys, bobInvite) = try makeBob(mailboxRelay: relayIDs[path.last!], rng: &bobRNG)

        // Alice: `Messenger.init`, then `Messenger.addContact(inviteURI:)`.
        let invite = try Invite.parse(uri: bobInvite.uri, now: now)
        var aliceRNG = RecordingRandom(seed: aliceSeed)
        aliceRNG.step = "Alice's identity (SessionSetup.Identity): Ed25519 seed, X25519 IK_A"
        let alice = SessionSetup.Identity(using: &aliceRNG)
        aliceRNG.step = "Alice's deposit queue ID for Bob at her mailbox relay (Messenger.withQueues)"
        let queue = MailboxAddress(relayID: relayIDs[path.first!], mailboxID: Bytes32 { aliceRNG.fill($0) })
        let card = try ContactCard(signingWith: alice.signing, agreementKey: alice.agreement.publicKey,
                                   created: UInt64(now.seconds), mailboxes: [queue], displayName: "Alice")
        let kem = try encapsulate(invite.pqPrekey)
        aliceRNG.step = "Alice's session set-up (SessionSetup.initiate): X25519 EK_A, then her first ratchet key"
        var (aliceRatchet, initial) = try SessionSetup.initiate(identity: alice, invite: invite, encapsulation: kem,
                                                                rng: &aliceRNG)
        let ad = SessionSetup.associatedData(initiator: alice.agreement.publicKey, initiatorKey: alice.signing.publicKey,
                                             responder: invite.identityAgreementKey, responderKey: invite.identityKey)
        let dh1 = try prekeys.signedPrekey.sharedSecret(with: alice.agreement.publicKey)
        let dh2 = try bob.agreement.sharedSecret(with: initial.ephemeralKey)
        let dh3 = try prekeys.signedPrekey.sharedSecret(with: initial.ephemeralKey)
        let rootKey = SessionSetup.rootSecret(dh1: dh1, dh2: dh2, dh3: dh3, kemSecret: kem.sharedSecret)
        let setup = SessionMessage.Setup(card: card, initialMessage: initial)
        aliceRNG.step = "introduction message ID (Messenger.addContact; MessageID: two 8-byte draws, high then low)"
        let introduction = Envelope(id: MessageID(using: &aliceRNG), kind: EnvelopeKind(rawValue: 7), timestampMs: timestampMs,
                                    body: [])

        // Alice's sends: `Messenger.prepareSend`, then `ClientEngine.send` (fragment, seal, wrap).
        let toBob = Route(recipient: invite.identityAgreementKey, mailbox: invite.mailboxes[0].mailboxID, path: path,
                          keys: onionKeys, relayIDs: relayIDs)
        let first = try transfer("introduction", introduction, ratchet: &aliceRatchet, ad: ad, sender: alice.signing.publicKey,
                                 setup: setup, route: toBob, rng: &aliceRNG)
        aliceRNG.step = "text message ID (Messenger.queueText)"
        let text = Envelope.text(Self.text, id: MessageID(using: &aliceRNG), timestampMs: timestampMs)
        let second = try transfer("text", text, ratchet: &aliceRatchet, ad: ad, sender: alice.signing.publicKey, setup: setup,
                                  route: toBob, rng: &aliceRNG)

        // Bob: `Messenger.receive` accepts the set-up and decrypts both, then one receipt for both
        // (`ClientEngine.acknowledge` collects the IDs of a turn, `Messenger.prepareReceipt`).
        let received = try [first, second].map { try SessionMessage.decode(Hex.decode($0.sessionMessage)) }
        let bobSetup = received[0].setup!
        var bobRatchet = try SessionSetup.respond(identity: bob, prekeys: prekeys, message: bobSetup.initialMessage)
        let bobAD = SessionSetup.associatedData(initiator: bobSetup.card.agreementKey, initiatorKey: bobSetup.card.identityKey,
                                                responder: bob.agreement.publicKey, responderKey: bob.signing.publicKey)
        let envelopes = try received.map { try Envelope.decode(bobRatchet.decrypt($0.ratchetMessage, associatedData: bobAD)) }
        bobRNG.step = "receipt message ID (Messenger.prepareReceipt)"
        let receipt = Envelope.receipt(for: envelopes.map(\.id), id: MessageID(using: &bobRNG), timestampMs: timestampMs)
        let toAlice = Route(recipient: card.agreementKey, mailbox: card.mailboxes[0].mailboxID, path: path.reversed(),
                            keys: onionKeys, relayIDs: relayIDs)
        let back = try transfer("receipt", receipt, ratchet: &bobRatchet, ad: bobAD, sender: bob.signing.publicKey, setup: nil,
                                route: toAlice, rng: &bobRNG)

        func party(_ name: String, _ seed: String, _ identity: SessionSetup.Identity, _ draws: [Draw]) -> Party {
            Party(name: name, seed: seed, identityKey: identity.signing.publicKey.rawValue.hex,
                  id: identity.signing.publicKey.id.hex, identityAgreementKey: identity.agreement.publicKey.rawValue.hex,
                  draws: draws)
        }
        return WorkedExample(
            about: about, now: now.seconds, relaySeed: relaySeed, relays: relays, relayDraws: relayDraws,
            bob: party("Bob", bobSeed, bob, bobRNG.draws), alice: party("Alice", aliceSeed, alice, aliceRNG.draws),
            invite: InviteStep(signedPrekeyID: invite.signedPrekeyID, signedPrekey: invite.signedPrekey.rawValue.hex,
                               pqPrekeyID: invite.pqPrekeyID, pqPrekey: Hex.encode(invite.pqPrekey.bytes),
                               mailboxRelayID: invite.mailboxes[0].relayID.hex, mailboxID: invite.mailboxes[0].mailboxID.hex,
                               expiry: invite.expiry, displayNameHint: invite.displayNameHint ?? "",
                               body: Hex.encode(invite.body), signature: Hex.encode(invite.signature.bytes), uri: invite.uri),
            setup: SetupStep(depositQueueRelayID: queue.relayID.hex, depositQueueID: queue.mailboxID.hex,
                             contactCard: Hex.encode(card.encoded),
                             ephemeralKey: initial.ephemeralKey.rawValue.hex, dh1: Hex.encode(dh1.unsafeCopy()),
                             dh2: Hex.encode(dh2.unsafeCopy()), dh3: Hex.encode(dh3.unsafeCopy()),
                             kemCiphertextRecorded: Hex.encode(kem.ciphertext.bytes),
                             kemSharedSecretRecorded: Hex.encode(kem.sharedSecret.unsafeCopy()),
                             rootKey: rootKey.withUnsafeBytes { Hex.encode(Array($0)) },
                             initialMessage: Hex.encode(initial.encoded),
                             associatedData: Hex.encode(ad)),
            aliceToBob: [first, second], bobToAlice: back)
    }

    /// Where one side's messages go: the recipient's IK and the address its mailbox relay delivers to.
    struct Route {
        var recipient: AgreementPublicKey
        var mailbox: Bytes32
        var path: [Int]
        var keys: [OnionKey]
        var relayIDs: [ID]

        /// The hops `PathSelector.packet` (SecIRCNode, out of this target's reach) makes for this
        /// path with cover traffic off: forward to the next relay with delay 0 (no delay is drawn
        /// when the mean is 0), deliver at the last; the builder fills in each next epoch.
        func hops() -> [SphinxHop] {
            path.enumerated().map { i, relay in
                let command: RoutingCommand = i == path.count - 1
                    ? .deliver(to: mailbox)
                    : .forward(to: relayIDs[path[i + 1]].rawValue, delayMilliseconds: 0, nextEpoch: 0)
                return SphinxHop(onionKey: keys[relay].publicKey, epoch: keys[relay].epoch, command: command)
            }
        }
    }

    /// One envelope through every layer, as `Messenger.encrypt` / `prepareSend` and
    /// `ClientEngine.send` do it: ratchet, session message, transfer ID, then for each fragment
    /// its sealed packet and at once its Sphinx packet.
    static func transfer(_ what: String, _ envelope: Envelope, ratchet: inout DoubleRatchet, ad: [UInt8],
                         sender: SigningPublicKey, setup: SessionMessage.Setup?, route: Route,
                         rng: inout RecordingRandom) throws -> Transfer {
        rng.step = "\(what): DoubleRatchet.encrypt (a new ratchet key, only when a DH step is due)"
        let ratchetMessage = try ratchet.encrypt(envelope.encoded, associatedData: ad, rng: &rng)
        let session = SessionMessage(messageID: envelope.id, sender: sender, setup: setup, ratchetMessage: ratchetMessage)
        rng.step = "\(what): transfer ID (Outgoing.transferID)"
        let transferID = MessageID(using: &rng)
        let fragments = try SealedPacket.fragments(of: session.encoded, transferID: transferID)
        var sealed: [String] = []
        var sphinx: [String] = []
        for fragment in fragments {
            rng.step = "\(what): fragment \(fragment.index), SealedPacket.seal: X25519 e, nonce"
            let body = try SealedPacket.seal(fragment, to: route.recipient, rng: &rng)
            rng.step = "\(what): fragment \(fragment.index), SphinxPacketBuilder.build: x, β filler"
            sealed.append(Hex.encode(body))
            sphinx.append(Hex.encode(try SphinxPacketBuilder().build(path: route.hops(), body: body, using: &rng)))
        }
        return Transfer(what: what, envelopeID: envelope.id.hex, kind: envelope.kind.rawValue, timestampMs: envelope.timestampMs,
                        body: Hex.encode(envelope.body), envelope: Hex.encode(envelope.encoded),
                        ratchetMessage: Hex.encode(ratchetMessage.encoded), sessionMessageType: session.encoded[1],
                        sessionMessage: Hex.encode(session.encoded), transferID: transferID.hex,
                        fragments: fragments.map {
                            .init(index: $0.index, count: $0.count, totalLength: $0.totalLength, data: Hex.encode($0.data))
                        },
                        sealedPackets: sealed, path: route.path, deliverTo: route.mailbox.hex, sphinxPackets: sphinx)
    }
}
