import SecIRCCrypto

/// Decodes a hex literal from a test vector; a malformed literal is a bug in the test itself.
func hexBytes(_ text: String) throws -> [UInt8] {
    try Hex.decode(text)
}

/// `bytes` with bit `bit` (0 = least significant bit of byte 0) inverted.
func flippingBit(_ bit: Int, of bytes: [UInt8]) -> [UInt8] {
    var copy = bytes
    copy[bit / 8] ^= UInt8(1) << UInt8(bit % 8)
    return copy
}

/// A deterministic `SecureBytes` of `count` bytes for the given seed text.
func seededSecret(_ count: Int, seed: String) -> SecureBytes {
    var rng = SeededRandom(seed: seed)
    return SecureBytes(randomCount: count, using: &rng)
}

/// A deterministic `SymmetricKey` for the given seed text.
func seededKey(_ seed: String) -> SymmetricKey {
    var rng = SeededRandom(seed: seed)
    return SymmetricKey(using: &rng)
}

/// Number of positions at which two equally long byte sequences differ.
func differingBytes(_ a: some Collection<UInt8>, _ b: some Collection<UInt8>) -> Int {
    zip(a, b).reduce(0) { $0 + ($1.0 == $1.1 ? 0 : 1) }
}
