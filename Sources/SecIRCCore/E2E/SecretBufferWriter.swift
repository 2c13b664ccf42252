import SecIRCCrypto

/// Writes big-endian fields straight into zero-on-free memory, so serialised secrets never sit
/// in an ordinary array. The caller sizes the buffer exactly; writing past it is a programming
/// error and traps.
struct SecretBufferWriter {
    private let buffer: UnsafeMutableRawBufferPointer
    private(set) var offset = 0

    init(_ buffer: UnsafeMutableRawBufferPointer) { self.buffer = buffer }

    mutating func write(_ value: UInt8) { write(bytes: withUnsafeBytes(of: value) { Array($0) }) }

    mutating func write(_ value: UInt32) { withUnsafeBytes(of: value.bigEndian) { write($0) } }

    mutating func write(_ value: Bytes32) { value.withUnsafeBytes { write($0) } }

    mutating func write(_ secret: SecureBytes) { secret.withUnsafeBytes { write($0) } }

    mutating func write(_ key: SymmetricKey) { key.withUnsafeBytes { write($0) } }

    mutating func write(_ key: AgreementPrivateKey) { key.withUnsafeScalar { write($0) } }

    private mutating func write(bytes: [UInt8]) { bytes.withUnsafeBytes { write($0) } }

    private mutating func write(_ source: UnsafeRawBufferPointer) {
        precondition(offset + source.count <= buffer.count, "serialised state larger than its buffer")
        UnsafeMutableRawBufferPointer(rebasing: buffer[offset..<(offset + source.count)]).copyMemory(from: source)
        offset += source.count
    }
}
