import SecIRCCore
import SecIRCCrypto
import Testing

/// `Vectors/invite.json`: a fixed-seed invite (deterministic: ML-KEM-768 keys come from a seed),
/// plus one recorded session start. The initial message cannot be regenerated (ML-KEM
/// encapsulation uses system randomness), so it is checked by having Bob, rebuilt from his
/// seed, accept it and decrypt Alice's recorded first message.
struct InviteVector: Codable, Equatable {
    var bobSeed: String
    var now: Int64
    var inviteURI: String
    var aliceSeed: String
    var initialMessage: String
    var firstMessage: String
    var plaintext: String
}

@Suite("SessionSetup")
struct SessionSetupTests {
    static let now = InviteFixture.now

    /// Bob's keys and parsed invite; Alice's identity.
    static func parties() throws -> (alice: SessionSetup.Identity, bob: SessionSetup.Identity,
                                     bobPrekeys: SessionSetup.Prekeys, invite: Invite) {
        let (bob, bobPrekeys) = InviteFixture.keys("invite bob")
        var rng = SeededRandom(seed: "alice identity")
        let alice = SessionSetup.Identity(using: &rng)
        let invite = try Invite.parse(uri: InviteFixture.invite().uri, now: now)
        return (alice, bob, bobPrekeys, invite)
    }

    @Test func bothSidesAgreeAndTalkBothWays() throws {
        let (alice, bob, bobPrekeys, invite) = try Self.parties()
        var aliceRNG = SeededRandom(seed: "alice session")
        var bobRNG = SeededRandom(seed: "bob session")
        var (aliceRatchet, initial) = try SessionSetup.initiate(identity: alice, invite: invite, rng: &aliceRNG)
        let wire = initial.encoded
        #expect(wire.count == InitialMessage.encodedLength)
        let received = try InitialMessage.decode(wire)
        #expect(received == initial)
        var bobRatchet = try SessionSetup.respond(identity: bob, prekeys: bobPrekeys, message: received)
        let ad = SessionSetup.associatedData(initiator: received.identityAgreementKey, responder: bob.agreement.publicKey)
        #expect(ad == SessionSetup.associatedData(initiator: alice.agreement.publicKey, responder: invite.identityAgreementKey))

        for round in 0..<3 {
            let a = try aliceRatchet.encrypt(Array("alice \(round)".utf8), associatedData: ad, rng: &aliceRNG)
            #expect(try bobRatchet.decrypt(a.encoded, associatedData: ad) == Array("alice \(round)".utf8))
            let b = try bobRatchet.encrypt(Array("bob \(round)".utf8), associatedData: ad, rng: &bobRNG)
            #expect(try aliceRatchet.decrypt(b.encoded, associatedData: ad) == Array("bob \(round)".utf8))
        }
    }

    @Test func sameInputsGiveSameRootSecret() throws {
        var rng = SeededRandom(seed: "kdf")
        let parts = (0..<4).map { _ in SecureBytes(randomCount: 32, using: &rng) }
        let sk1 = SessionSetup.rootSecret(dh1: parts[0], dh2: parts[1], dh3: parts[2], kemSecret: parts[3])
        let sk2 = SessionSetup.rootSecret(dh1: parts[0], dh2: parts[1], dh3: parts[2], kemSecret: parts[3])
        let swapped = SessionSetup.rootSecret(dh1: parts[1], dh2: parts[0], dh3: parts[2], kemSecret: parts[3])
        #expect(sk1 == sk2)
        #expect(sk1 != swapped)
    }

    /// Alice's first ratchet message must fail at Bob, without trapping, for `corrupt`ed setup.
    func expectFirstDecryptFails(_ corrupt: (InitialMessage) throws -> InitialMessage,
                                 bobPrekeys override: SessionSetup.Prekeys? = nil) throws {
        let (alice, bob, bobPrekeys, invite) = try Self.parties()
        var rng = SeededRandom(seed: "alice corrupt")
        var (aliceRatchet, initial) = try SessionSetup.initiate(identity: alice, invite: invite, rng: &rng)
        let ad = SessionSetup.associatedData(initiator: alice.agreement.publicKey, responder: invite.identityAgreementKey)
        let first = try aliceRatchet.encrypt(Array("hello".utf8), associatedData: ad, rng: &rng)
        var bobRatchet = try SessionSetup.respond(identity: bob, prekeys: override ?? bobPrekeys, message: corrupt(initial))
        #expect(throws: RatchetError.authenticationFailed) { try bobRatchet.decrypt(first.encoded, associatedData: ad) }
    }

    @Test(arguments: [0, 100, 1087])
    func tamperedKEMCiphertextFailsFirstDecrypt(_ byte: Int) throws {
        try expectFirstDecryptFails { message in
            var m = message
            var bytes = m.ciphertext.bytes
            bytes[byte] ^= 0x01
            m.ciphertext = try KEMCiphertext(bytes: bytes)
            return m
        }
    }

    @Test func tamperedEphemeralKeyFailsFirstDecrypt() throws {
        try expectFirstDecryptFails { message in
            var m = message
            var bytes = m.ephemeralKey.bytes
            bytes[5] ^= 0x10
            m.ephemeralKey = try AgreementPublicKey(bytes: bytes)
            return m
        }
    }

