internal import CSodium

/// Argon2id (`crypto_pwhash`): a key from a passphrase, slow on purpose.
public enum Argon2id {
    public static let saltByteCount = 16

    /// Cost settings. `interactive` for tests and quick unlocks, `moderate` for stored keys.
    public struct Cost: Sendable, Equatable {
        public var operations: UInt64
        public var memoryBytes: Int
        public init(operations: UInt64, memoryBytes: Int) {
            self.operations = operations
            self.memoryBytes = memoryBytes
        }
        public static let interactive = Cost(operations: 2, memoryBytes: 64 << 20)
        public static let moderate = Cost(operations: 3, memoryBytes: 256 << 20)
    }

    /// Derives a 32-byte key from `passphrase` and a 16-byte `salt`.
    public static func deriveKey(passphrase: [UInt8], salt: [UInt8], cost: Cost = .moderate) throws -> SymmetricKey {
        try requireLength("Argon2id salt", salt.count, saltByteCount)
        guard !passphrase.isEmpty else { throw CryptoError.invalidParameter("empty passphrase") }
        Sodium.ensureReady()
        guard cost.operations >= UInt64(crypto_pwhash_opslimit_min()), cost.memoryBytes >= crypto_pwhash_memlimit_min() else {
            throw CryptoError.invalidParameter("Argon2id cost below libsodium's minimum")
        }
        let secret = try SecureBytes(count: SymmetricKey.byteCount) { out in
            let rc = passphrase.withUnsafeBufferPointer { pw in
                pw.withMemoryRebound(to: CChar.self) { pwc in
                    crypto_pwhash(out.baseAddress!.assumingMemoryBound(to: UInt8.self), UInt64(out.count),
                                  pwc.baseAddress!, UInt64(pwc.count), salt, cost.operations, cost.memoryBytes,
                                  crypto_pwhash_alg_argon2id13())
                }
            }
            guard rc == 0 else { throw CryptoError.resourceExhausted("Argon2id could not allocate \(cost.memoryBytes) bytes") }
        }
        return try SymmetricKey(secret: secret)
    }
}
