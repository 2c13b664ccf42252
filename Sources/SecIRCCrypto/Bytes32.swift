/// Exactly 32 bytes held inline (no heap allocation): public keys, IDs, hashes on hot paths.
/// Not for secrets (equality is not constant time; use `SecureBytes` for those).
public struct Bytes32: Hashable, Sendable {
    // Four words keep the value inline, aligned and cheap to hash.
    private var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)

    public static let byteCount = 32

    /// All zeros.
    public static let zero = Bytes32()

    private init() {}

    /// Copies exactly 32 bytes; any other count throws.
    public init(_ bytes: some Collection<UInt8>, what: String = "value") throws {
        try requireLength(what, bytes.count, Self.byteCount)
        self.init()
        withUnsafeMutableBytes(of: &words) { raw in
            for (i, byte) in bytes.enumerated() { raw[i] = byte }
        }
    }

    /// Copies the first 32 bytes of `buffer`, which must hold at least 32.
    public init(copying buffer: UnsafeRawBufferPointer) {
        precondition(buffer.count >= Self.byteCount, "Bytes32(copying:) needs 32 bytes")
        self.init()
        withUnsafeMutableBytes(of: &words) { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: buffer[0..<32])) }
    }

    /// Lets `body` write all 32 bytes.
    public init(filling body: (UnsafeMutableRawBufferPointer) throws -> Void) rethrows {
        self.init()
        try withUnsafeMutableBytes(of: &words) { try body($0) }
    }

    /// Reads the bytes without copying.
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try Swift.withUnsafeBytes(of: words) { try body($0) }
    }

    /// The bytes as an array.
    public var bytes: [UInt8] { withUnsafeBytes { Array($0) } }

    /// Byte-wise order (the bytes as an unsigned big-endian number), without copying them: what
    /// `bytes.lexicographicallyPrecedes(other.bytes)` says, with no two arrays made per comparison.
    public func lexicographicallyPrecedes(_ other: Bytes32) -> Bool {
        var a = words, b = other.words
        if a.0 != b.0 { return UInt64(bigEndian: a.0) < UInt64(bigEndian: b.0) }
        if a.1 != b.1 { return UInt64(bigEndian: a.1) < UInt64(bigEndian: b.1) }
        if a.2 != b.2 { return UInt64(bigEndian: a.2) < UInt64(bigEndian: b.2) }
        a.3 = UInt64(bigEndian: a.3)
        b.3 = UInt64(bigEndian: b.3)
        return a.3 < b.3
    }

    /// Lowercase hexadecimal.
    public var hex: String { Hex.encode(bytes) }

    /// Parses 64 hex digits.
    public init(hex: String, what: String = "value") throws {
        try self.init(try Hex.decode(hex), what: what)
    }

    public static func == (lhs: Bytes32, rhs: Bytes32) -> Bool {
        lhs.words.0 == rhs.words.0 && lhs.words.1 == rhs.words.1
            && lhs.words.2 == rhs.words.2 && lhs.words.3 == rhs.words.3
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(words.0)
        hasher.combine(words.1)
        hasher.combine(words.2)
        hasher.combine(words.3)
    }
}

extension Bytes32: CustomStringConvertible {
    public var description: String { hex }
}

/// Hexadecimal text, lowercase on output, either case on input.
public enum Hex {
    private static let digits = Array("0123456789abcdef".utf8)

    public static func encode(_ bytes: some Sequence<UInt8>) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.underestimatedCount * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Throws `CryptoError.invalidEncoding` on an odd length or a non-hex character.
    public static func decode(_ text: String) throws -> [UInt8] {
        let utf8 = Array(text.utf8)
        guard utf8.count % 2 == 0 else { throw CryptoError.invalidEncoding("hex text has an odd length") }
        var out = [UInt8]()
        out.reserveCapacity(utf8.count / 2)
        var i = 0
        while i < utf8.count {
            guard let hi = nibble(utf8[i]), let lo = nibble(utf8[i + 1]) else {
                throw CryptoError.invalidEncoding("not a hex digit at offset \(i)")
            }
            out.append(hi << 4 | lo)
            i += 2
        }
        return out
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
