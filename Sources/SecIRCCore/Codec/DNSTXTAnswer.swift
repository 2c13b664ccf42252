/// The TXT records of a DNS answer message (RFC 1035 §4.1, TXT rdata §3.3.14), as `res_query`
/// returns it: one text per record, its character-strings joined (RFC 7208 §3.3), in the order
/// the server gave. Records of other types (a CNAME on the way) are skipped.
///
/// Bounded and never trapping: at most ``maximumRecords`` records are read, names are followed
/// through at most ``maximumPointers`` compression pointers, each only backwards, and every length
/// is checked before it is used; anything else throws ``DecodeError``.
public enum DNSTXTAnswer {
    /// Records read at most; the rest of a longer answer is ignored.
    public static let maximumRecords = 32
    static let maximumPointers = 16
    static let typeTXT: UInt16 = 16
    static let classIN: UInt16 = 1

    public static func decode(_ message: [UInt8]) throws(DecodeError) -> [String] {
        var cursor = Cursor(bytes: message)
        _ = try cursor.uint16() // id
        let flags = try cursor.uint16()
        guard flags & 0x8000 != 0 else { throw .invalidValue("DNS message is a query, not a response") }
        let rcode = flags & 0x000F
        guard rcode == 0 else { throw .invalidValue("DNS response code \(rcode)") }
        let questions = try cursor.uint16()
        let answers = try cursor.uint16()
        _ = try cursor.uint16() // authority
        _ = try cursor.uint16() // additional
        for _ in 0..<questions {
            try cursor.skipName()
            try cursor.skip(4) // type, class
        }
        var texts: [String] = []
        for _ in 0..<answers {
            guard texts.count < maximumRecords else { break }
            try cursor.skipName()
            let type = try cursor.uint16()
            let recordClass = try cursor.uint16()
            try cursor.skip(4) // TTL
            let length = Int(try cursor.uint16())
            let rdata = try cursor.take(length)
            guard type == typeTXT, recordClass == classIN else { continue }
            texts.append(try text(of: rdata))
        }
        return texts
    }

    /// TXT rdata: one or more character-strings (a length byte, then that many bytes), joined.
    static func text(of rdata: ArraySlice<UInt8>) throws(DecodeError) -> String {
        guard !rdata.isEmpty else { throw .invalidValue("TXT record with no character-string") }
        var out: [UInt8] = []
        var i = rdata.startIndex
        while i < rdata.endIndex {
            let count = Int(rdata[i])
            i += 1
            guard rdata.endIndex - i >= count else { throw .incomplete(deficit: count - (rdata.endIndex - i)) }
            out += rdata[i..<i + count]
            i += count
        }
        guard let text = String(validating: out, as: UTF8.self) else { throw .invalidValue("TXT record is not UTF-8") }
        return text
    }

    /// Reads forward through a message; names may point backwards into it.
    struct Cursor {
        let bytes: [UInt8]
        var offset = 0

        mutating func take(_ count: Int) throws(DecodeError) -> ArraySlice<UInt8> {
            guard count >= 0, bytes.count - offset >= count else { throw .incomplete(deficit: count - (bytes.count - offset)) }
            defer { offset += count }
            return bytes[offset..<offset + count]
        }

        mutating func skip(_ count: Int) throws(DecodeError) { _ = try take(count) }

        mutating func uint16() throws(DecodeError) -> UInt16 {
            let two = try take(2)
            return UInt16(two[two.startIndex]) << 8 | UInt16(two[two.startIndex + 1])
        }

        /// Skips a name at the cursor, checking the labels it points to as well.
        mutating func skipName() throws(DecodeError) {
            var position = offset
            var pointers = 0
            var length = 0
            var endOfName: Int?
            while true {
                guard position < bytes.count else { throw .incomplete(deficit: 1) }
                let byte = bytes[position]
                switch byte & 0xC0 {
                case 0x00:
                    if byte == 0 {
                        offset = endOfName ?? position + 1
                        return
                    }
                    length += Int(byte) + 1
                    guard length <= 255 else { throw .invalidValue("DNS name longer than 255 bytes") }
                    position += 1 + Int(byte)
                case 0xC0:
                    guard position + 1 < bytes.count else { throw .incomplete(deficit: 1) }
                    let target = Int(byte & 0x3F) << 8 | Int(bytes[position + 1])
                    pointers += 1
                    guard pointers <= DNSTXTAnswer.maximumPointers, target < position else {
                        throw .invalidValue("DNS name compression pointer loops or points forward")
                    }
                    if endOfName == nil { endOfName = position + 2 }
                    position = target
                default:
                    throw .invalidValue("DNS label type \(byte >> 6) is not supported")
                }
            }
        }
    }
}
