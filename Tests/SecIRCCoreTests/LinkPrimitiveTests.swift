import SecIRCCore
import SecIRCCrypto
import Testing

/// The primitives the link layer added to SecIRCCrypto: ChaCha20-Poly1305-IETF, HMAC-BLAKE2b,
/// Noise's HKDF, and the protocol-name rule of Noise's SymmetricState.
@Suite("Link primitives")
struct LinkPrimitiveTests {
    // RFC 8439 §2.8.2.
    static let rfcKey = LinkTestSupport.hex("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f")
    static let rfcNonce = LinkTestSupport.hex("070000004041424344454647")
    static let rfcAAD = LinkTestSupport.hex("50515253c0c1c2c3c4c5c6c7")
    static let rfcPlaintext = Array("Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.".utf8)
    static let rfcCiphertext = "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc3ff4def08e4b7a9de576d26586cec64b6116"
    static let rfcTag = "1ae10b594f09e26a7e902ecbd0600691"

    @Test("ChaCha20-Poly1305: RFC 8439 §2.8.2 seal and open")
    func chachaKnownAnswer() throws {
        let key = try SymmetricKey(bytes: Self.rfcKey)
        let sealed = try ChaCha20Poly1305.seal(Self.rfcPlaintext, key: key, nonce: Self.rfcNonce, associatedData: Self.rfcAAD)
        #expect(Hex.encode(sealed) == Self.rfcCiphertext + Self.rfcTag)
        #expect(try ChaCha20Poly1305.open(sealed, key: key, nonce: Self.rfcNonce, associatedData: Self.rfcAAD) == Self.rfcPlaintext)
    }

    @Test("ChaCha20-Poly1305: the in-place forms equal the array forms")
    func chachaInPlace() throws {
        let key = try SymmetricKey(bytes: Self.rfcKey)
        var buffer = Self.rfcPlaintext + [UInt8](repeating: 0, count: 16)
        try buffer.withUnsafeMutableBytes { b in
            try Self.rfcKey.withUnsafeBytes { k in
                try Self.rfcNonce.withUnsafeBytes { n in
                    try Self.rfcAAD.withUnsafeBytes { ad in
                        try ChaCha20Poly1305.sealInPlace(b, plaintextCount: Self.rfcPlaintext.count, key: k, nonce: n, associatedData: ad)
                    }
                }
            }
        }
        #expect(Hex.encode(buffer) == Self.rfcCiphertext + Self.rfcTag)
        let count = try buffer.withUnsafeMutableBytes { b in
            try Self.rfcKey.withUnsafeBytes { k in
                try Self.rfcNonce.withUnsafeBytes { n in
                    try Self.rfcAAD.withUnsafeBytes { ad in try ChaCha20Poly1305.openInPlace(b, key: k, nonce: n, associatedData: ad) }
                }
            }
        }
        #expect(Array(buffer.prefix(count)) == Self.rfcPlaintext)
        _ = key
    }

