/// A cookie reply (message type 4), decoded but not verified.
/// ```
/// type(1) | receiver index(4) | nonce(24) | encrypted cookie(16 + 16)   = 61
/// ```
/// The cookie is sealed with XChaCha20-Poly1305 under BLAKE2b-256("cookie--" || responder static
/// public key), with the initiation's mac1 as associated data.
public struct LinkCookieReply: Sendable, Hashable {
    public static let receiverIndexOffset = 1
    public static let nonceOffset = 5
    public static let encryptedCookieOffset = 29

    /// The sender index of the initiation this answers.
    public let receiverIndex: UInt32
    public let nonce: [UInt8]
    public let encryptedCookie: [UInt8]

    init(checked bytes: [UInt8]) {
        precondition(bytes.count == LinkWireFormat.cookieReplyLength)
        receiverIndex = LinkWireFormat.readUInt32(bytes, at: Self.receiverIndexOffset)
        nonce = Array(bytes[Self.nonceOffset..<Self.encryptedCookieOffset])
        encryptedCookie = Array(bytes[Self.encryptedCookieOffset...])
    }

    init(receiverIndex: UInt32, nonce: [UInt8], encryptedCookie: [UInt8]) {
        self.receiverIndex = receiverIndex
        self.nonce = nonce
        self.encryptedCookie = encryptedCookie
    }

    /// The wire bytes.
    public var encoded: [UInt8] {
        var out = [LinkMessageType.cookieReply.rawValue]
        out.reserveCapacity(LinkWireFormat.cookieReplyLength)
        LinkWireFormat.append(receiverIndex, to: &out)
        out += nonce + encryptedCookie
        return out
    }
}
