public import SecIRCCrypto

/// The Double Ratchet's key derivation and message encryption (Signal spec §3.1, §5.2), all
/// over HMAC-BLAKE2b-512 and XChaCha20-Poly1305:
/// ```
/// KDF_RK(rk, dh_out):
///     o1, o2 = NoiseHKDF(chaining_key: rk, ikm: dh_out || "secIRC ratchet root v1")
///     rk' = o1[0..<32], ck = o2[0..<32]
/// KDF_CK(ck):
///     mk  = HMAC-BLAKE2b(ck, 0x01)             (64 bytes)
///     ck' = HMAC-BLAKE2b(ck, 0x02)[0..<32]
/// ENCRYPT(mk, plaintext, AD):
///     XChaCha20-Poly1305(key: mk[0..<32], nonce: mk[32..<56], ad: AD)
/// ```
/// `NoiseHKDF` is RFC 5869 HKDF with the root key as salt and the IKM above; the label binds
/// the root chain to this protocol and version. Every message key encrypts exactly one message,
/// so the nonce taken from it never repeats under its key.
public enum RatchetKDF {
    /// Appended to the DH output in `KDF_RK`.
    public static let rootLabel = Array("secIRC ratchet root v1".utf8)
    /// `KDF_CK` input byte for the message key.
    public static let messageKeyConstant: UInt8 = 0x01
    /// `KDF_CK` input byte for the next chain key.
    public static let chainKeyConstant: UInt8 = 0x02
    /// A message key: 32 bytes of AEAD key, 24 of nonce, 8 unused.
    public static let messageKeyLength = HMACBLAKE2b.outputLength

    /// `KDF_RK`: the next root key and a fresh chain key.
    public static func rootStep(rootKey: SymmetricKey, dhOutput: SecureBytes) -> (rootKey: SymmetricKey, chainKey: SymmetricKey) {
        let chaining = rootKey.withUnsafeBytes { rk in SecureBytes(count: rk.count) { $0.copyMemory(from: rk) } }
        let inputKeyMaterial = dhOutput.withUnsafeBytes { dh in
            SecureBytes(count: dh.count + rootLabel.count) { out in
                UnsafeMutableRawBufferPointer(rebasing: out[0..<dh.count]).copyMemory(from: dh)
                rootLabel.withUnsafeBytes { UnsafeMutableRawBufferPointer(rebasing: out[dh.count...]).copyMemory(from: $0) }
            }
        }
        let (first, second) = inputKeyMaterial.withUnsafeBytes {
            NoiseHKDF.derive2(chainingKey: chaining, inputKeyMaterial: $0)
        }
        return (truncatedKey(first), truncatedKey(second))
    }

    /// `KDF_CK`: this step's message key (64 bytes) and the next chain key.
    public static func chainStep(_ chainKey: SymmetricKey) -> (messageKey: SecureBytes, chainKey: SymmetricKey) {
        chainKey.withUnsafeBytes { ck in
            let messageKey = SecureBytes(count: messageKeyLength) { out in
                withUnsafeBytes(of: messageKeyConstant) { HMACBLAKE2b.authenticate($0, key: ck, into: out) }
            }
            let next = SecureBytes(count: messageKeyLength) { out in
                withUnsafeBytes(of: chainKeyConstant) { HMACBLAKE2b.authenticate($0, key: ck, into: out) }
            }
            return (messageKey, truncatedKey(next))
        }
    }

    /// Encrypts under a 64-byte message key; returns ciphertext || tag.
    public static func seal(_ plaintext: [UInt8], messageKey: SecureBytes, associatedData: [UInt8]) -> [UInt8] {
        withAEADParameters(messageKey) { key, nonce in
            // The nonce is 24 bytes by construction, so `seal` cannot throw.
            try! XChaCha20Poly1305.seal(plaintext, key: key, nonce: nonce, associatedData: associatedData)
        }
    }

    /// Checks and decrypts ciphertext || tag under a 64-byte message key.
    public static func open(_ ciphertext: [UInt8], messageKey: SecureBytes, associatedData: [UInt8]) throws(RatchetError) -> [UInt8] {
        let plaintext = withAEADParameters(messageKey) { key, nonce in
            try? XChaCha20Poly1305.open(ciphertext, key: key, nonce: nonce, associatedData: associatedData)
        }
        guard let plaintext else { throw .authenticationFailed }
        return plaintext
    }

    private static func withAEADParameters<R>(_ messageKey: SecureBytes, _ body: (SymmetricKey, [UInt8]) -> R) -> R {
        precondition(messageKey.count == messageKeyLength, "message keys are 64 bytes")
        return messageKey.withUnsafeBytes { mk in
            let keyBytes = SecureBytes(count: XChaCha20Poly1305.keyByteCount) {
                $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: mk[0..<XChaCha20Poly1305.keyByteCount]))
            }
            let key = try! SymmetricKey(secret: keyBytes) // 32 bytes by construction
            var nonce = Array(mk[XChaCha20Poly1305.keyByteCount..<(XChaCha20Poly1305.keyByteCount + XChaCha20Poly1305.nonceByteCount)])
            defer { ConstantTime.wipe(&nonce) }
            return body(key, nonce)
        }
    }

    private static func truncatedKey(_ output: SecureBytes) -> SymmetricKey {
        let bytes = output.withUnsafeBytes { out in
            SecureBytes(count: SymmetricKey.byteCount) {
                $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: out[0..<SymmetricKey.byteCount]))
            }
        }
        return try! SymmetricKey(secret: bytes) // 32 bytes by construction
    }
}
