/// A transport packet (message type 5), decoded but not verified.
/// ```
/// type(1) | receiver index(4) | counter(8) | ChaCha20-Poly1305(plaintext) || tag(16)
/// ```
/// The AEAD nonce is 4 zero bytes || counter little-endian; the associated data is the 13-byte
/// header. Data packets carry exactly `PacketGeometry.linkFrameLength` plaintext bytes, so the
/// datagram is exactly `datagramSize` (1232) bytes.
public struct LinkTransportPacket: Sendable, Hashable {
    public static let receiverIndexOffset = 1
    public static let counterOffset = 5
    public static let ciphertextOffset = LinkWireFormat.transportHeaderLength

    /// The index the receiving side chose for this session.
    public let receiverIndex: UInt32
    /// The sender's packet counter: the AEAD nonce and the replay-window position.
    public let counter: UInt64
    /// Ciphertext || tag.
    public let ciphertext: [UInt8]

    init(checked bytes: [UInt8]) {
        precondition(bytes.count >= LinkWireFormat.transportMinimumLength)
        receiverIndex = LinkWireFormat.readUInt32(bytes, at: Self.receiverIndexOffset)
        counter = LinkWireFormat.readUInt64(bytes, at: Self.counterOffset)
        ciphertext = Array(bytes[Self.ciphertextOffset...])
    }

    /// The 13-byte header: the AEAD's associated data.
    public var header: [UInt8] {
        var out = [LinkMessageType.transport.rawValue]
        out.reserveCapacity(LinkWireFormat.transportHeaderLength)
        LinkWireFormat.append(receiverIndex, to: &out)
        LinkWireFormat.append(counter, to: &out)
        return out
    }

    /// The wire bytes.
    public var encoded: [UInt8] { header + ciphertext }
}
