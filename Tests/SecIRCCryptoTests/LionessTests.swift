import SecIRCCrypto
import Testing

/// The Lioness wide-block cipher.
@Suite("Lioness")
struct LionessTests {
    static func cipher(_ seed: String = "lioness key") throws -> Lioness {
        try Lioness(key: seededSecret(Lioness.keyByteCount, seed: seed))
    }

    static func block(_ count: Int, seed: String = "lioness block") -> [UInt8] {
        var rng = SeededRandom(seed: seed)
        return rng.bytes(count)
    }

    @Test("decrypt(encrypt(x)) == x, and encryption changes both halves",
          arguments: [33, 34, 63, 64, 65, 100, 1000, 1024, 2048 + 7])
    func roundTrip(_ length: Int) throws {
        let lioness = try Self.cipher()
        let plaintext = Self.block(length)
        var block = plaintext
        try lioness.encrypt(&block)
        #expect(block.count == length)
        #expect(block != plaintext)
        #expect(block.prefix(32) != plaintext.prefix(32))
        #expect(block.dropFirst(32) != plaintext.dropFirst(32))
        try lioness.decrypt(&block)
        #expect(block == plaintext)
    }

    @Test("an all-zero block round-trips and encrypts to something non-zero")
    func zeroBlock() throws {
        let lioness = try Self.cipher()
        let zeros = [UInt8](repeating: 0, count: 100)
        var block = zeros
        try lioness.encrypt(&block)
        #expect(differingBytes(block, zeros) > 90)
        try lioness.decrypt(&block)
        #expect(block == zeros)
    }

    @Test("encryption is deterministic and depends on the key")
    func keyDependence() throws {
        let plaintext = Self.block(200)
        var a = plaintext, b = plaintext, c = plaintext
        try Self.cipher("key one").encrypt(&a)
        try Self.cipher("key one").encrypt(&b)
        try Self.cipher("key two").encrypt(&c)
        #expect(a == b)
        #expect(a != c)
        #expect(differingBytes(a, c) > 180)
    }

    /// Encrypts a fixed 300-byte block under the test key, and under the test key with bit 7 of
    /// `keyByte` inverted.
    static func encryptWithKeyBitFlipped(_ keyByte: Int) throws -> (reference: [UInt8], changed: [UInt8]) {
        var keyBytes = seededSecret(Lioness.keyByteCount, seed: "lioness key").unsafeCopy()
        let plaintext = block(300)
        var reference = plaintext
        try Lioness(key: SecureBytes(keyBytes)).encrypt(&reference)
        keyBytes[keyByte] ^= 0x80
        var changed = plaintext
        try Lioness(key: SecureBytes(keyBytes)).encrypt(&changed)
        return (reference, changed)
    }

    @Test("a one-bit change of round key 0, 1 or 2 changes the whole ciphertext", arguments: [0, 31, 32, 63, 64, 95])
    func roundKeyDependence(_ keyByte: Int) throws {
        let (reference, changed) = try Self.encryptWithKeyBitFlipped(keyByte)
        #expect(differingBytes(reference.prefix(32), changed.prefix(32)) >= 28)
        #expect(differingBytes(reference.dropFirst(32), changed.dropFirst(32)) >= 240)
    }

    /// The last round is L ^= BLAKE2b(R, key: k3), so k3 masks L only (by construction).
    @Test("a one-bit change of round key 3 changes all of L and none of R", arguments: [96, 127])
    func lastRoundKey(_ keyByte: Int) throws {
        let (reference, changed) = try Self.encryptWithKeyBitFlipped(keyByte)
        #expect(differingBytes(reference.prefix(32), changed.prefix(32)) >= 28)
        #expect(reference.dropFirst(32) == changed.dropFirst(32))
    }

    @Test("the static key-buffer forms match the instance forms")
    func staticForms() throws {
        let key = seededSecret(Lioness.keyByteCount, seed: "lioness key")
        let lioness = try Lioness(key: key)
        let plaintext = Self.block(500)
        var viaInstance = plaintext
        try lioness.encrypt(&viaInstance)
        var viaStatic = plaintext
        try key.withUnsafeBytes { keys in try viaStatic.withUnsafeMutableBytes { try Lioness.encrypt($0, keys: keys) } }
        #expect(viaStatic == viaInstance)
        try key.withUnsafeBytes { keys in try viaStatic.withUnsafeMutableBytes { try Lioness.decrypt($0, keys: keys) } }
        #expect(viaStatic == plaintext)
    }

    /// Bit positions spread over L (bits 0..<256) and R: the first and last bits, every
    /// boundary around L/R, and 64 evenly spaced positions.
    static let flipPositions: [Int] = {
        let totalBits = 1000 * 8
        var positions: Set<Int> = [0, 1, 7, 8, 255, 256, 257, 263, totalBits - 1]
        for i in 0..<64 { positions.insert(i * (totalBits - 1) / 63) }
        for i in 0..<8 { positions.insert(3 + i * 31) } // extra coverage inside L
        return positions.sorted()
    }()

    @Test("any single-bit flip of a 1000-byte ciphertext scrambles the whole decrypted block")
    func wideBlockDiffusion() throws {
        let lioness = try Self.cipher()
        let plaintext = Self.block(1000)
        var ciphertext = plaintext
        try lioness.encrypt(&ciphertext)

        #expect(Self.flipPositions.count >= 66)
        #expect(Self.flipPositions.contains(0) && Self.flipPositions.contains(7999))
        #expect(Self.flipPositions.contains { $0 < 256 } && Self.flipPositions.contains { $0 >= 256 })

        var weak: [String] = []
        for bit in Self.flipPositions {
            var block = flippingBit(bit, of: ciphertext)
            try lioness.decrypt(&block)
            let leftDiffering = differingBytes(block.prefix(32), plaintext.prefix(32))
            let rightDiffering = differingBytes(block.dropFirst(32), plaintext.dropFirst(32))
            // At least 90 % of the bytes of each half must differ.
            if leftDiffering * 10 < 32 * 9 || rightDiffering * 10 < 968 * 9 {
                weak.append("bit \(bit): L \(leftDiffering)/32, R \(rightDiffering)/968")
            }
        }
        #expect(weak.isEmpty, "weak diffusion: \(weak)")
    }

    @Test("blocks shorter than 33 bytes throw invalidParameter", arguments: [0, 1, 31, 32])
    func tooShort(_ length: Int) throws {
        let lioness = try Self.cipher()
        var block = [UInt8](repeating: 9, count: length)
        let encryptError = #expect(throws: CryptoError.self) { try lioness.encrypt(&block) }
        let decryptError = #expect(throws: CryptoError.self) { try lioness.decrypt(&block) }
        for error in [encryptError, decryptError] {
            if case .invalidParameter = error {} else { Issue.record("expected invalidParameter, got \(String(describing: error))") }
        }
        #expect(block == [UInt8](repeating: 9, count: length))
    }

    @Test("a key that is not 128 bytes throws invalidLength", arguments: [0, 32, 127, 129, 256])
    func wrongKeyLength(_ length: Int) {
        #expect(throws: CryptoError.invalidLength(what: "Lioness key", expected: 128, actual: length)) {
            try Lioness(key: SecureBytes([UInt8](repeating: 1, count: length)))
        }
    }
}
