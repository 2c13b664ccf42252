import Foundation
import SecIRCCore
import SecIRCCrypto
import Testing

/// `Vectors/worked-example.json` (docs/PROTOCOL.md §10.7): regenerated from the seeds and the
/// recorded ML-KEM-768 encapsulation and compared, then the checked-in bytes walked through as
/// Bob's and Alice's clients (and the relays between them) would.
@Suite struct WorkedExampleTests {
    /// The file as checked in, and as made again with the file's encapsulation. When
    /// `SECIRC_WRITE_VECTORS=1`, a fresh encapsulation replaces it only if there is none for
    /// Bob's ML-KEM key (so writing the file again changes no byte unless something else did).
    static func vectors() throws -> (checkedIn: WorkedExample, generated: WorkedExample) {
        let generated = try WorkedExample.make { publicKey in
            if VectorFile.writing, (try? checkedIn())?.invite.pqPrekey != Hex.encode(publicKey.bytes) {
                return try KEM.encapsulate(to: publicKey)
            }
            return try recordedEncapsulation(checkedIn())
        }
        return try VectorFile.check(WorkedExample.fileName, generated)
    }

    /// The checked-in file.
    static func checkedIn() throws -> WorkedExample {
        let url = VectorFile.directory.appendingPathComponent(WorkedExample.fileName)
        return try JSONDecoder().decode(WorkedExample.self, from: Data(contentsOf: url))
    }

    static func recordedEncapsulation(_ vector: WorkedExample) throws -> (sharedSecret: SecureBytes, ciphertext: KEMCiphertext) {
        (SecureBytes(try Hex.decode(vector.setup.kemSharedSecretRecorded)),
         try KEMCiphertext(bytes: Hex.decode(vector.setup.kemCiphertextRecorded)))
    }

    @Test func regeneratesFromTheSeedsAndTheRecordedEncapsulation() throws {
        let (checkedIn, generated) = try Self.vectors()
        // Line by line, so a failure names the first field that differs rather than printing 70 kB.
        let lines = try [checkedIn, generated].map {
            String(decoding: try VectorFile.encode($0), as: UTF8.self).split(separator: "\n")
        }
        let first = lines[0].indices.first { $0 >= lines[1].count || lines[0][$0] != lines[1][$0] }
            ?? (lines[0].count == lines[1].count ? nil : lines[0].count)
        #expect(first == nil, "worked-example.json line \(first.map { $0 + 1 } ?? 0) differs from a fresh run")
    }

    @Test func bobDecapsulatesTheRecordedCiphertext() throws {
        let vector = try Self.checkedIn()
        var rng = RecordingRandom(seed: vector.bob.seed)
        let (_, prekeys, _) = try WorkedExample.makeBob(mailboxRelay: ID(rawValue: Bytes32(hex: vector.invite.mailboxRelayID)),
                                                        rng: &rng)
        #expect(Hex.encode(prekeys.pqPrekey.publicKey.bytes) == vector.invite.pqPrekey)
        let secret = try prekeys.pqPrekey.decapsulate(KEMCiphertext(bytes: Hex.decode(vector.setup.kemCiphertextRecorded)))
        #expect(Hex.encode(secret.unsafeCopy()) == vector.setup.kemSharedSecretRecorded)
        #expect(rng.draws == Array(vector.bob.draws.prefix(rng.draws.count)))
    }

    @Test func drawsFollowFromTheSeeds() throws {
        let vector = try Self.checkedIn()
        for (seed, draws) in [(vector.relaySeed, vector.relayDraws), (vector.bob.seed, vector.bob.draws),
                              (vector.alice.seed, vector.alice.draws)] {
            var rng = SeededRandom(seed: seed)
            for draw in draws {
                #expect(Hex.encode(rng.bytes(draw.bytes.count / 2)) == draw.bytes, "\(seed): \(draw.step)")
            }
        }
    }

    /// The invite URI parses to the recorded body and keys.
    @Test func inviteParses() throws {
        let vector = try Self.checkedIn()
        let invite = try Invite.parse(uri: vector.invite.uri, now: UnixTime(seconds: vector.now))
        #expect(Hex.encode(invite.body) == vector.invite.body)
        #expect(Hex.encode(invite.signature.bytes) == vector.invite.signature)
        #expect(invite.identityKey.rawValue.hex == vector.bob.identityKey)
        #expect(invite.identityAgreementKey.rawValue.hex == vector.bob.identityAgreementKey)
        let payload = try Hex.decode(vector.invite.body + vector.invite.signature)
        #expect(invite.uri == "secirc:" + Base64URL.encode(payload))
    }

