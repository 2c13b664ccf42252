/// The 12-byte timestamp an initiator encrypts into its initiation:
/// seconds since the Unix epoch (8 bytes, big-endian) || nanoseconds (4 bytes, big-endian,
/// below 10^9). Byte order equals time order. An IK responder keeps the greatest it accepted per
/// initiator static key and rejects an initiation that does not carry a greater one.
public struct LinkTimestamp: Hashable, Comparable, Sendable, CustomStringConvertible {
    public static let byteCount = LinkWireFormat.timestampLength

    public let seconds: UInt64
    public let nanoseconds: UInt32

    /// A timestamp; nanoseconds above 999,999,999 are clamped to it.
    public init(seconds: UInt64, nanoseconds: UInt32) {
        self.seconds = seconds
        self.nanoseconds = min(nanoseconds, 999_999_999)
    }

    /// The timestamp of `time` (a time before 1970 counts as the epoch).
    public init(_ time: UnixTime) {
        let nanos = max(time.nanoseconds, 0)
        self.init(seconds: UInt64(nanos / 1_000_000_000), nanoseconds: UInt32(nanos % 1_000_000_000))
    }

    /// Parses the 12 wire bytes; throws for another length or nanoseconds of 10^9 or more.
    public init(bytes: [UInt8]) throws(DecodeError) {
        guard bytes.count == Self.byteCount else {
            throw bytes.count < Self.byteCount
                ? DecodeError.incomplete(deficit: Self.byteCount - bytes.count)
                : DecodeError.trailingBytes(count: bytes.count - Self.byteCount)
        }
        let nanos = LinkWireFormat.readUInt32(bytes, at: 8)
        guard nanos < 1_000_000_000 else { throw DecodeError.invalidValue("timestamp nanoseconds \(nanos)") }
        self.init(seconds: LinkWireFormat.readUInt64(bytes, at: 0), nanoseconds: nanos)
    }

    /// The 12 wire bytes.
    public var bytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(Self.byteCount)
        LinkWireFormat.append(seconds, to: &out)
        LinkWireFormat.append(nanoseconds, to: &out)
        return out
    }

    public static func < (a: LinkTimestamp, b: LinkTimestamp) -> Bool {
        (a.seconds, a.nanoseconds) < (b.seconds, b.nanoseconds)
    }

    public var description: String { "\(seconds).\(nanoseconds)" }
}
