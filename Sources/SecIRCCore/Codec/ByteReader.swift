public import SecIRCCrypto

/// Reads big-endian wire fields from a byte array, front to back. Every read checks the length
/// first and throws `DecodeError.incomplete` with the deficit; `finish()` rejects trailing bytes.
public struct ByteReader: Sendable {
    public let bytes: [UInt8]
    public private(set) var offset: Int

    public init(_ bytes: [UInt8]) {
        self.bytes = bytes
        offset = 0
    }

    /// Bytes not read yet.
    public var remaining: Int { bytes.count - offset }

    private mutating func take(_ count: Int) throws -> ArraySlice<UInt8> {
        precondition(count >= 0)
        guard count <= remaining else { throw DecodeError.incomplete(deficit: count - remaining) }
        defer { offset += count }
        return bytes[offset..<(offset + count)]
    }

    public mutating func readUInt8() throws -> UInt8 { try take(1).first! }

    public mutating func readUInt16() throws -> UInt16 { try readInteger() }

    public mutating func readUInt32() throws -> UInt32 { try readInteger() }

    public mutating func readUInt64() throws -> UInt64 { try readInteger() }

    private mutating func readInteger<T: FixedWidthInteger>() throws -> T {
        try take(MemoryLayout<T>.size).reduce(T(0)) { $0 << 8 | T($1) }
    }

    /// `count` bytes as an array.
    public mutating func readBytes(_ count: Int) throws -> [UInt8] { Array(try take(count)) }

    /// 32 bytes (keys, IDs, hashes) without a heap allocation.
    public mutating func readBytes32() throws -> Bytes32 {
        let slice = try take(Bytes32.byteCount)
        return slice.withUnsafeBytes { Bytes32(copying: $0) }
    }

    /// Everything not read yet.
    public mutating func readRest() -> [UInt8] {
        defer { offset = bytes.count }
        return Array(bytes[offset...])
    }

    /// Throws `trailingBytes` unless every byte was read.
    public func finish() throws {
        guard remaining == 0 else { throw DecodeError.trailingBytes(count: remaining) }
    }
}
