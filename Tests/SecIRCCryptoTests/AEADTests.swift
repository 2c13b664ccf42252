import SecIRCCrypto
import Testing

/// XChaCha20-Poly1305 (draft-irtf-cfrg-xchacha-03 §A.3.1) and the bare XChaCha20 stream.
@Suite("XChaCha20-Poly1305")
struct AEADTests {
    static let plaintextHex = "4c616469657320616e642047656e746c656d656e206f662074686520636c617373206f66202739393a204966204920636f756c64206f6666657220796f75206f6e6c79206f6e652074697020666f7220746865206675747572652c2073756e73637265656e20776f756c642062652069742e"
    static let aadHex = "50515253c0c1c2c3c4c5c6c7"
    static let keyHex = "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
    static let nonceHex = "404142434445464748494a4b4c4d4e4f5051525354555657"
    static let ciphertextHex = "bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb731c7f1b0b4aa6440bf3a82f4eda7e39ae64c6708c54c216cb96b72e1213b4522f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff921f9664c97637da9768812f615c68b13b52e"
    static let tagHex = "c0875924c1c7987947deafd8780acf49"

    struct Fixture {
        let plaintext: [UInt8]
        let aad: [UInt8]
        let key: SymmetricKey
        let nonce: [UInt8]
        let sealed: [UInt8]

        init() throws {
            plaintext = try hexBytes(AEADTests.plaintextHex)
            aad = try hexBytes(AEADTests.aadHex)
            key = try SymmetricKey(bytes: hexBytes(AEADTests.keyHex))
            nonce = try hexBytes(AEADTests.nonceHex)
            sealed = try hexBytes(AEADTests.ciphertextHex + AEADTests.tagHex)
        }
    }

    @Test("§A.3.1: seal gives exactly ciphertext || tag, open gives the plaintext")
    func knownAnswer() throws {
        let f = try Fixture()
        #expect(String(decoding: f.plaintext, as: UTF8.self).hasPrefix("Ladies and Gentlemen of the class of '99"))
        let sealed = try XChaCha20Poly1305.seal(f.plaintext, key: f.key, nonce: f.nonce, associatedData: f.aad)
        #expect(sealed.count == f.plaintext.count + XChaCha20Poly1305.tagByteCount)
        #expect(Hex.encode(sealed) == Self.ciphertextHex + Self.tagHex)
        let opened = try XChaCha20Poly1305.open(f.sealed, key: f.key, nonce: f.nonce, associatedData: f.aad)
        #expect(opened == f.plaintext)
    }

    @Test("every single-bit flip of ciphertext || tag is rejected with authenticationFailed")
    func everyBitFlip() throws {
        let f = try Fixture()
        var accepted: [Int] = []
        var wrongError: [Int] = []
        for bit in 0..<(f.sealed.count * 8) {
            do {
                _ = try XChaCha20Poly1305.open(flippingBit(bit, of: f.sealed), key: f.key, nonce: f.nonce, associatedData: f.aad)
                accepted.append(bit)
            } catch let error as CryptoError where error == .authenticationFailed {
                // expected
            } catch {
                wrongError.append(bit)
            }
        }
        #expect(f.sealed.count * 8 == (114 + 16) * 8)
        #expect(accepted.isEmpty, "tampered ciphertexts accepted at bits \(accepted)")
        #expect(wrongError.isEmpty, "unexpected error kind at bits \(wrongError)")
    }

