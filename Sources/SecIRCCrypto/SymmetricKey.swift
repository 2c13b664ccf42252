internal import CSodium

/// A 32-byte secret key for AEAD, keyed hashing or key derivation. Zeroed when freed,
/// compared in constant time, never printed.
public struct SymmetricKey: Sendable, Equatable, CustomStringConvertible {
    public static let byteCount = 32
    let secret: SecureBytes

    /// A fresh random key.
    public init(using rng: inout some RandomSource) {
        secret = SecureBytes(randomCount: Self.byteCount, using: &rng)
    }

    /// Wraps existing key bytes (exactly 32).
    public init(bytes: [UInt8]) throws {
        try requireLength("symmetric key", bytes.count, Self.byteCount)
        secret = SecureBytes(bytes)
    }

    /// Takes over secret bytes already in zero-on-free memory.
    public init(secret: SecureBytes) throws {
        try requireLength("symmetric key", secret.count, Self.byteCount)
        self.secret = secret
    }

    /// Reads the key bytes; do not let the pointer escape.
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try secret.withUnsafeBytes(body)
    }

    public var description: String { "SymmetricKey(<redacted>)" }
}

/// Sub-key derivation with `crypto_kdf` (BLAKE2b): independent keys from one master key, each
/// named by a 64-bit id and an 8-character context.
public enum KDF {
    public static let contextLength = 8

    /// Derives a `length`-byte sub-key (16...64) of `key` for (`id`, `context`).
    public static func derive(from key: SymmetricKey, id: UInt64, context: String, length: Int = 32) throws -> SecureBytes {
        Sodium.ensureReady()
        let ctx = Array(context.utf8)
        try requireLength("KDF context", ctx.count, contextLength)
        guard (16...64).contains(length) else { throw CryptoError.invalidParameter("KDF sub-key length \(length) not in 16...64") }
        return try SecureBytes(count: length) { out in
            let rc = ctx.withUnsafeBufferPointer { c in
                key.withUnsafeBytes { k in
                    c.withMemoryRebound(to: CChar.self) { cc in
                        crypto_kdf_derive_from_key(out.baseAddress!.assumingMemoryBound(to: UInt8.self), length, id,
                                                   cc.baseAddress!, k.baseAddress!.assumingMemoryBound(to: UInt8.self))
                    }
                }
            }
            guard rc == 0 else { throw CryptoError.invalidParameter("crypto_kdf_derive_from_key failed") }
        }
    }

    /// `derive` wrapped as a `SymmetricKey`.
    public static func deriveKey(from key: SymmetricKey, id: UInt64, context: String) throws -> SymmetricKey {
        try SymmetricKey(secret: derive(from: key, id: id, context: context, length: SymmetricKey.byteCount))
    }
}
