/// Lioness wide-block cipher (Anderson–Biham) from XChaCha20 and keyed BLAKE2b: a block of any
/// length above 32 bytes is one permutation, so changing any bit of a ciphertext turns the
/// whole decrypted block into noise. Sphinx uses it for the payload.
///
/// Block = L (32 bytes) || R (the rest). Encryption, rounds 0 to 3:
/// R ^= XChaCha20(key: L ^ k0, nonce: 0); L ^= BLAKE2b-256(R, key: k1);
/// R ^= XChaCha20(key: L ^ k2, nonce: 0); L ^= BLAKE2b-256(R, key: k3).
/// Decryption runs the same rounds from 3 down to 0.
public struct Lioness: Sendable {
    /// 4 round keys of 32 bytes.
    public static let keyByteCount = 128
    /// The smallest block: L plus at least one byte of R.
    public static let minimumBlockLength = 33
    private static let halfLength = 32

    private let keys: SecureBytes

    /// A cipher under 128 bytes of key (four 32-byte round keys).
    public init(key: SecureBytes) throws {
        try requireLength("Lioness key", key.count, Self.keyByteCount)
        keys = key
    }

    /// Encrypts `block` in place.
    public func encrypt(_ block: UnsafeMutableRawBufferPointer) throws {
        try keys.withUnsafeBytes { try Self.apply(block, keys: $0, rounds: [0, 1, 2, 3]) }
    }

    /// Decrypts `block` in place.
    public func decrypt(_ block: UnsafeMutableRawBufferPointer) throws {
        try keys.withUnsafeBytes { try Self.apply(block, keys: $0, rounds: [3, 2, 1, 0]) }
    }

    /// Array forms.
    public func encrypt(_ block: inout [UInt8]) throws { try block.withUnsafeMutableBytes { try encrypt($0) } }
    public func decrypt(_ block: inout [UInt8]) throws { try block.withUnsafeMutableBytes { try decrypt($0) } }

    /// Decrypts in place with the 128 key bytes given directly (hot path: no key object).
    @inline(__always)
    public static func decrypt(_ block: UnsafeMutableRawBufferPointer, keys: UnsafeRawBufferPointer) throws {
        try apply(block, keys: keys, rounds: [3, 2, 1, 0])
    }

    /// Encrypts in place with the 128 key bytes given directly.
    @inline(__always)
    public static func encrypt(_ block: UnsafeMutableRawBufferPointer, keys: UnsafeRawBufferPointer) throws {
        try apply(block, keys: keys, rounds: [0, 1, 2, 3])
    }

    private static func apply(_ block: UnsafeMutableRawBufferPointer, keys: UnsafeRawBufferPointer, rounds: [Int]) throws {
        guard block.count >= minimumBlockLength else {
            throw CryptoError.invalidParameter("Lioness block of \(block.count) bytes; at least \(minimumBlockLength) needed")
        }
        precondition(keys.count == keyByteCount)
        let left = UnsafeMutableRawBufferPointer(rebasing: block[0..<halfLength])
        let right = UnsafeMutableRawBufferPointer(rebasing: block[halfLength...])
        withUnsafeTemporaryAllocation(byteCount: 32 + 24, alignment: 8) { scratch in
            let temp = UnsafeMutableRawBufferPointer(rebasing: scratch[0..<32])
            let zeroNonce = UnsafeMutableRawBufferPointer(rebasing: scratch[32..<56])
            zeroNonce.initializeMemory(as: UInt8.self, repeating: 0)
            for round in rounds {
                let k = UnsafeRawBufferPointer(rebasing: keys[(round * 32)..<(round * 32 + 32)])
                if round % 2 == 1 {
                    BLAKE2b.hash(UnsafeRawBufferPointer(right), key: k, into: temp)
                    for i in 0..<halfLength { left[i] ^= temp[i] }
                } else {
                    for i in 0..<halfLength { temp[i] = left[i] ^ k[i] }
                    XChaCha20.xor(right, key: UnsafeRawBufferPointer(temp), nonce: UnsafeRawBufferPointer(zeroNonce))
                }
            }
            ConstantTime.wipe(temp)
        }
    }
}
