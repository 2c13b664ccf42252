/// ASCII case folding for header names (RFC 9110: names are case-insensitive ASCII tokens),
/// cheaper than Unicode `lowercased()` and returning the same string when nothing changes.
enum ASCII {
    static func lowercased(_ text: String) -> String {
        var text = text
        return text.withUTF8 { bytes in
            guard bytes.contains(where: { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") }) else { return nil }
            return String(unsafeUninitializedCapacity: bytes.count) { out in
                for (index, byte) in bytes.enumerated() {
                    out[index] = byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
                }
                return bytes.count
            }
        } ?? text
    }

    /// Case-insensitive equality of an ASCII `text` with a lowercase ASCII `lowercase`.
    static func equalsIgnoringCase(_ text: String, _ lowercase: StaticString) -> Bool {
        let other = UnsafeBufferPointer(start: lowercase.utf8Start, count: lowercase.utf8CodeUnitCount)
        guard text.utf8.count == other.count else { return false }
        return zip(text.utf8, other).allSatisfy { ($0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") ? $0 | 0x20 : $0) == $1 }
    }
}
