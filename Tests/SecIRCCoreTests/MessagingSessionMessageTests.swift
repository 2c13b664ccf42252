import SecIRCCore
import SecIRCCrypto
import Testing

/// Alice starts a session with Bob from his invite and talks over sealed, fragmented packets.
struct MessagingConversation {
    let alice = MessagingFixture.identity("conversation alice")
    let bob: SessionSetup.Identity
    let bobPrekeys: SessionSetup.Prekeys
    let invite: Invite
    let aliceCard: ContactCard
    var aliceRatchet: DoubleRatchet
    let initialMessage: InitialMessage
    var rng = SeededRandom(seed: "conversation")

    init() throws {
        (bob, bobPrekeys) = InviteFixture.keys("invite bob")
        invite = try Invite.parse(uri: InviteFixture.invite().uri, now: InviteFixture.now)
        aliceCard = try ContactCard(signingWith: alice.signing, agreementKey: alice.agreement.publicKey,
                                    created: 1_799_999_000, mailboxes: InviteFixture.mailboxes(1, seed: "alice mailbox"),
                                    displayName: "Alice")
        (aliceRatchet, initialMessage) = try SessionSetup.initiate(identity: alice, invite: invite, rng: &rng)
    }

    var associatedData: [UInt8] {
        SessionSetup.associatedData(initiator: alice.agreement.publicKey, responder: invite.identityAgreementKey)
    }

    /// Alice's first message: a prekey session message around an encrypted text envelope.
    mutating func aliceFirstMessage(_ text: String) throws -> SessionMessage {
        let envelope = Envelope.text(text, id: MessageID(using: &rng), timestampMs: 1_800_000_000_000)
        let ratchetMessage = try aliceRatchet.encrypt(envelope.encoded, associatedData: associatedData, rng: &rng)
        return SessionMessage(messageID: envelope.id, sender: alice.signing.publicKey,
                              setup: .init(card: aliceCard, initialMessage: initialMessage), ratchetMessage: ratchetMessage)
    }

    /// Fragments and seals `message` to `recipient`, in shuffled order.
    mutating func seal(_ message: SessionMessage, to recipient: AgreementPublicKey) throws -> [[UInt8]] {
        var bodies: [[UInt8]] = []
        for fragment in try SealedPacket.fragments(of: message.encoded, transferID: MessageID(using: &rng)) {
            bodies.append(try SealedPacket.seal(fragment, to: recipient, rng: &rng))
        }
        return bodies.shuffled(using: &rng)
    }

    /// Opens and reassembles bodies; returns the decoded session message once complete.
    static func receive(_ bodies: [[UInt8]], with key: AgreementPrivateKey) throws -> SessionMessage? {
        var reassembler = Reassembler()
        for body in bodies {
            if let whole = try reassembler.add(SealedPacket.open(body, with: key), now: MessagingFixture.now) {
                return try SessionMessage.decode(whole)
            }
        }
        return nil
    }
}

@Suite("Messaging: SessionMessage")
struct MessagingSessionMessageTests {
    @Test func prekeyMessageEndToEndInThreeFragments() throws {
        var conversation = try MessagingConversation()
        let first = try conversation.aliceFirstMessage("hello Bob, it's Alice")
        let wire = first.encoded
        #expect(wire[1] == SessionMessage.prekeyType)
        #expect(try SealedPacket.fragments(of: wire, transferID: first.messageID).count <= 3)

        let bodies = try conversation.seal(first, to: conversation.invite.identityAgreementKey)
        #expect(bodies.count <= 3)
        #expect(bodies.allSatisfy { $0.count == PacketGeometry.standard.bodyLength })
        let received = try #require(try MessagingConversation.receive(bodies, with: conversation.bob.agreement))
        #expect(received == first)

        // Bob: the card tells him who IK_A is; session setup; decrypt; envelope.
        let setup = try #require(received.setup)
        #expect(setup.card.identityKey == received.sender)
        #expect(setup.card.displayName == "Alice")
        var bobRatchet = try SessionSetup.respond(identity: conversation.bob, prekeys: conversation.bobPrekeys,
                                                  message: setup.initialMessage)
        let ad = SessionSetup.associatedData(initiator: setup.card.agreementKey, responder: conversation.bob.agreement.publicKey)
        let envelope = try Envelope.decode(bobRatchet.decrypt(received.ratchetMessage, associatedData: ad))
        #expect(envelope.id == received.messageID)
        #expect(envelope.text == "hello Bob, it's Alice")

        // Bob answers with a receipt in a ratchet message, sealed to Alice's card key.
        var bobRNG = SeededRandom(seed: "bob reply")
        let receipt = Envelope.receipt(for: [envelope.id], id: MessageID(using: &bobRNG), timestampMs: 1)
        let reply = SessionMessage(messageID: receipt.id, sender: conversation.bob.signing.publicKey,
                                   ratchetMessage: try bobRatchet.encrypt(receipt.encoded, associatedData: ad, rng: &bobRNG))
        #expect(reply.encoded[1] == SessionMessage.ratchetType)
        let replyBodies = try conversation.seal(reply, to: setup.card.agreementKey)
        #expect(replyBodies.count == 1)
        let back = try #require(try MessagingConversation.receive(replyBodies, with: conversation.alice.agreement))
        #expect(back.setup == nil)
        #expect(back.sender == conversation.bob.signing.publicKey)
        let decrypted = try Envelope.decode(conversation.aliceRatchet.decrypt(back.ratchetMessage,
                                                                               associatedData: conversation.associatedData))
        #expect(try decrypted.receiptIDs() == [envelope.id])
    }

