import SecIRCCore
import SecIRCCrypto
import Testing

/// `Vectors/ratchet.json`: fixed-seed keys, the first KDF steps and a four-message conversation
/// (Alice, Alice, Bob, Alice) in hex, for other implementations to check against.
struct RatchetVector: Codable, Equatable {
    struct KDF: Codable, Equatable {
        var rootKeyIn: String
        var dhOutput: String
        var rootKeyOut: String
        var chainKeyOut: String
        var messageKey: String
        var nextChainKey: String
    }

    struct Message: Codable, Equatable {
        var from: String
        var plaintext: String
        var encoded: String
    }

    var aliceSeed: String
    var bobSeed: String
    var sharedSecret: String
    var bobRatchetPrivateKey: String
    var bobRatchetPublicKey: String
    var associatedData: String
    var kdf: KDF
    var messages: [Message]
}

@Suite struct RatchetVectorTests {
    static let aliceSeed = "ratchet vector alice"
    static let bobSeed = "ratchet vector bob"
    static let plaintexts = ["hello bob", "second, same chain", "hello alice", "new chain"]
    static let senders = ["alice", "alice", "bob", "alice"]

    static func hex(_ key: SymmetricKey) -> String { key.withUnsafeBytes { Hex.encode($0) } }
    static func hex(_ secret: SecureBytes) -> String { secret.withUnsafeBytes { Hex.encode($0) } }

    static func makeVector() throws -> RatchetVector {
        var keys = SeededRandom(seed: "ratchet vector keys")
        let sharedSecret = SymmetricKey(using: &keys)
        let bobKey = AgreementPrivateKey(using: &keys)
        let ad = Array("secIRC ratchet vector".utf8)

        var aliceRNG = SeededRandom(seed: aliceSeed)
        var bobRNG = SeededRandom(seed: bobSeed)
        var alice = try DoubleRatchet(initiatorWith: sharedSecret, remoteRatchetKey: bobKey.publicKey, rng: &aliceRNG)
        var bob = DoubleRatchet(responderWith: sharedSecret, ratchetKeyPair: bobKey)

        // KDF_RK and KDF_CK for Alice's first sending chain, computed from the primitives.
        let dh = try bobKey.sharedSecret(with: alice.ratchetPublicKey)
        let (rootKey, chainKey) = RatchetKDF.rootStep(rootKey: sharedSecret, dhOutput: dh)
        let (messageKey, nextChainKey) = RatchetKDF.chainStep(chainKey)

        var messages: [RatchetVector.Message] = []
        for (text, sender) in zip(plaintexts, senders) {
            let m: RatchetMessage
            if sender == "alice" {
                m = try alice.encrypt(Array(text.utf8), associatedData: ad, rng: &aliceRNG)
                #expect(try bob.decrypt(m, associatedData: ad) == Array(text.utf8))
            } else {
                m = try bob.encrypt(Array(text.utf8), associatedData: ad, rng: &bobRNG)
                #expect(try alice.decrypt(m, associatedData: ad) == Array(text.utf8))
            }
            messages.append(.init(from: sender, plaintext: Hex.encode(Array(text.utf8)), encoded: Hex.encode(m.encoded)))
        }
        return RatchetVector(
            aliceSeed: aliceSeed, bobSeed: bobSeed, sharedSecret: hex(sharedSecret),
            bobRatchetPrivateKey: bobKey.withUnsafeScalar { Hex.encode($0) },
            bobRatchetPublicKey: bobKey.publicKey.rawValue.hex, associatedData: Hex.encode(ad),
            kdf: .init(rootKeyIn: hex(sharedSecret), dhOutput: hex(dh), rootKeyOut: hex(rootKey), chainKeyOut: hex(chainKey),
                       messageKey: hex(messageKey), nextChainKey: hex(nextChainKey)),
            messages: messages)
    }

    @Test func ratchetVectorRegeneratesAndDecrypts() throws {
        let (vector, generated) = try VectorFile.check("ratchet.json", Self.makeVector())
        #expect(vector == generated)
        #expect(vector.messages.count == 4)

        // Bob, from the checked-in keys alone, reads everything Alice sent.
        let sharedSecret = try SymmetricKey(bytes: Hex.decode(vector.sharedSecret))
        let bobKey = try AgreementPrivateKey(bytes: Hex.decode(vector.bobRatchetPrivateKey))
        #expect(bobKey.publicKey.rawValue.hex == vector.bobRatchetPublicKey)
        let ad = try Hex.decode(vector.associatedData)
        var bob = DoubleRatchet(responderWith: sharedSecret, ratchetKeyPair: bobKey)
        var bobRNG = SeededRandom(seed: vector.bobSeed)
        for message in vector.messages {
            let plaintext = try Hex.decode(message.plaintext)
            if message.from == "alice" {
                #expect(try bob.decrypt(Hex.decode(message.encoded), associatedData: ad) == plaintext)
            } else {
                #expect(try bob.encrypt(plaintext, associatedData: ad, rng: &bobRNG).encoded == Hex.decode(message.encoded))
            }
        }

        // The KDF values follow from each other.
        let rootIn = try SymmetricKey(bytes: Hex.decode(vector.kdf.rootKeyIn))
        let (rootOut, chainOut) = RatchetKDF.rootStep(rootKey: rootIn, dhOutput: SecureBytes(try Hex.decode(vector.kdf.dhOutput)))
        #expect(Self.hex(rootOut) == vector.kdf.rootKeyOut)
        #expect(Self.hex(chainOut) == vector.kdf.chainKeyOut)
        let (messageKey, nextChainKey) = RatchetKDF.chainStep(chainOut)
        #expect(Self.hex(messageKey) == vector.kdf.messageKey)
        #expect(Self.hex(nextChainKey) == vector.kdf.nextChainKey)

        // The first message is sealed with mk[0..<32] and nonce mk[32..<56] over AD || header.
        let first = try RatchetMessage.decode(Hex.decode(vector.messages[0].encoded))
        let mk = try Hex.decode(vector.kdf.messageKey)
        let opened = try XChaCha20Poly1305.open(first.ciphertext, key: SymmetricKey(bytes: Array(mk[0..<32])),
                                                nonce: Array(mk[32..<56]), associatedData: ad + first.header.encoded)
        #expect(opened == (try Hex.decode(vector.messages[0].plaintext)))
    }
}