    @Test("wrong associated data, nonce or key is rejected")
    func wrongInputs() throws {
        let f = try Fixture()
        #expect(throws: CryptoError.authenticationFailed) {
            try XChaCha20Poly1305.open(f.sealed, key: f.key, nonce: f.nonce, associatedData: flippingBit(0, of: f.aad))
        }
        #expect(throws: CryptoError.authenticationFailed) {
            try XChaCha20Poly1305.open(f.sealed, key: f.key, nonce: f.nonce, associatedData: [])
        }
        #expect(throws: CryptoError.authenticationFailed) {
            try XChaCha20Poly1305.open(f.sealed, key: f.key, nonce: f.nonce, associatedData: f.aad + [0])
        }
        // A change in the last nonce byte: only XChaCha's extended (HChaCha20) part sees bytes 16..<24.
        #expect(throws: CryptoError.authenticationFailed) {
            try XChaCha20Poly1305.open(f.sealed, key: f.key, nonce: flippingBit(23 * 8, of: f.nonce), associatedData: f.aad)
        }
        #expect(throws: CryptoError.authenticationFailed) {
            try XChaCha20Poly1305.open(f.sealed, key: f.key, nonce: flippingBit(0, of: f.nonce), associatedData: f.aad)
        }
        let otherKey = try SymmetricKey(bytes: flippingBit(255, of: hexBytes(Self.keyHex)))
        #expect(throws: CryptoError.authenticationFailed) {
            try XChaCha20Poly1305.open(f.sealed, key: otherKey, nonce: f.nonce, associatedData: f.aad)
        }
    }

    @Test("truncated input is rejected", arguments: [0, 1, 15, 16, 17, 129])
    func truncated(_ length: Int) throws {
        let f = try Fixture()
        #expect(throws: CryptoError.authenticationFailed) {
            try XChaCha20Poly1305.open(Array(f.sealed.prefix(length)), key: f.key, nonce: f.nonce, associatedData: f.aad)
        }
    }

    @Test("a nonce of the wrong length throws invalidLength", arguments: [0, 12, 23, 25])
    func wrongNonceLength(_ length: Int) throws {
        let f = try Fixture()
        let nonce = [UInt8](repeating: 0, count: length)
        let expected = CryptoError.invalidLength(what: "XChaCha20-Poly1305 nonce", expected: 24, actual: length)
        #expect(throws: expected) { try XChaCha20Poly1305.seal(f.plaintext, key: f.key, nonce: nonce) }
        #expect(throws: expected) { try XChaCha20Poly1305.open(f.sealed, key: f.key, nonce: nonce) }
    }

    @Test("an empty plaintext seals to a bare tag and opens back to empty")
    func emptyPlaintext() throws {
        let f = try Fixture()
        let sealed = try XChaCha20Poly1305.seal([], key: f.key, nonce: f.nonce, associatedData: f.aad)
        #expect(sealed.count == XChaCha20Poly1305.tagByteCount)
        #expect(try XChaCha20Poly1305.open(sealed, key: f.key, nonce: f.nonce, associatedData: f.aad) == [])
        #expect(throws: CryptoError.authenticationFailed) {
            try XChaCha20Poly1305.open(sealed, key: f.key, nonce: f.nonce, associatedData: [])
        }
    }

    @Test("combined seal/open with SeededRandom: layout, round trip, repeatability, tampering")
    func combinedRoundTrip() throws {
        let key = seededKey("aead combined key")
        let message = Array("meet at the relay at noon".utf8)
        let aad = Array("header".utf8)

        var rng = SeededRandom(seed: "aead combined nonce")
        let combined = XChaCha20Poly1305.seal(message, key: key, associatedData: aad, using: &rng)
        #expect(combined.count == XChaCha20Poly1305.nonceByteCount + message.count + XChaCha20Poly1305.tagByteCount)
        #expect(try XChaCha20Poly1305.open(combined: combined, key: key, associatedData: aad) == message)

        // nonce || (ciphertext || tag) under that nonce.
        let nonce = Array(combined.prefix(XChaCha20Poly1305.nonceByteCount))
        let detached = try XChaCha20Poly1305.seal(message, key: key, nonce: nonce, associatedData: aad)
        #expect(Array(combined.dropFirst(XChaCha20Poly1305.nonceByteCount)) == detached)

        // The same seed gives the same output; the next seal uses a fresh nonce.
        var again = SeededRandom(seed: "aead combined nonce")
        #expect(XChaCha20Poly1305.seal(message, key: key, associatedData: aad, using: &again) == combined)
        let second = XChaCha20Poly1305.seal(message, key: key, associatedData: aad, using: &rng)
        #expect(second.prefix(24) != combined.prefix(24))
        #expect(second != combined)

        #expect(throws: CryptoError.authenticationFailed) {
            try XChaCha20Poly1305.open(combined: combined, key: key, associatedData: [])
        }
        #expect(throws: CryptoError.authenticationFailed) {
            try XChaCha20Poly1305.open(combined: flippingBit(3, of: combined), key: key, associatedData: aad)
        }
        #expect(throws: CryptoError.authenticationFailed) {
            try XChaCha20Poly1305.open(combined: flippingBit(combined.count * 8 - 1, of: combined), key: key, associatedData: aad)
        }
        #expect(throws: CryptoError.authenticationFailed) {
            try XChaCha20Poly1305.open(combined: Array(combined.prefix(39)), key: key, associatedData: aad)
        }
        #expect(throws: CryptoError.authenticationFailed) {
            try XChaCha20Poly1305.open(combined: [], key: key)
        }
        #expect(throws: CryptoError.authenticationFailed) {
            try XChaCha20Poly1305.open(combined: combined, key: seededKey("another key"), associatedData: aad)
        }
    }

    @Test("SystemRandom seals of the same message differ and both open")
    func systemRandomSeal() throws {
        let key = seededKey("aead system key")
        var rng = SystemRandom()
        let a = XChaCha20Poly1305.seal([1, 2, 3], key: key, using: &rng)
        let b = XChaCha20Poly1305.seal([1, 2, 3], key: key, using: &rng)
        #expect(a != b)
        #expect(try XChaCha20Poly1305.open(combined: a, key: key) == [1, 2, 3])
        #expect(try XChaCha20Poly1305.open(combined: b, key: key) == [1, 2, 3])
    }

    @Test("bare XChaCha20 matches the AEAD ciphertext at block counter 1 and is its own inverse")
    func bareStream() throws {
        let f = try Fixture()
        let nonce = f.nonce
        let key = try hexBytes(Self.keyHex)
        // The AEAD keystream starts at block 1 (block 0 gives the Poly1305 key): XOR 64 zero
        // bytes ahead of the plaintext and the rest lines up with the published ciphertext.
        var buffer = [UInt8](repeating: 0, count: 64) + f.plaintext
        buffer.withUnsafeMutableBytes { b in
            key.withUnsafeBytes { k in nonce.withUnsafeBytes { n in XChaCha20.xor(b, key: k, nonce: n) } }
        }
        #expect(Hex.encode(buffer.dropFirst(64)) == Self.ciphertextHex)

        buffer.withUnsafeMutableBytes { b in
            key.withUnsafeBytes { k in nonce.withUnsafeBytes { n in XChaCha20.xor(b, key: k, nonce: n) } }
        }
        #expect(buffer == [UInt8](repeating: 0, count: 64) + f.plaintext)
    }
}
