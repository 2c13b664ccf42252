internal import CSodium

/// XChaCha20-Poly1305-IETF AEAD (draft-irtf-cfrg-xchacha): 32-byte key, 24-byte nonce
/// (random nonces are safe at this size), 16-byte tag appended to the ciphertext.
public enum XChaCha20Poly1305 {
    public static let keyByteCount = 32
    public static let nonceByteCount = 24
    public static let tagByteCount = 16

    /// Encrypts `plaintext` and authenticates it together with `associatedData`.
    /// Returns ciphertext || tag.
    public static func seal(_ plaintext: [UInt8], key: SymmetricKey, nonce: [UInt8], associatedData: [UInt8] = []) throws -> [UInt8] {
        try requireLength("XChaCha20-Poly1305 nonce", nonce.count, nonceByteCount)
        Sodium.ensureReady()
        var out = [UInt8](repeating: 0, count: plaintext.count + tagByteCount)
        var outLength: UInt64 = 0
        key.withUnsafeBytes { k in
            _ = crypto_aead_xchacha20poly1305_ietf_encrypt(
                &out, &outLength, plaintext, UInt64(plaintext.count), associatedData, UInt64(associatedData.count),
                nil, nonce, k.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
        return out
    }

    /// Seals under a fresh random nonce and returns nonce || ciphertext || tag.
    public static func seal(_ plaintext: [UInt8], key: SymmetricKey, associatedData: [UInt8] = [],
                            using rng: inout some RandomSource) -> [UInt8] {
        let nonce = rng.bytes(nonceByteCount)
        return try! nonce + seal(plaintext, key: key, nonce: nonce, associatedData: associatedData) // nonce is 24 bytes
    }

    /// Checks and decrypts ciphertext || tag. Throws `authenticationFailed` on any change to the
    /// ciphertext, tag, nonce, key or associated data.
    public static func open(_ sealed: [UInt8], key: SymmetricKey, nonce: [UInt8], associatedData: [UInt8] = []) throws -> [UInt8] {
        try requireLength("XChaCha20-Poly1305 nonce", nonce.count, nonceByteCount)
        guard sealed.count >= tagByteCount else { throw CryptoError.authenticationFailed }
        Sodium.ensureReady()
        var out = [UInt8](repeating: 0, count: sealed.count - tagByteCount)
        var outLength: UInt64 = 0
        let rc = key.withUnsafeBytes { k in
            crypto_aead_xchacha20poly1305_ietf_decrypt(
                &out, &outLength, nil, sealed, UInt64(sealed.count), associatedData, UInt64(associatedData.count),
                nonce, k.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
        guard rc == 0 else { throw CryptoError.authenticationFailed }
        return out
    }

    /// Opens nonce || ciphertext || tag as made by `seal(_:key:associatedData:using:)`.
    public static func open(combined: [UInt8], key: SymmetricKey, associatedData: [UInt8] = []) throws -> [UInt8] {
        guard combined.count >= nonceByteCount + tagByteCount else { throw CryptoError.authenticationFailed }
        return try open(Array(combined[nonceByteCount...]), key: key, nonce: Array(combined[..<nonceByteCount]),
                        associatedData: associatedData)
    }
}

/// The XChaCha20 stream cipher alone (no authentication), for Sphinx and Lioness.
public enum XChaCha20 {
    /// buffer ^= keystream(key, nonce), in place. `key` is 32 bytes, `nonce` 24.
    @inline(__always)
    public static func xor(_ buffer: UnsafeMutableRawBufferPointer, key: UnsafeRawBufferPointer, nonce: UnsafeRawBufferPointer) {
        Sodium.ensureReady()
        precondition(key.count == 32 && nonce.count == 24, "XChaCha20 takes a 32-byte key and a 24-byte nonce")
        guard let base = buffer.baseAddress, buffer.count > 0 else { return }
        let p = base.assumingMemoryBound(to: UInt8.self)
        _ = crypto_stream_xchacha20_xor(p, p, UInt64(buffer.count), nonce.baseAddress!.assumingMemoryBound(to: UInt8.self),
                                        key.baseAddress!.assumingMemoryBound(to: UInt8.self))
    }
}
