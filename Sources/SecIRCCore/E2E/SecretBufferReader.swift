import SecIRCCrypto

/// Reads big-endian fields from a buffer of secret bytes; secrets come out as `SecureBytes`.
/// Every read checks the length first and throws `DecodeError.incomplete`.
struct SecretBufferReader {
    private let buffer: UnsafeRawBufferPointer
    private(set) var offset = 0

    init(_ buffer: UnsafeRawBufferPointer) { self.buffer = buffer }

    var remaining: Int { buffer.count - offset }

    private mutating func take(_ count: Int) throws(DecodeError) -> UnsafeRawBufferPointer {
        guard count <= remaining else { throw .incomplete(deficit: count - remaining) }
        defer { offset += count }
        return UnsafeRawBufferPointer(rebasing: buffer[offset..<(offset + count)])
    }

    mutating func readUInt8() throws(DecodeError) -> UInt8 { try take(1)[0] }

    mutating func readUInt32() throws(DecodeError) -> UInt32 { try take(4).reduce(0) { $0 << 8 | UInt32($1) } }

    mutating func readBytes32() throws(DecodeError) -> Bytes32 { Bytes32(copying: try take(Bytes32.byteCount)) }

    mutating func readSecret(_ count: Int) throws(DecodeError) -> SecureBytes {
        let source = try take(count)
        return SecureBytes(count: count) { $0.copyMemory(from: source) }
    }

    func finish() throws(DecodeError) {
        guard remaining == 0 else { throw .trailingBytes(count: remaining) }
    }
}
