import SecIRCCrypto
import Testing

/// RFC 7748 §5.2 and §6.1 known answers, and low-order point rejection.
@Suite("X25519")
struct X25519Tests {
    struct Vector: Sendable, CustomTestStringConvertible {
        let name: String
        let scalar: String
        let u: String
        let output: String
        var testDescription: String { name }
    }

    /// RFC 7748 §5.2. The second u has its top bit set, which X25519 must ignore.
    static let section52: [Vector] = [
        Vector(name: "RFC 7748 §5.2 vector 1",
               scalar: "a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
               u: "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
               output: "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552"),
        Vector(name: "RFC 7748 §5.2 vector 2",
               scalar: "4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
               u: "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
               output: "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957"),
    ]

    @Test("RFC 7748 §5.2 scalar multiplication", arguments: section52)
    func scalarMultiplication(_ vector: Vector) throws {
        let scalar = try hexBytes(vector.scalar)
        let point = try Bytes32(hex: vector.u)
        let result = try scalar.withUnsafeBytes { try X25519.multiply(scalar: $0, point: point) }
        #expect(result.hex == vector.output)

        // The key-object path gives the same value.
        let key = try AgreementPrivateKey(bytes: scalar)
        let shared = try key.sharedSecret(with: AgreementPublicKey(rawValue: point))
        #expect(Hex.encode(shared.unsafeCopy()) == vector.output)
    }

    @Test("RFC 7748 §5.2 vector 2 with the u top bit masked gives the same output")
    func topBitOfUIsIgnored() throws {
        let vector = Self.section52[1]
        var u = try hexBytes(vector.u)
        u[31] &= 0x7f
        let scalar = try hexBytes(vector.scalar)
        let result = try scalar.withUnsafeBytes { try X25519.multiply(scalar: $0, point: Bytes32(u)) }
        #expect(result.hex == vector.output)
    }

    @Test("RFC 7748 §5.2 iterated test: 1 and 1000 iterations")
    func iterated() throws {
        var k = try Bytes32(hex: "0900000000000000000000000000000000000000000000000000000000000000")
        var u = k
        var afterOne: String?
        for iteration in 1...1000 {
            let next = try k.withUnsafeBytes { try X25519.multiply(scalar: $0, point: u) }
            u = k
            k = next
            if iteration == 1 { afterOne = k.hex }
        }
        #expect(afterOne == "422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079")
        #expect(k.hex == "684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51")
    }

    static let alicePrivate = "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"
    static let alicePublic = "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"
    static let bobPrivate = "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb"
    static let bobPublic = "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"
    static let sharedK = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742"

    @Test("RFC 7748 §6.1 Alice and Bob: public keys and shared secret")
    func diffieHellman() throws {
        let alice = try AgreementPrivateKey(bytes: hexBytes(Self.alicePrivate))
        let bob = try AgreementPrivateKey(bytes: hexBytes(Self.bobPrivate))
        #expect(alice.publicKey.rawValue.hex == Self.alicePublic)
        #expect(bob.publicKey.rawValue.hex == Self.bobPublic)

        let aliceShared = try alice.sharedSecret(with: bob.publicKey)
        let bobShared = try bob.sharedSecret(with: alice.publicKey)
        #expect(Hex.encode(aliceShared.unsafeCopy()) == Self.sharedK)
        #expect(aliceShared == bobShared)

        // Same through the peer key parsed from the published bytes.
        let bobFromWire = try AgreementPublicKey(bytes: hexBytes(Self.bobPublic))
        #expect(try alice.sharedSecret(with: bobFromWire) == aliceShared)
    }

    @Test("multiplyBase agrees with the RFC 7748 §6.1 public keys")
    func multiplyBase() throws {
        let alice = try hexBytes(Self.alicePrivate)
        #expect(alice.withUnsafeBytes { X25519.multiplyBase(scalar: $0) }.hex == Self.alicePublic)
        let bob = try hexBytes(Self.bobPrivate)
        #expect(bob.withUnsafeBytes { X25519.multiplyBase(scalar: $0) }.hex == Self.bobPublic)
    }

    /// u = 0 (the all-zero point), u = 1 and a point of order 8: every result is all zeros.
    static let lowOrderPoints = [
        "0000000000000000000000000000000000000000000000000000000000000000",
        "0100000000000000000000000000000000000000000000000000000000000000",
        "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
    ]