    /// Each relay peels the checked-in packets; the mailbox relay delivers the sealed packets;
    /// the recipient opens and reassembles them into the session message.
    @Test(arguments: [0, 1, 2])
    func transferTravels(_ which: Int) throws {
        let vector = try Self.checkedIn()
        let transfer = which < 2 ? vector.aliceToBob[which] : vector.bobToAlice
        let recipient = which < 2 ? vector.bob : vector.alice
        let keys = WorkedExample.makeRelays().keys
        var reassembler = Reassembler()
        var message: [UInt8]?
        for (sphinx, sealed) in zip(transfer.sphinxPackets, transfer.sealedPackets) {
            var packet = try Hex.decode(sphinx)
            #expect(packet.count == PacketGeometry.standard.sphinxPacketLength)
            for (i, relay) in transfer.path.enumerated() {
                var processor = SphinxProcessor(replayCapacity: 8)
                processor.install(keys[relay])
                let result = processor.peel(&packet)
                #expect(result == (i == transfer.path.count - 1
                    ? .deliver(mailbox: try Bytes32(hex: transfer.deliverTo))
                    : .forward(relay: try Bytes32(hex: vector.relays[transfer.path[i + 1]].relayID), delayMilliseconds: 0)))
            }
            let body = Array(SphinxProcessor().body(ofDelivered: packet).prefix(PacketGeometry.standard.bodyLength))
            #expect(Hex.encode(body) == sealed)
            var rng = SeededRandom(seed: recipient.seed)
            let identity = SessionSetup.Identity(using: &rng)
            let fragment = try SealedPacket.open(body, with: identity.agreement)
            message = try reassembler.add(fragment, now: UnixTime(seconds: vector.now)) ?? message
        }
        #expect(message.map { Hex.encode($0) } == transfer.sessionMessage)
    }

    /// Bob accepts the set-up and decrypts both messages; Alice decrypts his receipt for them.
    @Test func bobAndAliceDecrypt() throws {
        let vector = try Self.checkedIn()
        var bobRNG = RecordingRandom(seed: vector.bob.seed)
        let (bob, prekeys, _) = try WorkedExample.makeBob(mailboxRelay: ID(rawValue: Bytes32(hex: vector.invite.mailboxRelayID)),
                                                          rng: &bobRNG)
        let messages = try vector.aliceToBob.map { try SessionMessage.decode(Hex.decode($0.sessionMessage)) }
        let setup = try #require(messages[0].setup)
        #expect(Hex.encode(setup.initialMessage.encoded) == vector.setup.initialMessage)
        #expect(Hex.encode(setup.card.encoded) == vector.setup.contactCard)
        let ad = try Hex.decode(vector.setup.associatedData)
        #expect(ad == SessionSetup.associatedData(initiator: setup.card.agreementKey, initiatorKey: setup.card.identityKey,
                                                  responder: bob.agreement.publicKey, responderKey: bob.signing.publicKey))
        var bobRatchet = try SessionSetup.respond(identity: bob, prekeys: prekeys, message: setup.initialMessage)
        for (message, transfer) in zip(messages, vector.aliceToBob) {
            #expect(message.setup == setup)
            let plaintext = try bobRatchet.decrypt(message.ratchetMessage, associatedData: ad)
            #expect(Hex.encode(plaintext) == transfer.envelope)
            #expect(try Envelope.decode(plaintext).id.hex == transfer.envelopeID)
        }
        #expect(try Envelope.decode(Hex.decode(vector.aliceToBob[1].envelope)).text == WorkedExample.text)

        // Alice's ratchet regenerated from her seed (what she sent since does not change what she
        // can receive: Bob's reply starts a new chain), then Bob's receipt.
        let receipt = try SessionMessage.decode(Hex.decode(vector.bobToAlice.sessionMessage))
        #expect(receipt.setup == nil && receipt.sender.rawValue.hex == vector.bob.identityKey)
        let invite = try Invite.parse(uri: vector.invite.uri, now: UnixTime(seconds: vector.now))
        var aliceRNG = SeededRandom(seed: vector.alice.seed)
        let alice = SessionSetup.Identity(using: &aliceRNG)
        _ = aliceRNG.bytes(32) // her deposit queue ID
        let kem = try Self.recordedEncapsulation(vector)
        var aliceRatchet = try SessionSetup.initiate(identity: alice, invite: invite, encapsulation: kem, rng: &aliceRNG).ratchet
        let envelope = try Envelope.decode(aliceRatchet.decrypt(receipt.ratchetMessage, associatedData: ad))
        #expect(Hex.encode(envelope.encoded) == vector.bobToAlice.envelope)
        #expect(try envelope.receiptIDs().map(\.hex) == vector.aliceToBob.map(\.envelopeID))
    }
}
