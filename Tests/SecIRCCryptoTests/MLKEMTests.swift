import SecIRCCrypto
import Testing

/// ML-KEM-768 through the swift-crypto wrapper: sizes, round trip, implicit rejection,
/// validation of untrusted keys and ciphertexts, deterministic generation from a seed.
@Suite("ML-KEM-768")
struct MLKEMTests {
    @Test func roundTrip() throws {
        var rng = SeededRandom(seed: "mlkem round trip")
        let key = KEMPrivateKey(using: &rng)
        #expect(key.publicKey.bytes.count == KEMPublicKey.byteCount)
        let (secret, ciphertext) = try KEM.encapsulate(to: key.publicKey)
        #expect(secret.count == KEM.sharedSecretByteCount)
        #expect(ciphertext.bytes.count == KEMCiphertext.byteCount)
        #expect(try key.decapsulate(ciphertext) == secret)
    }

    /// Known answer: the first (d || z) → public key case of BoringSSL's ML-KEM-768 key
    /// generation vectors (swift-crypto `Tests/CryptoTests/KEM/MLKEM768_BSSLKAT.json`), compared
    /// by the SHA-256 of the 1184-byte key.
    @Test func knownAnswerKeyGeneration() throws {
        let seed = try hexBytes("7c9935a0b07694aa0c6d10e4db6b1add2fd81a25ccb148032dcd739936737f2d"
            + "8626ed79d451140800e03b59b956f8210e556067407d13dc90fa9e8b872bfb8f")
        let key = try KEMPrivateKey(seed: SecureBytes(seed))
        #expect(SHA256.hash(key.publicKey.bytes).hex == "86adbca81f4fee893e2fb58fb98aa2fe188f501fed268d7f4056f8c05c4e53c4")
    }

    @Test func publicKeyRoundTripsThroughBytes() throws {
        var rng = SeededRandom(seed: "mlkem public bytes")
        let key = KEMPrivateKey(using: &rng)
        let parsed = try KEMPublicKey(bytes: key.publicKey.bytes)
        #expect(parsed == key.publicKey)
        let (secret, ciphertext) = try KEM.encapsulate(to: parsed)
        #expect(try key.decapsulate(ciphertext) == secret)
    }

    @Test func seededGenerationIsDeterministic() throws {
        var a = SeededRandom(seed: "mlkem seeded")
        var b = SeededRandom(seed: "mlkem seeded")
        var c = SeededRandom(seed: "mlkem other")
        let keyA = KEMPrivateKey(using: &a)
        let keyB = KEMPrivateKey(using: &b)
        let keyC = KEMPrivateKey(using: &c)
        #expect(keyA.publicKey == keyB.publicKey)
        #expect(keyA.publicKey != keyC.publicKey)
        #expect(keyA.seed() == keyB.seed())
        // Restoring from the stored seed gives the same key.
        let restored = try KEMPrivateKey(seed: keyA.seed())
        #expect(restored.publicKey == keyA.publicKey)
        let (secret, ciphertext) = try KEM.encapsulate(to: keyA.publicKey)
        #expect(try restored.decapsulate(ciphertext) == secret)
    }

    @Test func encapsulationIsRandomised() throws {
        var rng = SeededRandom(seed: "mlkem randomised")
        let key = KEMPrivateKey(using: &rng)
        let first = try KEM.encapsulate(to: key.publicKey)
        let second = try KEM.encapsulate(to: key.publicKey)
        #expect(first.ciphertext != second.ciphertext)
        #expect(first.sharedSecret != second.sharedSecret)
    }

    @Test(arguments: [0, 1, 32, 1183, 1185, 2368])
    func wrongLengthPublicKeyRejected(_ count: Int) {
        #expect(throws: CryptoError.invalidLength(what: "ML-KEM-768 public key", expected: 1184, actual: count)) {
            try KEMPublicKey(bytes: [UInt8](repeating: 7, count: count))
        }
    }

    @Test func publicKeyFailingModulusCheckRejected() {
        // Every 12-bit coefficient 0xFFF ≥ q = 3329.
        #expect(throws: CryptoError.self) { try KEMPublicKey(bytes: [UInt8](repeating: 0xFF, count: 1184)) }
    }

    @Test(arguments: [0, 1, 1087, 1089, 1184])
    func wrongLengthCiphertextRejected(_ count: Int) {
        #expect(throws: CryptoError.invalidLength(what: "ML-KEM-768 ciphertext", expected: 1088, actual: count)) {
            try KEMCiphertext(bytes: [UInt8](repeating: 1, count: count))
        }
    }

    @Test(arguments: [0, 32, 63, 65])
    func wrongLengthSeedRejected(_ count: Int) {
        #expect(throws: CryptoError.invalidLength(what: "ML-KEM-768 seed", expected: 64, actual: count)) {
            try KEMPrivateKey(seed: SecureBytes([UInt8](repeating: 3, count: count)))
        }
    }

    @Test(arguments: [0, 7, 543, 1087 * 8 + 7])
    func tamperedCiphertextGivesDifferentSecret(_ bit: Int) throws {
        var rng = SeededRandom(seed: "mlkem tamper")
        let key = KEMPrivateKey(using: &rng)
        let (secret, ciphertext) = try KEM.encapsulate(to: key.publicKey)
        let tampered = try KEMCiphertext(bytes: flippingBit(bit, of: ciphertext.bytes))
        let other = try key.decapsulate(tampered)
        #expect(other.count == KEM.sharedSecretByteCount)
        #expect(other != secret)
        // Implicit rejection is deterministic: the same forgery gives the same secret.
        #expect(try key.decapsulate(tampered) == other)
    }

    @Test func wrongKeyGivesDifferentSecret() throws {
        var rng = SeededRandom(seed: "mlkem wrong key")
        let key = KEMPrivateKey(using: &rng)
        let otherKey = KEMPrivateKey(using: &rng)
        let (secret, ciphertext) = try KEM.encapsulate(to: key.publicKey)
        #expect(try otherKey.decapsulate(ciphertext) != secret)
    }

    @Test func secretsAreNotPrinted() {
        var rng = SeededRandom(seed: "mlkem print")
        let key = KEMPrivateKey(using: &rng)
        #expect("\(key)" == "KEMPrivateKey(<redacted>)")
        #expect("\(key.seed())" == "<redacted 64 bytes>")
    }
}
