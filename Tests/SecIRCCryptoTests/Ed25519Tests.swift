import SecIRCCrypto
import Testing

/// RFC 8032 §7.1 known answers, tamper rejection, and IDs.
@Suite("Ed25519")
struct Ed25519Tests {
    struct Vector: Sendable, CustomTestStringConvertible {
        let name: String
        let seed: String
        let publicKey: String
        let message: String
        let signature: String
        var testDescription: String { name }
    }

    static let rfc8032: [Vector] = [
        Vector(name: "TEST 1",
               seed: "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
               publicKey: "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
               message: "",
               signature: "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"),
        Vector(name: "TEST 2",
               seed: "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
               publicKey: "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
               message: "72",
               signature: "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"),
        Vector(name: "TEST 3",
               seed: "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
               publicKey: "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
               message: "af82",
               signature: "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"),
        Vector(name: "TEST SHA(abc)",
               seed: "833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42",
               publicKey: "ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf",
               message: "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
               signature: "dc2a4459e7369633a52b1bf277839a00201009a3efbf3ecb69bea2186c26b58909351fc9ac90b3ecfdfbc7c66431e0303dca179c138ac17ad9bef1177331a704"),
    ]

    @Test("RFC 8032 §7.1: public key from seed, exact signature, verifies", arguments: rfc8032)
    func knownAnswer(_ vector: Vector) throws {
        let key = try SigningPrivateKey(seed: hexBytes(vector.seed))
        #expect(key.publicKey.rawValue.hex == vector.publicKey)
        #expect(key.publicKey.bytes == (try hexBytes(vector.publicKey)))

        let message = try hexBytes(vector.message)
        let signature = key.sign(message)
        #expect(signature.hex == vector.signature)
        #expect(signature.description == vector.signature)

        // The published signature verifies under the published public key.
        let publicKey = try SigningPublicKey(bytes: hexBytes(vector.publicKey))
        let published = try Signature(bytes: hexBytes(vector.signature))
        try publicKey.verify(published, for: message)
        try message.withUnsafeBytes { try publicKey.verify(published, for: $0) }

        // The seed comes back out unchanged.
        #expect(Hex.encode(key.seed().unsafeCopy()) == vector.seed)
    }

    @Test("every single-bit flip of the signature (all 512 bits) is rejected", arguments: rfc8032)
    func signatureBitFlips(_ vector: Vector) throws {
        let publicKey = try SigningPublicKey(bytes: hexBytes(vector.publicKey))
        let message = try hexBytes(vector.message)
        let signature = try hexBytes(vector.signature)
        var accepted: [Int] = []
        var wrongError: [Int] = []
        for bit in 0..<(Signature.byteCount * 8) {
            let tampered = try Signature(bytes: flippingBit(bit, of: signature))
            do {
                try publicKey.verify(tampered, for: message)
                accepted.append(bit)
            } catch let error as CryptoError where error == .invalidSignature {
                // expected
            } catch {
                wrongError.append(bit)
            }
        }
        #expect(accepted.isEmpty, "tampered signatures accepted at bits \(accepted)")
        #expect(wrongError.isEmpty, "unexpected error kind at bits \(wrongError)")
    }

    @Test("a bit flip in the message, or an extra byte, is rejected", arguments: rfc8032)
    func messageTampering(_ vector: Vector) throws {
        let publicKey = try SigningPublicKey(bytes: hexBytes(vector.publicKey))
        let message = try hexBytes(vector.message)
        let signature = try Signature(bytes: hexBytes(vector.signature))
        var accepted: [Int] = []
        for bit in 0..<(message.count * 8) {
            do {
                try publicKey.verify(signature, for: flippingBit(bit, of: message))
                accepted.append(bit)
            } catch {
                #expect(error as? CryptoError == .invalidSignature)
            }
        }
        #expect(accepted.isEmpty, "tampered messages accepted at bits \(accepted)")
        #expect(throws: CryptoError.invalidSignature) { try publicKey.verify(signature, for: message + [0]) }
        if !message.isEmpty {
            #expect(throws: CryptoError.invalidSignature) { try publicKey.verify(signature, for: Array(message.dropLast())) }
        }
    }