    @Test("a low-order peer point is rejected as weakPublicKey", arguments: lowOrderPoints)
    func lowOrderPoint(_ u: String) throws {
        let alice = try AgreementPrivateKey(bytes: hexBytes(Self.alicePrivate))
        let peer = try AgreementPublicKey(bytes: hexBytes(u))
        #expect(throws: CryptoError.weakPublicKey) { try alice.sharedSecret(with: peer) }

        let scalar = try hexBytes(Self.alicePrivate)
        #expect(throws: CryptoError.weakPublicKey) {
            try scalar.withUnsafeBytes { try X25519.multiply(scalar: $0, point: peer.rawValue) }
        }
    }

    @Test("the all-zero point is Bytes32.zero and is rejected")
    func zeroPoint() throws {
        var rng = SeededRandom(seed: "x25519 zero point")
        let key = AgreementPrivateKey(using: &rng)
        #expect(throws: CryptoError.weakPublicKey) { try key.sharedSecret(with: AgreementPublicKey(rawValue: .zero)) }
    }

    @Test("random keys agree, and SeededRandom keys are repeatable")
    func randomKeysAgree() throws {
        var system = SystemRandom()
        let a = AgreementPrivateKey(using: &system)
        let b = AgreementPrivateKey(using: &system)
        #expect(a.publicKey != b.publicKey)
        #expect(try a.sharedSecret(with: b.publicKey) == b.sharedSecret(with: a.publicKey))

        var first = SeededRandom(seed: "x25519 repeatable")
        var second = SeededRandom(seed: "x25519 repeatable")
        #expect(AgreementPrivateKey(using: &first).publicKey == AgreementPrivateKey(using: &second).publicKey)
    }

    @Test("wrong key lengths throw invalidLength", arguments: [0, 31, 33, 64])
    func wrongLengths(_ count: Int) {
        let bytes = [UInt8](repeating: 7, count: count)
        #expect(throws: CryptoError.invalidLength(what: "X25519 private key", expected: 32, actual: count)) {
            try AgreementPrivateKey(bytes: bytes)
        }
        #expect(throws: CryptoError.invalidLength(what: "X25519 public key", expected: 32, actual: count)) {
            try AgreementPublicKey(bytes: bytes)
        }
    }

    @Test("the private key's description shows only the public key")
    func privateKeyDescription() throws {
        let alice = try AgreementPrivateKey(bytes: hexBytes(Self.alicePrivate))
        #expect(!alice.description.contains(Self.alicePrivate))
        #expect(alice.description.contains(Self.alicePublic))
        let scalar = alice.withUnsafeScalar { Hex.encode($0) }
        #expect(scalar == Self.alicePrivate)
    }

    /// One X25519 by the product of clamped scalars mod ℓ gives what one X25519 per factor
    /// gives (the Sphinx sender's blinded secrets), for products of 1 to 5 factors (seeded).
    @Test("a clamped scalar product gives what multiplying factor by factor gives")
    func clampedScalarProductMatchesTheChain() throws {
        var rng = SeededRandom(seed: "clamped scalar product")
        var once = 0
        for round in 0..<200 {
            let point = AgreementPrivateKey(using: &rng).publicKey.rawValue
            let factors = (0...(round % 4 + 1)).map { _ in rng.bytes(32) }
            var chain = point
            for factor in factors { chain = try factor.withUnsafeBytes { try X25519.multiply(scalar: $0, point: chain) } }
            let product = factors[0].withUnsafeBytes { ClampedScalarProduct(clamping: $0) }
            for factor in factors.dropFirst() { factor.withUnsafeBytes { product.multiply(clamping: $0) } }
            let single = try product.multiply(point: point)
            #expect(single == chain, "round \(round)")
            if single != nil { once += 1 }
        }
        #expect(once == 200, "none left to the chain (a chance of about 2^-126 each)")
        // A low-order point gives all zeros, refused as with one factor at a time.
        let product = [UInt8](repeating: 5, count: 32).withUnsafeBytes { ClampedScalarProduct(clamping: $0) }
        var lowOrder = [UInt8](repeating: 0, count: 32)
        lowOrder[0] = 1 // u = 1: a point of order 4
        #expect(throws: CryptoError.weakPublicKey) { _ = try product.multiply(point: Bytes32(lowOrder)) }
    }
}