    /// PROTOCOL.md §7.3: with a 1-mailbox card named "Alice", 638 bytes of text fit in 3 fragments.
    @Test func documentedPrekeySizes() throws {
        for (textLength, fragments) in [(0, 3), (638, 3), (639, 4)] {
            var conversation = try MessagingConversation()
            let first = try conversation.aliceFirstMessage(String(repeating: "a", count: textLength))
            #expect(first.encoded.count == 1507 + textLength)
            #expect(try SealedPacket.fragments(of: first.encoded, transferID: first.messageID).count == fragments)
        }
    }

    @Test func ratchetMessageRoundTrip() throws {
        var pair = RatchetPair(seed: "session ratchet")
        let message = SessionMessage(messageID: MessagingFixture.messageID("ratchet only"),
                                     sender: MessagingFixture.identity("sender").signing.publicKey,
                                     ratchetMessage: try pair.aliceSends("hi"))
        let wire = message.encoded
        #expect(wire.count == SessionMessage.headerLength + message.ratchetMessage.encoded.count)
        #expect(try SessionMessage.decode(wire) == message)
    }

    @Test func truncatedAtEveryLength() throws {
        var conversation = try MessagingConversation()
        let first = try conversation.aliceFirstMessage("truncate")
        let wire = first.encoded
        // The ratchet message is "all remaining bytes": a shorter one still parses (and fails its
        // AEAD later); anything shorter than a minimal ratchet message does not parse.
        let ratchetStart = wire.count - first.ratchetMessage.encoded.count
        for length in 0..<wire.count {
            let prefix = Array(wire[..<length])
            if length < ratchetStart + RatchetMessage.minimumLength {
                #expect(throws: DecodeError.self, "length \(length)") { try SessionMessage.decode(prefix) }
            } else {
                let decoded = try SessionMessage.decode(prefix)
                #expect(decoded.setup == first.setup)
                #expect(decoded.ratchetMessage.encoded == Array(prefix[ratchetStart...]))
            }
        }
    }

    @Test func refusesBadHeaders() throws {
        var pair = RatchetPair(seed: "bad headers")
        let message = SessionMessage(messageID: MessagingFixture.messageID("bad"),
                                     sender: MessagingFixture.identity("sender").signing.publicKey,
                                     ratchetMessage: try pair.aliceSends("x"))
        var wire = message.encoded
        wire[0] = 2
        #expect(throws: DecodeError.invalidValue("session message version 2")) { try SessionMessage.decode(wire) }
        for type: UInt8 in [0, 3, 255] {
            wire = message.encoded
            wire[1] = type
            #expect(throws: DecodeError.invalidValue("session message type \(type)")) { try SessionMessage.decode(wire) }
        }
        let tooLong = message.encoded + [UInt8](repeating: 0, count: SessionMessage.maximumLength)
        #expect(throws: DecodeError.invalidValue("session message of \(tooLong.count) bytes, at most \(SessionMessage.maximumLength)")) {
            try SessionMessage.decode(tooLong)
        }
        // Type 2 bytes relabelled as type 1: the "card length" is now ratchet bytes.
        wire = message.encoded
        wire[1] = SessionMessage.prekeyType
        #expect(throws: DecodeError.self) { try SessionMessage.decode(wire) }
    }

    @Test func cardMustBeTheSendersAndNameTheInitialKey() throws {
        var conversation = try MessagingConversation()
        var first = try conversation.aliceFirstMessage("binding")
        let mallory = MessagingFixture.identity("mallory")

        var otherSender = first
        otherSender.sender = mallory.signing.publicKey
        #expect(throws: DecodeError.invalidValue("contact card is not the sender's")) {
            try SessionMessage.decode(otherSender.encoded)
        }

        var otherKey = try #require(first.setup).initialMessage
        otherKey.identityAgreementKey = mallory.agreement.publicKey
        first.setup?.initialMessage = otherKey
        #expect(throws: DecodeError.invalidValue("contact card does not name the initial message's identity key")) {
            try SessionMessage.decode(first.encoded)
        }
    }

    @Test func cardErrorsBecomeInvalidValue() throws {
        var conversation = try MessagingConversation()
        let first = try conversation.aliceFirstMessage("card error")
        var wire = first.encoded
        // Last byte of the card's signature.
        let cardEnd = SessionMessage.headerLength + 2 + conversation.aliceCard.encoded.count
        wire[cardEnd - 1] ^= 1
        #expect(throws: DecodeError.invalidValue("contact card: \(ContactCardError.badSignature)")) {
            try SessionMessage.decode(wire)
        }
    }
}
