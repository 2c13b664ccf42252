public import SecIRCCrypto

/// Noise's `CipherState` (§5.1) for ChaChaPoly: a key `k` (or none) and a 64-bit nonce `n`.
/// ENCRYPT(k, n, ad, p) is ChaCha20-Poly1305-IETF with nonce = 4 zero bytes || n little-endian.
/// Without a key, encryption and decryption return their input unchanged (as Noise says).
///
/// A value type: two copies that both encrypt would reuse nonces. Keep exactly one copy that
/// encrypts.
public struct NoiseCipherState: Sendable {
    /// Noise reserves 2^64 - 1: no message is ever encrypted with it.
    public static let reservedNonce = UInt64.max

    /// The key, when one is set. Internal: the link layer takes the split keys from here.
    private(set) var key: SymmetricKey?
    /// The next nonce.
    public private(set) var nonce: UInt64 = 0

    /// A cipher state with no key (`InitializeKey(empty)`).
    public init() {}

    /// `InitializeKey(key)`: nonce 0.
    public init(key: SymmetricKey) {
        self.key = key
    }

    /// `HasKey()`.
    public var hasKey: Bool { key != nil }

    /// `SetNonce(n)`.
    public mutating func setNonce(_ value: UInt64) { nonce = value }

    /// `EncryptWithAd(ad, plaintext)`: increments the nonce on success.
    public mutating func encrypt(_ plaintext: [UInt8], associatedData: [UInt8]) throws(NoiseError) -> [UInt8] {
        guard let key else { return plaintext }
        guard nonce != Self.reservedNonce else { throw NoiseError.nonceExhausted }
        let sealed: [UInt8]
        do {
            sealed = try ChaCha20Poly1305.seal(plaintext, key: key, nonce: ChaCha20Poly1305.nonce(counter: nonce),
                                               associatedData: associatedData)
        } catch {
            throw NoiseError.decryptFailed // unreachable: the nonce is 12 bytes by construction
        }
        nonce += 1
        return sealed
    }

    /// `DecryptWithAd(ad, ciphertext)`: increments the nonce only when authentication succeeds.
    public mutating func decrypt(_ ciphertext: [UInt8], associatedData: [UInt8]) throws(NoiseError) -> [UInt8] {
        guard let key else { return ciphertext }
        guard nonce != Self.reservedNonce else { throw NoiseError.nonceExhausted }
        let opened: [UInt8]
        do {
            opened = try ChaCha20Poly1305.open(ciphertext, key: key, nonce: ChaCha20Poly1305.nonce(counter: nonce),
                                               associatedData: associatedData)
        } catch {
            throw NoiseError.decryptFailed
        }
        nonce += 1
        return opened
    }
}
