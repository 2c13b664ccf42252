internal import CSodium

/// An Ed25519 public key (RFC 8032): verifies signatures; its SHA-256 is an `ID`.
public struct SigningPublicKey: Hashable, Sendable, CustomStringConvertible {
    public static let byteCount = 32
    public let rawValue: Bytes32

    public init(rawValue: Bytes32) { self.rawValue = rawValue }
    public init(bytes: [UInt8]) throws { rawValue = try Bytes32(bytes, what: "Ed25519 public key") }

    public var bytes: [UInt8] { rawValue.bytes }

    /// SHA-256 of the key: the identity of a user, group or relay.
    public var id: ID { ID(of: self) }

    /// Checks a detached signature over exactly `message`; throws `CryptoError.invalidSignature`.
    public func verify(_ signature: Signature, for message: [UInt8]) throws {
        try message.withUnsafeBytes { try verify(signature, for: $0) }
    }

    /// Buffer form of `verify(_:for:)`.
    public func verify(_ signature: Signature, for message: UnsafeRawBufferPointer) throws {
        Sodium.ensureReady()
        let rc = signature.bytes.withUnsafeBufferPointer { sig in
            rawValue.withUnsafeBytes { pk in
                crypto_sign_verify_detached(sig.baseAddress!, message.baseAddress?.assumingMemoryBound(to: UInt8.self),
                                            UInt64(message.count), pk.baseAddress!.assumingMemoryBound(to: UInt8.self))
            }
        }
        guard rc == 0 else { throw CryptoError.invalidSignature }
    }

    public var description: String { "Ed25519(\(rawValue.hex))" }
}

/// A detached Ed25519 signature (64 bytes).
public struct Signature: Hashable, Sendable, CustomStringConvertible {
    public static let byteCount = 64
    public let bytes: [UInt8]

    public init(bytes: [UInt8]) throws {
        try requireLength("Ed25519 signature", bytes.count, Self.byteCount)
        self.bytes = bytes
    }

    public var hex: String { Hex.encode(bytes) }
    public var description: String { hex }
}

/// An Ed25519 private key. Holds the 32-byte seed's expansion in zero-on-free memory.
public struct SigningPrivateKey: Sendable, CustomStringConvertible {
    public static let seedByteCount = 32
    /// libsodium's 64-byte secret key (seed || public key).
    private let secret: SecureBytes
    public let publicKey: SigningPublicKey

    /// A fresh key from `rng`.
    public init(using rng: inout some RandomSource) {
        try! self.init(seed: SecureBytes(randomCount: Self.seedByteCount, using: &rng)) // 32 bytes by construction
    }

    /// The key whose RFC 8032 secret (seed) is `seed` (32 bytes).
    public init(seed: [UInt8]) throws {
        try requireLength("Ed25519 seed", seed.count, Self.seedByteCount)
        try self.init(seed: SecureBytes(seed))
    }

    /// The key whose seed is held in `seed` (32 bytes of zero-on-free memory).
    public init(seed: SecureBytes) throws {
        try requireLength("Ed25519 seed", seed.count, Self.seedByteCount)
        Sodium.ensureReady()
        var pk = [UInt8](repeating: 0, count: 32)
        secret = seed.withUnsafeBytes { s in
            SecureBytes(count: 64) { sk in
                _ = crypto_sign_seed_keypair(&pk, sk.baseAddress!.assumingMemoryBound(to: UInt8.self),
                                             s.baseAddress!.assumingMemoryBound(to: UInt8.self))
            }
        }
        publicKey = try SigningPublicKey(bytes: pk)
    }

    /// The 32-byte seed, for writing the key to its 0600 file.
    public func seed() -> SecureBytes {
        secret.withUnsafeBytes { sk in SecureBytes(count: 32) { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: sk[0..<32])) } }
    }

    /// Signs exactly `message`.
    public func sign(_ message: [UInt8]) -> Signature {
        message.withUnsafeBytes { sign($0) }
    }

    /// Buffer form of `sign(_:)`.
    public func sign(_ message: UnsafeRawBufferPointer) -> Signature {
        Sodium.ensureReady()
        var sig = [UInt8](repeating: 0, count: Signature.byteCount)
        secret.withUnsafeBytes { sk in
            _ = crypto_sign_detached(&sig, nil, message.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(message.count),
                                     sk.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
        return try! Signature(bytes: sig) // 64 bytes by construction
    }

    public var description: String { "SigningPrivateKey(public: \(publicKey.rawValue.hex))" }
}

/// The identity of a user, group or relay: SHA-256 of its Ed25519 public key, shown as
/// 64 lowercase hex digits.
public struct ID: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let rawValue: Bytes32

    public init(of key: SigningPublicKey) { rawValue = SHA256.hash(key.bytes) }
    public init(rawValue: Bytes32) { self.rawValue = rawValue }

    /// Parses 64 hex digits.
    public init(hex: String) throws { rawValue = try Bytes32(hex: hex, what: "ID") }

    public var hex: String { rawValue.hex }
    public var description: String { hex }

    public static func < (lhs: ID, rhs: ID) -> Bool { lhs.rawValue.bytes.lexicographicallyPrecedes(rhs.rawValue.bytes) }
}
