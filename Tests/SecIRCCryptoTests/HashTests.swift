import SecIRCCrypto
import Testing

/// BLAKE2b (RFC 7693) and SHA-256 (FIPS 180-2).
@Suite("Hashes")
struct HashTests {
    static let abc = Array("abc".utf8)

    @Test("RFC 7693 Appendix A: BLAKE2b-512(\"abc\")")
    func blake2b512() {
        let digest = BLAKE2b.hash(Self.abc, outputLength: 64)
        #expect(Hex.encode(digest) == "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d17d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923")
    }

    /// Cross-checked with Python's hashlib.blake2b(digest_size=32) / blake2b(key=00..1f).
    @Test("BLAKE2b-256(\"abc\"), plain and keyed with 00..1f")
    func blake2b256() throws {
        #expect(Hex.encode(BLAKE2b.hash(Self.abc)) == "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319")
        let key = try SymmetricKey(bytes: Array(0..<32))
        #expect(Hex.encode(BLAKE2b.hash(Self.abc, key: key)) == "d63a32d3e44738d7907f964316c241adaba0abfeabc32349677578a15a203f7f")
    }

    @Test("BLAKE2b-512 of the empty message")
    func blake2bEmpty() {
        #expect(Hex.encode(BLAKE2b.hash([], outputLength: 64)) == "786a02f742015903c6c6fd852552d272912f4740e15847618a86e217f71f5419d25e1031afee585313896444934eb04b903a685b1448b755d56f701afe9be2ce")
    }

    @Test("keyed BLAKE2b differs from plain and depends on the key")
    func keyedBlake2b() throws {
        let message = Array("secIRC keyed hash".utf8)
        let keyA = seededKey("blake2b key A")
        let keyB = seededKey("blake2b key B")
        let plain = BLAKE2b.hash(message)
        let underA = BLAKE2b.hash(message, key: keyA)
        let underB = BLAKE2b.hash(message, key: keyB)
        #expect(underA.count == 32)
        #expect(underA != plain)
        #expect(underB != plain)
        #expect(underA != underB)
        #expect(BLAKE2b.hash(message, key: keyA) == underA)
        // A key that differs in one bit changes the MAC.
        let almostA = try SymmetricKey(bytes: flippingBit(0, of: keyA.withUnsafeBytes { Array($0) }))
        #expect(BLAKE2b.hash(message, key: almostA) != underA)
    }

    @Test("output lengths 16...64 are honoured and are not prefixes of each other", arguments: [16, 20, 32, 48, 64])
    func outputLengths(_ length: Int) {
        let digest = BLAKE2b.hash(Self.abc, outputLength: length)
        #expect(digest.count == length)
        if length < 64 {
            // BLAKE2b encodes the output length in its parameter block.
            #expect(digest != Array(BLAKE2b.hash(Self.abc, outputLength: 64).prefix(length)))
        }
    }

    @Test("the buffer forms agree with the array forms")
    func bufferForms() {
        let message = Array("buffer form".utf8)
        let viaArray = BLAKE2b.hash(message, outputLength: 48)
        let viaBuffer = message.withUnsafeBytes { BLAKE2b.hash($0, outputLength: 48, key: nil) }
        #expect(viaArray == viaBuffer)

        var into = [UInt8](repeating: 0, count: 24)
        message.withUnsafeBytes { data in into.withUnsafeMutableBytes { BLAKE2b.hash(data, key: nil, into: $0) } }
        #expect(into == BLAKE2b.hash(message, outputLength: 24))

        let key = seededKey("blake2b buffer key")
        let keyed = message.withUnsafeBytes { data in key.withUnsafeBytes { BLAKE2b.hash(data, outputLength: 32, key: $0) } }
        #expect(keyed == BLAKE2b.hash(message, key: key))
    }

    @Test("FIPS 180-2 B.1: SHA-256(\"abc\")")
    func sha256abc() {
        let digest = SHA256.hash(Self.abc)
        #expect(digest.hex == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(digest.bytes.count == SHA256.outputLength)
    }

    @Test("SHA-256 of the empty message")
    func sha256Empty() {
        #expect(SHA256.hash([]).hex == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }
}