    @Test("a signature does not verify under another vector's public key")
    func wrongPublicKey() throws {
        let first = Self.rfc8032[0]
        let other = try SigningPublicKey(bytes: hexBytes(Self.rfc8032[1].publicKey))
        let signature = try Signature(bytes: hexBytes(first.signature))
        #expect(throws: CryptoError.invalidSignature) { try other.verify(signature, for: hexBytes(first.message)) }
    }

    @Test("ID is SHA-256 of the public key as 64 lowercase hex digits", arguments: rfc8032)
    func identity(_ vector: Vector) throws {
        let key = try SigningPrivateKey(seed: hexBytes(vector.seed))
        let id = key.publicKey.id
        #expect(id == ID(of: key.publicKey))
        #expect(id.rawValue == SHA256.hash(key.publicKey.bytes))
        #expect(id.hex.count == 64)
        #expect(id.hex.allSatisfy { "0123456789abcdef".contains($0) })
        #expect(id.description == id.hex)
        #expect(try ID(hex: id.hex) == id)
        #expect(try ID(hex: id.hex.uppercased()) == id)
    }

    @Test("ID of RFC 8032 TEST 1's public key (SHA-256 computed independently)")
    func identityKnownAnswer() throws {
        let publicKey = try SigningPublicKey(bytes: hexBytes(Self.rfc8032[0].publicKey))
        #expect(publicKey.id.hex == "21fe31dfa154a261626bf854046fd2271b7bed4b6abe45aa58877ef47f9721b9")
    }

    @Test("IDs order as their bytes do")
    func identityOrdering() throws {
        let low = try ID(hex: "00" + String(repeating: "ff", count: 31))
        let high = try ID(hex: "01" + String(repeating: "00", count: 31))
        #expect(low < high)
        #expect(!(high < low))
        #expect(!(low < low))
    }

    @Test("random keys sign and verify; SeededRandom keys are repeatable")
    func randomKeys() throws {
        var system = SystemRandom()
        let key = SigningPrivateKey(using: &system)
        let message = Array("hello secIRC".utf8)
        try key.publicKey.verify(key.sign(message), for: message)

        var first = SeededRandom(seed: "ed25519 repeatable")
        var second = SeededRandom(seed: "ed25519 repeatable")
        #expect(SigningPrivateKey(using: &first).publicKey == SigningPrivateKey(using: &second).publicKey)
        #expect(SigningPrivateKey(using: &first).publicKey != key.publicKey)
    }

    @Test("wrong lengths throw invalidLength")
    func wrongLengths() {
        #expect(throws: CryptoError.invalidLength(what: "Ed25519 seed", expected: 32, actual: 31)) {
            try SigningPrivateKey(seed: [UInt8](repeating: 1, count: 31))
        }
        #expect(throws: CryptoError.invalidLength(what: "Ed25519 public key", expected: 32, actual: 33)) {
            try SigningPublicKey(bytes: [UInt8](repeating: 1, count: 33))
        }
        #expect(throws: CryptoError.invalidLength(what: "Ed25519 signature", expected: 64, actual: 63)) {
            try Signature(bytes: [UInt8](repeating: 1, count: 63))
        }
        #expect(throws: CryptoError.invalidLength(what: "ID", expected: 32, actual: 31)) {
            try ID(hex: String(repeating: "ab", count: 31))
        }
    }

    @Test("the private key's description shows no part of the seed")
    func privateKeyDescription() throws {
        let vector = Self.rfc8032[0]
        let key = try SigningPrivateKey(seed: hexBytes(vector.seed))
        #expect(!key.description.contains(vector.seed))
        #expect(!key.description.contains(String(vector.seed.prefix(16))))
        #expect(key.description.contains(vector.publicKey))
    }
}
