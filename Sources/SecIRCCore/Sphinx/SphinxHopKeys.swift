internal import SecIRCCrypto

/// The keys one hop derives from its Sphinx shared secret s = X25519(onion key, α):
/// k = BLAKE2b-256(s, key: "secIRC sphinx v1"), then XChaCha20(k, nonce 0) keystream bytes
/// `mac(32) | beta(32) | blind(32) | lioness(128) | replay tag(16)` = 240 bytes.
/// Lives in a stack buffer of the caller; nothing here allocates.
enum SphinxHopKeys {
    static let label: [UInt8] = Array("secIRC sphinx v1".utf8)
    static let macRange = 0..<32
    static let betaRange = 32..<64
    static let blindRange = 64..<96
    static let lionessRange = 96..<224
    static let replayTagRange = 224..<240
    static let byteCount = 240

    /// Fills `keys` (240 bytes) from the shared secret `secret` (32 bytes).
    @inline(__always)
    static func derive(secret: UnsafeRawBufferPointer, into keys: UnsafeMutableRawBufferPointer) {
        withUnsafeTemporaryAllocation(byteCount: 32 + 24, alignment: 8) { scratch in
            let k = UnsafeMutableRawBufferPointer(rebasing: scratch[0..<32])
            let nonce = UnsafeMutableRawBufferPointer(rebasing: scratch[32..<56])
            nonce.initializeMemory(as: UInt8.self, repeating: 0)
            label.withUnsafeBytes { BLAKE2b.hash(secret, key: $0, into: k) }
            keys.initializeMemory(as: UInt8.self, repeating: 0)
            XChaCha20.xor(keys, key: UnsafeRawBufferPointer(k), nonce: UnsafeRawBufferPointer(nonce))
            ConstantTime.wipe(k)
        }
    }

    /// keystream(beta key) XORed into `buffer` (β, or β followed by one zero slot).
    @inline(__always)
    static func xorBetaStream(_ buffer: UnsafeMutableRawBufferPointer, keys: UnsafeRawBufferPointer) {
        withUnsafeTemporaryAllocation(byteCount: 24, alignment: 8) { nonce in
            nonce.initializeMemory(as: UInt8.self, repeating: 0)
            XChaCha20.xor(buffer, key: UnsafeRawBufferPointer(rebasing: keys[betaRange]), nonce: UnsafeRawBufferPointer(nonce))
        }
    }

    /// γ = BLAKE2b-128(β, key: mac key), written into `gamma` (16 bytes).
    @inline(__always)
    static func mac(beta: UnsafeRawBufferPointer, keys: UnsafeRawBufferPointer, into gamma: UnsafeMutableRawBufferPointer) {
        BLAKE2b.hash(beta, key: UnsafeRawBufferPointer(rebasing: keys[macRange]), into: gamma)
    }

    /// The blinding factor b = BLAKE2b-256(α, key: blind key), written into `factor` (32 bytes).
    @inline(__always)
    static func blindingFactor(alpha: Bytes32, keys: UnsafeRawBufferPointer, into factor: UnsafeMutableRawBufferPointer) {
        alpha.withUnsafeBytes { BLAKE2b.hash($0, key: UnsafeRawBufferPointer(rebasing: keys[blindRange]), into: factor) }
    }
}