    @Test("ChaCha20-Poly1305: any flipped bit, wrong AD or wrong nonce fails with authenticationFailed")
    func chachaTamper() throws {
        let key = try SymmetricKey(bytes: Self.rfcKey)
        let sealed = LinkTestSupport.hex(Self.rfcCiphertext + Self.rfcTag)
        var accepted = 0
        for bit in 0..<(sealed.count * 8) {
            if (try? ChaCha20Poly1305.open(LinkTestSupport.flippingBit(bit, of: sealed), key: key, nonce: Self.rfcNonce,
                                           associatedData: Self.rfcAAD)) != nil { accepted += 1 }
        }
        #expect(accepted == 0)
        #expect(throws: CryptoError.authenticationFailed) {
            try ChaCha20Poly1305.open(sealed, key: key, nonce: Self.rfcNonce, associatedData: [])
        }
        #expect(throws: CryptoError.authenticationFailed) {
            try ChaCha20Poly1305.open(sealed, key: key, nonce: ChaCha20Poly1305.nonce(counter: 7), associatedData: Self.rfcAAD)
        }
        #expect(throws: CryptoError.authenticationFailed) {
            try ChaCha20Poly1305.open(Array(sealed.prefix(15)), key: key, nonce: Self.rfcNonce, associatedData: Self.rfcAAD)
        }
        #expect(throws: CryptoError.invalidLength(what: "ChaCha20-Poly1305 nonce", expected: 12, actual: 24)) {
            try ChaCha20Poly1305.seal([], key: key, nonce: [UInt8](repeating: 0, count: 24))
        }
    }

    @Test("the counter nonce is 4 zero bytes || counter little-endian")
    func counterNonce() {
        #expect(Hex.encode(ChaCha20Poly1305.nonce(counter: 0)) == "000000000000000000000000")
        #expect(Hex.encode(ChaCha20Poly1305.nonce(counter: 0x0102_0304_0506_0708)) == "000000000807060504030201")
    }

    /// HMAC-BLAKE2b-512 values computed independently with Python's `hmac` + `hashlib.blake2b`:
    /// short key, RFC 4231 test case 2's inputs, a key longer than the 128-byte block (hashed
    /// first), and a key of exactly one block with an empty message.
    static let hmacVectors: [(key: String, message: String, mac: String)] = [
        (String(repeating: "0b", count: 20), "4869205468657265",
         "358a6a184924894fc34bee5680eedf57d84a37bb38832f288e3b27dc63a98cc8c91e76da476b508bc6b2d408a248857452906e4a20b48c6b4b55d2df0fe1dd24"),
        ("4a656665", "7768617420646f2079612077616e7420666f72206e6f7468696e673f",
         "6ff884f8ddc2a6586b3c98a4cd6ebdf14ec10204b6710073eb5865ade37a2643b8807c1335d107ecdb9ffeaeb6828c4625ba172c66379efcd222c2de11727ab4"),
        (String(repeating: "aa", count: 131),
         "54657374205573696e67204c6172676572205468616e20426c6f636b2d53697a65204b6579202d2048617368204b6579204669727374",
         "a54b2943b2a20227d41ca46c0945af09bc1faefb2f49894c23aebc557fb79c4889dca74408dc865086667aedee4a3185c53a49c80b814c4c5813ea0c8b38a8f8"),
        (Hex.encode(0..<128), "",
         "e79ec585fc83408cd654da61cc87457edd77cae194e6e4727420fa21a001229ed67f1fb7bb03effaaaec05d2d7902f98bfad11da65b4c08d197eefa96f314b31"),
    ]

    @Test("HMAC-BLAKE2b matches an independent implementation", arguments: 0..<4)
    func hmac(_ index: Int) {
        let vector = Self.hmacVectors[index]
        let mac = HMACBLAKE2b.authenticate(LinkTestSupport.hex(vector.message), key: SecureBytes(LinkTestSupport.hex(vector.key)))
        #expect(Hex.encode(mac.unsafeCopy()) == vector.mac)
    }

    @Test("Noise HKDF: 3 outputs, and 2 outputs of an empty input (Split), match an independent implementation")
    func hkdf() {
        let chainingKey = SecureBytes(Array(0..<64))
        let (a, b, c) = NoiseHKDF.derive3(chainingKey: chainingKey, inputKeyMaterial: Array(0x40..<0x60))
        #expect(Hex.encode(a.unsafeCopy()) == "53a22334fb402fe757480b953f4ea7077e9ea2dfb7f42595792c1b41c210e73cdd9f42a3411540b52a39f09330f4c177b6dd94f6a9d3a0f34fd83d3f13a4ea31")
        #expect(Hex.encode(b.unsafeCopy()) == "2177d1f87d50dbd71ab6f92ae2cb128e9b14be6cc976b8ef3100e8bb1a5059324dd854b9bfcfa2abe870da9089d323469b70ae63cf4aa8236fbfb83e9eb89bcb")
        #expect(Hex.encode(c.unsafeCopy()) == "cfc5b85ae7d6490993566c9b3b1e04141d4505cc9db3d89617ab10e37615e81fe2b824d2c9f8bd080537cc33eb43bd97858950a76351f7fe0516209263ef800d")
        let (x, y) = NoiseHKDF.derive2(chainingKey: chainingKey, inputKeyMaterial: [])
        #expect(Hex.encode(x.unsafeCopy()) == "03be0946afb62e33dcc2e8cb76dfad47663d284d81c0bde963f32a283dede221be2b9e3a86fa82934234d2a6ed331fb664a3e670252b9454da9ed2567b435e11")
        #expect(Hex.encode(y.unsafeCopy()) == "8481b385940ea1ddc1e37243d34e6a00d9e35fe86844b75be2f9d084efcbf4a9d18c764645baf5262707efcb490c9ddfcc81c78ff75e1e727428f05b9fee857f")
        // The first two of three outputs equal the two-output form.
        let (p, q) = NoiseHKDF.derive2(chainingKey: chainingKey, inputKeyMaterial: Array(0x40..<0x60))
        #expect(p == a && q == b)
    }

    @Test("InitializeSymmetric pads a name of up to 64 bytes and hashes a longer one")
    func protocolNameRule() {
        let short = NoiseSymmetricState(protocolName: "Noise_IK_25519_ChaChaPoly_BLAKE2b")
        #expect(short.handshakeHash == Array("Noise_IK_25519_ChaChaPoly_BLAKE2b".utf8) + [UInt8](repeating: 0, count: 31))
        let exactly64 = String(repeating: "x", count: 64)
        #expect(NoiseSymmetricState(protocolName: exactly64).handshakeHash == Array(exactly64.utf8))
        let long = String(repeating: "y", count: 65)
        #expect(NoiseSymmetricState(protocolName: long).handshakeHash == BLAKE2b.hash(Array(long.utf8), outputLength: 64))
        #expect(!short.cipher.hasKey)
    }
}