    @Test func wrongSignedPrekeyFailsFirstDecrypt() throws {
        // Bob answers with other keys under the same IDs (e.g. a lost rotation).
        var rng = SeededRandom(seed: "other prekeys")
        let (_, real) = InviteFixture.keys("invite bob")
        let other = SessionSetup.Prekeys(signedPrekeyID: 7, signedPrekey: AgreementPrivateKey(using: &rng),
                                         pqPrekeyID: 9, pqPrekey: real.pqPrekey)
        try expectFirstDecryptFails({ $0 }, bobPrekeys: other)
    }

    @Test func wrongPQPrekeyFailsFirstDecrypt() throws {
        var rng = SeededRandom(seed: "other pq prekey")
        let (_, real) = InviteFixture.keys("invite bob")
        let other = SessionSetup.Prekeys(signedPrekeyID: 7, signedPrekey: real.signedPrekey,
                                         pqPrekeyID: 9, pqPrekey: KEMPrivateKey(using: &rng))
        try expectFirstDecryptFails({ $0 }, bobPrekeys: other)
    }

    @Test func unknownPrekeyIDsRefused() throws {
        let (alice, bob, _, invite) = try Self.parties()
        var rng = SeededRandom(seed: "alice ids")
        let (_, initial) = try SessionSetup.initiate(identity: alice, invite: invite, rng: &rng)
        var rng2 = SeededRandom(seed: "rotated")
        let rotated = SessionSetup.Prekeys(signedPrekeyID: 8, pqPrekeyID: 9, using: &rng2)
        #expect(throws: SessionSetupError.unknownPrekey(signedPrekeyID: 7, pqPrekeyID: 9)) {
            try SessionSetup.respond(identity: bob, prekeys: rotated, message: initial)
        }
    }

    @Test func lowOrderEphemeralKeyRefused() throws {
        let (alice, bob, bobPrekeys, invite) = try Self.parties()
        var rng = SeededRandom(seed: "alice low order")
        var (_, initial) = try SessionSetup.initiate(identity: alice, invite: invite, rng: &rng)
        initial.ephemeralKey = AgreementPublicKey(rawValue: .zero)
        #expect(throws: SessionSetupError.weakPublicKey) {
            try SessionSetup.respond(identity: bob, prekeys: bobPrekeys, message: initial)
        }
    }

    @Test func initialMessageDecoderIsStrict() throws {
        let (alice, _, _, invite) = try Self.parties()
        var rng = SeededRandom(seed: "alice decode")
        let wire = try SessionSetup.initiate(identity: alice, invite: invite, rng: &rng).initialMessage.encoded
        #expect(throws: DecodeError.incomplete(deficit: 1)) { try InitialMessage.decode(Array(wire.dropLast())) }
        #expect(throws: DecodeError.trailingBytes(count: 1)) { try InitialMessage.decode(wire + [0]) }
        var badVersion = wire
        badVersion[0] = 2
        #expect(throws: DecodeError.self) { try InitialMessage.decode(badVersion) }
        var fuzz = SeededRandom(seed: "initial fuzz")
        for _ in 0..<500 {
            let bytes = fuzz.bytes(Int.random(in: 0...1200, using: &fuzz))
            _ = try? InitialMessage.decode(bytes)
        }
    }

    // MARK: Vector

    static func makeVector() throws -> InviteVector {
        let invite = try InviteFixture.invite()
        let (bob, _) = InviteFixture.keys("invite bob")
        var aliceRNG = SeededRandom(seed: "invite vector alice")
        let alice = SessionSetup.Identity(using: &aliceRNG)
        var (ratchet, initial) = try SessionSetup.initiate(identity: alice, invite: invite, rng: &aliceRNG)
        let ad = SessionSetup.associatedData(initiator: alice.agreement.publicKey, responder: bob.agreement.publicKey)
        let plaintext = "hello bob, post-quantum"
        let first = try ratchet.encrypt(Array(plaintext.utf8), associatedData: ad, rng: &aliceRNG)
        return InviteVector(bobSeed: "invite bob", now: now.seconds, inviteURI: invite.uri,
                            aliceSeed: "invite vector alice", initialMessage: Hex.encode(initial.encoded),
                            firstMessage: Hex.encode(first.encoded), plaintext: plaintext)
    }

    @Test func vectorFile() throws {
        let (checkedIn, generated) = try VectorFile.check("invite.json", Self.makeVector())
        // Deterministic parts: the invite from Bob's seed.
        #expect(checkedIn.bobSeed == generated.bobSeed)
        #expect(checkedIn.inviteURI == generated.inviteURI)
        #expect(checkedIn.aliceSeed == generated.aliceSeed)
        #expect(checkedIn.plaintext == generated.plaintext)
        // The recorded session start: Bob rebuilt from his seed accepts it.
        let invite = try Invite.parse(uri: checkedIn.inviteURI, now: UnixTime(seconds: checkedIn.now))
        let (bob, bobPrekeys) = InviteFixture.keys(checkedIn.bobSeed)
        #expect(invite.identityKey == bob.signing.publicKey)
        let initial = try InitialMessage.decode(Hex.decode(checkedIn.initialMessage))
        var alice = SeededRandom(seed: checkedIn.aliceSeed)
        #expect(initial.identityAgreementKey == SessionSetup.Identity(using: &alice).agreement.publicKey)
        var bobRatchet = try SessionSetup.respond(identity: bob, prekeys: bobPrekeys, message: initial)
        let ad = SessionSetup.associatedData(initiator: initial.identityAgreementKey, responder: bob.agreement.publicKey)
        let plaintext = try bobRatchet.decrypt(Hex.decode(checkedIn.firstMessage), associatedData: ad)
        #expect(plaintext == Array(checkedIn.plaintext.utf8))
    }
}
