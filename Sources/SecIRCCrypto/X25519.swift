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

/// The product c of X25519-clamped scalars modulo the group order ℓ, kept by a Sphinx sender:
/// u(c·P) for a point P of the prime-order subgroup (a relay's onion key) takes one X25519
/// instead of one for each factor. X25519 clamps its scalar, so c itself cannot be passed; a
/// k with clamp(k) = k — k = 2^254 + 8m, 0 ≤ m < 2^251 — and k ≡ c or k ≡ −c (mod ℓ) serves as
/// well (u(−Q) = u(Q), and 8 | k clears any small-order part, as clamping does). Writing
/// ℓ = 2^252 + δ, the two candidates satisfy m(c) + m(−c) ≡ δ (mod ℓ), so one of them is below
/// 2^251 unless m(c) falls in a window of about 2δ < 2^126 values: never, in practice. Which
/// one is used is chosen without a branch. Zeroed when freed.
public final class ClampedScalarProduct {
    private var c = [UInt8](repeating: 0, count: 32)

    /// c = clamp(`scalar`) mod ℓ.
    public init(clamping scalar: UnsafeRawBufferPointer) {
        Sodium.ensureReady()
        Self.clampReduced(scalar, into: &c)
    }

    deinit { ConstantTime.wipe(&c) }

    /// c = c · clamp(`scalar`) mod ℓ.
    public func multiply(clamping scalar: UnsafeRawBufferPointer) {
        var factor = [UInt8](repeating: 0, count: 32)
        defer { ConstantTime.wipe(&factor) }
        Self.clampReduced(scalar, into: &factor)
        let product = Self.mul(c, factor)
        ConstantTime.wipe(&c)
        c = product
    }

    /// u(c·`point`) with one X25519, or nil in the (about 2^-126) case that neither c nor −c has
    /// a representative that X25519's clamping leaves as it is — then multiply by the factors
    /// one at a time. Throws `weakPublicKey` on an all-zero result (a low-order point).
    public func multiply(point: Bytes32) throws -> Bytes32? {
        var negated = [UInt8](repeating: 0, count: 32)
        crypto_core_ed25519_scalar_negate(&negated, c)
        // m = (±c − 2^254) / 8 mod ℓ for both signs.
        var plus = Self.representative(c), minus = Self.representative(negated)
        ConstantTime.wipe(&negated)
        defer {
            ConstantTime.wipe(&plus)
            ConstantTime.wipe(&minus)
        }
        // mask = 0xff when m(c) < 2^251, else 0; then m = m(c) or m(−c).
        let mask = UInt8(truncatingIfNeeded: (Int(plus[31]) - 8) >> 8)
        var m = [UInt8](repeating: 0, count: 32)
        defer { ConstantTime.wipe(&m) }
        for i in 0..<32 { m[i] = (plus[i] & mask) | (minus[i] & ~mask) }
        guard m[31] < 0x08 else { return nil }
        // k = 8m + 2^254.
        var k = [UInt8](repeating: 0, count: 32)
        defer { ConstantTime.wipe(&k) }
        var carry: UInt8 = 0
        for i in 0..<32 {
            k[i] = (m[i] << 3) | carry
            carry = m[i] >> 5
        }
        k[31] |= 0x40
        return try k.withUnsafeBytes { try X25519.multiply(scalar: $0, point: point) }
    }

    /// (`scalar` − 2^254) · 8^-1 mod ℓ.
    private static func representative(_ scalar: [UInt8]) -> [UInt8] {
        var difference = [UInt8](repeating: 0, count: 32)
        defer { ConstantTime.wipe(&difference) }
        crypto_core_ed25519_scalar_sub(&difference, scalar, twoTo254)
        return mul(difference, inverseOfEight)
    }

    private static func mul(_ a: [UInt8], _ b: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        crypto_core_ed25519_scalar_mul(&out, a, b)
        return out
    }

    /// clamp(`scalar`) as X25519 clamps it, reduced mod ℓ.
    private static func clampReduced(_ scalar: UnsafeRawBufferPointer, into out: inout [UInt8]) {
        precondition(scalar.count == 32, "X25519 scalars are 32 bytes")
        var wide = [UInt8](repeating: 0, count: 64)
        defer { ConstantTime.wipe(&wide) }
        wide.withUnsafeMutableBytes { $0.copyMemory(from: scalar) }
        wide[0] &= 248
        wide[31] &= 127
        wide[31] |= 64
        crypto_core_ed25519_scalar_reduce(&out, wide)
    }

    /// 2^254 mod ℓ.
    private static let twoTo254: [UInt8] = {
        Sodium.ensureReady()
        var wide = [UInt8](repeating: 0, count: 64)
        wide[31] = 0x40
        var out = [UInt8](repeating: 0, count: 32)
        crypto_core_ed25519_scalar_reduce(&out, wide)
        return out
    }()

    /// 8^-1 mod ℓ.
    private static let inverseOfEight: [UInt8] = {
        Sodium.ensureReady()
        var eight = [UInt8](repeating: 0, count: 32)
        eight[0] = 8
        var out = [UInt8](repeating: 0, count: 32)
        _ = crypto_core_ed25519_scalar_invert(&out, eight)
        return out
    }()
}
