public import SecIRCCrypto

/// Sixteen random bytes that name one message end to end: the receiver de-duplicates by it and
/// acknowledges it in receipts. Also used as the ID of one fragmented transfer. Printed as hex.
public struct MessageID: Hashable, Sendable, CustomStringConvertible {
    public static let byteCount = 16

    // Held inline as two big-endian words, so the ID costs no heap allocation.
    private let high: UInt64
    private let low: UInt64

    /// Exactly 16 bytes; throws `DecodeError.incomplete` / `trailingBytes` for any other length.
    public init(bytes: [UInt8]) throws(DecodeError) {
        if bytes.count < Self.byteCount { throw .incomplete(deficit: Self.byteCount - bytes.count) }
        if bytes.count > Self.byteCount { throw .trailingBytes(count: bytes.count - Self.byteCount) }
        high = bytes[0..<8].reduce(0) { $0 << 8 | UInt64($1) }
        low = bytes[8..<16].reduce(0) { $0 << 8 | UInt64($1) }
    }

    /// A fresh ID from `rng`.
    public init(using rng: inout some RandomSource) {
        high = rng.next()
        low = rng.next()
    }

    /// 32 hex digits (either case); throws `DecodeError.invalidValue` for anything else.
    public init(hex: String) throws(DecodeError) {
        let bytes: [UInt8]
        do { bytes = try Hex.decode(hex) } catch { throw .invalidValue("message ID is not hex") }
        guard bytes.count == Self.byteCount else {
            throw .invalidValue("message ID of \(bytes.count) bytes, expected \(Self.byteCount)")
        }
        try self.init(bytes: bytes)
    }

    /// The 16 bytes, as on the wire.
    public var bytes: [UInt8] {
        var w = ByteWriter(capacity: Self.byteCount)
        w.write(high)
        w.write(low)
        return w.bytes
    }

    /// 32 lowercase hex digits.
    public var hex: String { Hex.encode(bytes) }

    public var description: String { hex }
}
