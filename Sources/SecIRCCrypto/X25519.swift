internal import CSodium

/// An X25519 public key (RFC 7748 u-coordinate).
public struct AgreementPublicKey: Hashable, Sendable, CustomStringConvertible {
    public static let byteCount = 32
    public let rawValue: Bytes32

    public init(rawValue: Bytes32) { self.rawValue = rawValue }
    public init(bytes: [UInt8]) throws { rawValue = try Bytes32(bytes, what: "X25519 public key") }

    public var bytes: [UInt8] { rawValue.bytes }
    public var description: String { "X25519(\(rawValue.hex))" }
}

/// An X25519 private key (32-byte scalar, clamped by X25519 itself), zeroed when freed.
public struct AgreementPrivateKey: Sendable, CustomStringConvertible {
    public static let byteCount = 32
    private let secret: SecureBytes
    public let publicKey: AgreementPublicKey

    /// A fresh key from `rng`.
    public init(using rng: inout some RandomSource) {
        let secret = SecureBytes(randomCount: Self.byteCount, using: &rng)
        try! self.init(secret: secret) // 32 bytes by construction
    }

    /// The key with these 32 scalar bytes.
    public init(bytes: [UInt8]) throws {
        try requireLength("X25519 private key", bytes.count, Self.byteCount)
        try self.init(secret: SecureBytes(bytes))
    }

    public init(secret: SecureBytes) throws {
        try requireLength("X25519 private key", secret.count, Self.byteCount)
        Sodium.ensureReady()
        self.secret = secret
        publicKey = AgreementPublicKey(rawValue: secret.withUnsafeBytes { sk in
            Bytes32 { pk in
                _ = crypto_scalarmult_base(pk.baseAddress!.assumingMemoryBound(to: UInt8.self),
                                           sk.baseAddress!.assumingMemoryBound(to: UInt8.self))
            }
        })
    }

    /// X25519(self, peer). Throws `CryptoError.weakPublicKey` when the result is all zeros
    /// (a low-order peer point), as RFC 7748 §6.1 recommends checking.
    public func sharedSecret(with peer: AgreementPublicKey) throws -> SecureBytes {
        try secret.withUnsafeBytes { sk in
            try SecureBytes(count: 32) { out in
                try X25519.multiply(scalar: sk, point: peer.rawValue, into: out)
            }
        }
    }

    /// Reads the scalar; do not let the pointer escape.
    public func withUnsafeScalar<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try secret.withUnsafeBytes(body)
    }

    public var description: String { "AgreementPrivateKey(public: \(publicKey.rawValue.hex))" }
}

/// Raw X25519 scalar multiplication for protocols that blind points (Sphinx).
public enum X25519 {
    /// out = X25519(scalar, point), 32 bytes each. Throws `weakPublicKey` on an all-zero result.
    @inline(__always)
    public static func multiply(scalar: UnsafeRawBufferPointer, point: Bytes32, into out: UnsafeMutableRawBufferPointer) throws {
        Sodium.ensureReady()
        precondition(scalar.count == 32 && out.count >= 32, "X25519 operands are 32 bytes")
        let rc = point.withUnsafeBytes { p in
            crypto_scalarmult(out.baseAddress!.assumingMemoryBound(to: UInt8.self),
                              scalar.baseAddress!.assumingMemoryBound(to: UInt8.self),
                              p.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
        guard rc == 0 else { throw CryptoError.weakPublicKey }
    }

    /// X25519(scalar, point) as a new public value.
    public static func multiply(scalar: UnsafeRawBufferPointer, point: Bytes32) throws -> Bytes32 {
        var failed = false
        let result = Bytes32 { out in
            do { try multiply(scalar: scalar, point: point, into: out) } catch { failed = true }
        }
        if failed { throw CryptoError.weakPublicKey }
        return result
    }

    /// X25519(scalar, base point): the public value of a scalar.
    public static func multiplyBase(scalar: UnsafeRawBufferPointer) -> Bytes32 {
        Sodium.ensureReady()
        precondition(scalar.count == 32, "X25519 scalars are 32 bytes")
        return Bytes32 { out in
            _ = crypto_scalarmult_base(out.baseAddress!.assumingMemoryBound(to: UInt8.self),
                                       scalar.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
    }
}
