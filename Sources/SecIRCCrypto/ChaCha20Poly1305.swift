internal import CSodium

/// ChaCha20-Poly1305-IETF AEAD (RFC 8439): 32-byte key, 12-byte nonce, 16-byte tag appended to
/// the ciphertext. A nonce must never repeat under one key, so callers derive it from a counter
/// (`nonce(counter:)`: Noise's and WireGuard's layout); for random nonces use
/// `XChaCha20Poly1305`.
public enum ChaCha20Poly1305 {
    public static let keyByteCount = 32
    public static let nonceByteCount = 12
    public static let tagByteCount = 16

    /// The 12-byte nonce for a 64-bit counter: 4 zero bytes || counter little-endian (Noise §5.1
    /// for ChaChaPoly, WireGuard's transport nonce).
    public static func nonce(counter: UInt64) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: nonceByteCount)
        withUnsafeBytes(of: counter.littleEndian) { out.replaceSubrange(4..<12, with: $0) }
        return out
    }

    /// Encrypts `plaintext` and authenticates it together with `associatedData`.
    /// Returns ciphertext || tag. Throws `invalidLength` for a nonce that is not 12 bytes.
    public static func seal(_ plaintext: [UInt8], key: SymmetricKey, nonce: [UInt8], associatedData: [UInt8] = []) throws -> [UInt8] {
        try requireLength("ChaCha20-Poly1305 nonce", nonce.count, nonceByteCount)
        var out = plaintext
        out.append(contentsOf: repeatElement(0, count: tagByteCount))
        try out.withUnsafeMutableBytes { buffer in
            try nonce.withUnsafeBytes { n in
                try associatedData.withUnsafeBytes { ad in
                    try key.withUnsafeBytes { k in
                        try sealInPlace(buffer, plaintextCount: plaintext.count, key: k, nonce: n, associatedData: ad)
                    }
                }
            }
        }
        return out
    }

    /// Checks and decrypts ciphertext || tag. Throws `authenticationFailed` on any change to the
    /// ciphertext, tag, nonce, key or associated data (and for input shorter than a tag).
    public static func open(_ sealed: [UInt8], key: SymmetricKey, nonce: [UInt8], associatedData: [UInt8] = []) throws -> [UInt8] {
        try requireLength("ChaCha20-Poly1305 nonce", nonce.count, nonceByteCount)
        var buffer = sealed
        let count = try buffer.withUnsafeMutableBytes { b in
            try nonce.withUnsafeBytes { n in
                try associatedData.withUnsafeBytes { ad in
                    try key.withUnsafeBytes { k in
                        try openInPlace(b, key: k, nonce: n, associatedData: ad)
                    }
                }
            }
        }
        buffer.removeLast(buffer.count - count)
        return buffer
    }

    /// Hot-path form of `seal`, without allocation: `buffer[0..<plaintextCount]` holds the
    /// plaintext and `buffer` must have room for the tag after it (`buffer.count >=
    /// plaintextCount + 16`). On return `buffer[0..<plaintextCount + 16]` is ciphertext || tag.
    /// `key` is 32 bytes and `nonce` 12; other lengths throw `invalidLength`.
    @inline(__always)
    public static func sealInPlace(_ buffer: UnsafeMutableRawBufferPointer, plaintextCount: Int, key: UnsafeRawBufferPointer,
                                   nonce: UnsafeRawBufferPointer, associatedData: UnsafeRawBufferPointer) throws {
        try requireLength("ChaCha20-Poly1305 key", key.count, keyByteCount)
        try requireLength("ChaCha20-Poly1305 nonce", nonce.count, nonceByteCount)
        guard plaintextCount >= 0, buffer.count >= plaintextCount + tagByteCount, let base = buffer.baseAddress else {
            throw CryptoError.invalidParameter("ChaCha20-Poly1305 buffer has no room for the tag")
        }
        Sodium.ensureReady()
        let p = base.assumingMemoryBound(to: UInt8.self)
        let rc = crypto_aead_chacha20poly1305_ietf_encrypt_detached(
            p, p + plaintextCount, nil, p, UInt64(plaintextCount),
            associatedData.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(associatedData.count),
            nil, nonce.baseAddress!.assumingMemoryBound(to: UInt8.self), key.baseAddress!.assumingMemoryBound(to: UInt8.self))
        guard rc == 0 else { throw CryptoError.invalidParameter("crypto_aead_chacha20poly1305_ietf_encrypt_detached failed") }
    }

    /// Hot-path form of `open`, without allocation: `buffer` holds ciphertext || tag; on success
    /// the plaintext is in `buffer[0..<returned count]` (the tag bytes after it are left as they
    /// were). Throws `authenticationFailed` when the tag does not verify (nothing unauthenticated
    /// is decrypted; libsodium zeroes the ciphertext part of `buffer`) and `invalidLength` for a
    /// key or nonce of the wrong size.
    @inline(__always)
    public static func openInPlace(_ buffer: UnsafeMutableRawBufferPointer, key: UnsafeRawBufferPointer,
                                   nonce: UnsafeRawBufferPointer, associatedData: UnsafeRawBufferPointer) throws -> Int {
        try requireLength("ChaCha20-Poly1305 key", key.count, keyByteCount)
        try requireLength("ChaCha20-Poly1305 nonce", nonce.count, nonceByteCount)
        guard buffer.count >= tagByteCount, let base = buffer.baseAddress else { throw CryptoError.authenticationFailed }
        Sodium.ensureReady()
        let p = base.assumingMemoryBound(to: UInt8.self)
        let count = buffer.count - tagByteCount
        let rc = crypto_aead_chacha20poly1305_ietf_decrypt_detached(
            p, nil, p, UInt64(count), p + count,
            associatedData.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(associatedData.count),
            nonce.baseAddress!.assumingMemoryBound(to: UInt8.self), key.baseAddress!.assumingMemoryBound(to: UInt8.self))
        guard rc == 0 else { throw CryptoError.authenticationFailed }
        return count
    }
}
