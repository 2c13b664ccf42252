/// Every constant of the link wire format (docs/PROTOCOL.md, "Link layer"). Specification values
/// only; implementation limits are in `LinkLimits`. All integers on the wire are big-endian,
/// except the AEAD nonce counter, which is little-endian inside the nonce as Noise says.
public enum LinkWireFormat {
    /// The Noise prologue of both handshakes: the 14 ASCII bytes "secIRC link v1".
    public static let prologue: [UInt8] = Array("secIRC link v1".utf8)
    /// mac1 key = BLAKE2b-256(mac1Label || responder static public key).
    public static let mac1Label: [UInt8] = Array("mac1----".utf8)
    /// Cookie-reply key = BLAKE2b-256(cookieLabel || responder static public key).
    public static let cookieLabel: [UInt8] = Array("cookie--".utf8)

    public static let typeLength = 1
    public static let indexLength = 4
    public static let counterLength = 8
    public static let keyLength = 32
    public static let tagLength = 16
    public static let macLength = 16
    public static let timestampLength = 12
    public static let cookieLength = 16
    public static let cookieNonceLength = 24

    /// Encrypted static key (IK): key || tag.
    public static let encryptedStaticLength = keyLength + tagLength
    /// Encrypted timestamp: timestamp || tag.
    public static let encryptedTimestampLength = timestampLength + tagLength
    /// Encrypted empty payload of the response: a bare tag.
    public static let encryptedEmptyLength = tagLength
    /// Encrypted cookie: cookie || tag.
    public static let encryptedCookieLength = cookieLength + tagLength

    /// type | sender index | ephemeral | encrypted static | encrypted timestamp | mac1 | mac2 = 145.
    public static let initiationIKLength = typeLength + indexLength + keyLength + encryptedStaticLength
        + encryptedTimestampLength + 2 * macLength
    /// type | sender index | ephemeral | encrypted timestamp | mac1 | mac2 = 97.
    public static let initiationNKLength = typeLength + indexLength + keyLength + encryptedTimestampLength + 2 * macLength
    /// type | sender index | receiver index | ephemeral | encrypted empty | mac1 | mac2 = 89.
    public static let responseLength = typeLength + 2 * indexLength + keyLength + encryptedEmptyLength + 2 * macLength
    /// type | receiver index | nonce | encrypted cookie = 61.
    public static let cookieReplyLength = typeLength + indexLength + cookieNonceLength + encryptedCookieLength
    /// type | receiver index | counter = 13: the AEAD's associated data.
    public static let transportHeaderLength = typeLength + indexLength + counterLength
    /// A transport packet with an empty plaintext: header and tag.
    public static let transportMinimumLength = transportHeaderLength + tagLength

    /// A handshake message (initiation, response or cookie reply) as sent: its bytes, then
    /// zeros up to `geometry.datagramSize`, so that every datagram on the wire has one size
    /// (docs/PROTOCOL.md §4.1). The MACs cover the message only; a receiver refuses a datagram
    /// whose padding is not all zeros.
    public static func padded(_ message: [UInt8], geometry: PacketGeometry) -> [UInt8] {
        precondition(message.count <= geometry.datagramSize, "a handshake message fits one datagram")
        var out = message
        out.append(contentsOf: repeatElement(0, count: geometry.datagramSize - message.count))
        return out
    }

    // Big-endian field access at fixed offsets, for decoders that have checked the length.
    static func readUInt32(_ bytes: [UInt8], at offset: Int) -> UInt32 {
        (offset..<(offset + 4)).reduce(UInt32(0)) { $0 << 8 | UInt32(bytes[$1]) }
    }

    static func readUInt64(_ bytes: [UInt8], at offset: Int) -> UInt64 {
        (offset..<(offset + 8)).reduce(UInt64(0)) { $0 << 8 | UInt64(bytes[$1]) }
    }

    static func append(_ value: UInt32, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
    }

    static func append(_ value: UInt64, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
    }
}
