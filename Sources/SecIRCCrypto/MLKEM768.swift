internal import Crypto
internal import FoundationEssentials

// ML-KEM-768 (FIPS 203) through swift-crypto (BoringSSL). swift-crypto is imported `internal`:
// none of its types appear in this module's public API, and it is used for nothing else.

/// An ML-KEM-768 encapsulation key (FIPS 203): 1184 bytes. `init(bytes:)` checks the length
/// and the encoding (every coefficient below q), as FIPS 203 §7.2 requires before use.
public struct KEMPublicKey: Hashable, Sendable, CustomStringConvertible {
    public static let byteCount = 1184
    public let bytes: [UInt8]

    /// Throws `CryptoError.invalidLength` for a wrong length, `CryptoError.invalidEncoding` for
    /// a key that fails the FIPS 203 modulus check.
    public init(bytes: [UInt8]) throws {
        try requireLength("ML-KEM-768 public key", bytes.count, Self.byteCount)
        do {
            _ = try Crypto.MLKEM768.PublicKey(rawRepresentation: bytes)
        } catch {
            throw CryptoError.invalidEncoding("ML-KEM-768 public key fails the modulus check")
        }
        self.bytes = bytes
    }

    /// Bytes already known to be a valid key (the private key's own public half).
    private init(validated bytes: [UInt8]) { self.bytes = bytes }

    fileprivate static func fromValidated(_ bytes: [UInt8]) -> KEMPublicKey { KEMPublicKey(validated: bytes) }

    public var description: String { "MLKEM768(\(Hex.encode(bytes.prefix(8)))…)" }
}

/// An ML-KEM-768 ciphertext: 1088 bytes. Any 1088 bytes are accepted; a forged or corrupted
/// ciphertext decapsulates to an unrelated pseudorandom secret (implicit rejection).
public struct KEMCiphertext: Hashable, Sendable {
    public static let byteCount = 1088
    public let bytes: [UInt8]

    public init(bytes: [UInt8]) throws {
        try requireLength("ML-KEM-768 ciphertext", bytes.count, Self.byteCount)
        self.bytes = bytes
    }
}

/// An ML-KEM-768 decapsulation key, held as its 64-byte FIPS 203 seed (d || z) in zero-on-free
/// memory; the expanded key is rebuilt inside swift-crypto for each `decapsulate` and dropped
/// afterwards (swift-crypto does not wipe that transient copy). Never printed.
public struct KEMPrivateKey: Sendable, CustomStringConvertible {
    /// FIPS 203 seed length (d || z).
    public static let seedByteCount = 64
    private let seedBytes: SecureBytes
    public let publicKey: KEMPublicKey

    /// A key from 64 bytes of `rng`: deterministic for a `SeededRandom`, so vectors are exact.
    public init(using rng: inout some RandomSource) {
        // 64 bytes by construction; BoringSSL's key expansion from a seed of the right length
        // cannot fail.
        try! self.init(seed: SecureBytes(randomCount: Self.seedByteCount, using: &rng))
    }

    /// The key whose FIPS 203 seed (d || z) is `seed` (64 bytes).
    public init(seed: SecureBytes) throws {
        try requireLength("ML-KEM-768 seed", seed.count, Self.seedByteCount)
        let key = try Self.expand(seed)
        seedBytes = seed
        publicKey = KEMPublicKey.fromValidated(Array(key.publicKey.rawRepresentation))
    }

    /// The 64-byte seed, for storing the key sealed.
    public func seed() -> SecureBytes { seedBytes }

    /// The shared secret (32 bytes) of `ciphertext`. A ciphertext not made for this key gives an
    /// unrelated secret rather than an error (ML-KEM implicit rejection): the mismatch shows up
    /// when the secret is used.
    public func decapsulate(_ ciphertext: KEMCiphertext) throws -> SecureBytes {
        let key = try Self.expand(seedBytes)
        let secret: Crypto.SymmetricKey
        do {
            secret = try key.decapsulate(ciphertext.bytes)
        } catch {
            throw CryptoError.invalidParameter("ML-KEM-768 decapsulation failed")
        }
        return secret.withUnsafeBytes { raw in SecureBytes(count: raw.count) { $0.copyMemory(from: raw) } }
    }

    private static func expand(_ seed: SecureBytes) throws -> Crypto.MLKEM768.PrivateKey {
        do {
            return try seed.withUnsafeBytes { try Crypto.MLKEM768.PrivateKey(seedRepresentation: $0, publicKey: nil) }
        } catch {
            throw CryptoError.invalidParameter("ML-KEM-768 key expansion failed")
        }
    }

    public var description: String { "KEMPrivateKey(<redacted>)" }
}

/// ML-KEM-768 encapsulation.
public enum KEM {
    /// Shared secret length.
    public static let sharedSecretByteCount = 32

    /// A fresh shared secret (32 bytes) and its ciphertext for `publicKey`. The encapsulation
    /// randomness comes from the system CSPRNG inside swift-crypto (it offers no seeded form),
    /// so the result is not reproducible.
    public static func encapsulate(to publicKey: KEMPublicKey) throws -> (sharedSecret: SecureBytes, ciphertext: KEMCiphertext) {
        let result: Crypto.KEM.EncapsulationResult
        do {
            result = try Crypto.MLKEM768.PublicKey(rawRepresentation: publicKey.bytes).encapsulate()
        } catch {
            throw CryptoError.invalidParameter("ML-KEM-768 encapsulation failed")
        }
        let secret = result.sharedSecret.withUnsafeBytes { raw in SecureBytes(count: raw.count) { $0.copyMemory(from: raw) } }
        return (secret, try KEMCiphertext(bytes: Array(result.encapsulated)))
    }
}
