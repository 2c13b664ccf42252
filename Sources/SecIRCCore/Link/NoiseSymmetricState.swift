public import SecIRCCrypto

/// Noise's `SymmetricState` (§5.2) for BLAKE2b: chaining key `ck` and handshake hash `h`, both
/// 64 bytes, plus a `NoiseCipherState`. HASH is BLAKE2b-512, HKDF is `NoiseHKDF` (HMAC-BLAKE2b);
/// cipher keys are the first 32 bytes of an HKDF output.
public struct NoiseSymmetricState: Sendable {
    /// HASHLEN.
    public static let hashLength = 64

    public private(set) var cipher = NoiseCipherState()
    private var chainingKey: SecureBytes
    /// `h`: binds everything sent and received so far; equal on both sides after a handshake.
    public private(set) var handshakeHash: [UInt8]

    /// `InitializeSymmetric(protocol_name)`: `h` = the name padded with zeros to 64 bytes when it
    /// fits, else BLAKE2b-512(name); `ck` = `h`; no cipher key.
    public init(protocolName: String) {
        let name = Array(protocolName.utf8)
        if name.count <= Self.hashLength {
            handshakeHash = name + [UInt8](repeating: 0, count: Self.hashLength - name.count)
        } else {
            handshakeHash = BLAKE2b.hash(name, outputLength: Self.hashLength)
        }
        chainingKey = SecureBytes(handshakeHash)
    }

    /// `MixHash(data)`: h = HASH(h || data).
    public mutating func mixHash(_ data: [UInt8]) {
        handshakeHash = BLAKE2b.hash(handshakeHash + data, outputLength: Self.hashLength)
    }

    /// `MixKey(input_key_material)`: ck, temp_k = HKDF(ck, ikm, 2); the cipher gets temp_k[0..<32].
    public mutating func mixKey(_ inputKeyMaterial: SecureBytes) {
        let (ck, temp) = inputKeyMaterial.withUnsafeBytes { NoiseHKDF.derive2(chainingKey: chainingKey, inputKeyMaterial: $0) }
        chainingKey = ck
        cipher = NoiseCipherState(key: Self.cipherKey(from: temp))
    }

    /// `EncryptAndHash(plaintext)`: encrypts with h as associated data (plaintext passes through
    /// while there is no key), then mixes the ciphertext into h.
    public mutating func encryptAndHash(_ plaintext: [UInt8]) throws(NoiseError) -> [UInt8] {
        let ciphertext = try cipher.encrypt(plaintext, associatedData: handshakeHash)
        mixHash(ciphertext)
        return ciphertext
    }

    /// `DecryptAndHash(ciphertext)`.
    public mutating func decryptAndHash(_ ciphertext: [UInt8]) throws(NoiseError) -> [UInt8] {
        let plaintext = try cipher.decrypt(ciphertext, associatedData: handshakeHash)
        mixHash(ciphertext)
        return plaintext
    }

    /// `Split()`: temp_k1, temp_k2 = HKDF(ck, empty, 2); the first cipher state is for messages
    /// from the initiator, the second for messages from the responder.
    public func split() -> (initiatorToResponder: NoiseCipherState, responderToInitiator: NoiseCipherState) {
        let (k1, k2) = NoiseHKDF.derive2(chainingKey: chainingKey, inputKeyMaterial: [])
        return (NoiseCipherState(key: Self.cipherKey(from: k1)), NoiseCipherState(key: Self.cipherKey(from: k2)))
    }

    /// The first 32 bytes of a 64-byte HKDF output, as a key (HASHLEN 64 → truncate, Noise §5.2).
    private static func cipherKey(from output: SecureBytes) -> SymmetricKey {
        let truncated = output.withUnsafeBytes { bytes in
            SecureBytes(count: SymmetricKey.byteCount) {
                $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[0..<SymmetricKey.byteCount]))
            }
        }
        return try! SymmetricKey(secret: truncated) // 32 bytes by construction
    }
}
