public import SecIRCCrypto

/// A handshake response (message type 3), decoded but not verified.
/// ```
/// type(1) | sender index(4) | receiver index(4) | ephemeral(32) | encrypted empty payload(16) | mac1(16) | mac2(16)   = 89
/// ```
/// The bytes from the ephemeral to the encrypted payload are the second Noise message.
public struct LinkResponse: Sendable, Hashable {
    public static let senderIndexOffset = 1
    public static let receiverIndexOffset = 5
    public static let ephemeralOffset = 9
    public static let encryptedEmptyOffset = 41
    public static let mac1Offset = 57
    public static let mac2Offset = 73

    /// The responder's index: the initiator's packets carry it as receiver index.
    public let senderIndex: UInt32
    /// The initiator's index, copied from the initiation.
    public let receiverIndex: UInt32
    public let ephemeral: Bytes32
    public let encryptedEmpty: [UInt8]
    public let mac1: [UInt8]
    public let mac2: [UInt8]

    init(checked bytes: [UInt8]) {
        precondition(bytes.count == LinkWireFormat.responseLength)
        senderIndex = LinkWireFormat.readUInt32(bytes, at: Self.senderIndexOffset)
        receiverIndex = LinkWireFormat.readUInt32(bytes, at: Self.receiverIndexOffset)
        ephemeral = bytes[Self.ephemeralOffset..<Self.encryptedEmptyOffset].withUnsafeBytes { Bytes32(copying: $0) }
        encryptedEmpty = Array(bytes[Self.encryptedEmptyOffset..<Self.mac1Offset])
        mac1 = Array(bytes[Self.mac1Offset..<Self.mac2Offset])
        mac2 = Array(bytes[Self.mac2Offset...])
    }

    /// The second Noise handshake message: ephemeral || encrypted empty payload.
    public var noiseMessage: [UInt8] { ephemeral.bytes + encryptedEmpty }

    /// The wire bytes.
    public var encoded: [UInt8] {
        var out = [LinkMessageType.response.rawValue]
        out.reserveCapacity(LinkWireFormat.responseLength)
        LinkWireFormat.append(senderIndex, to: &out)
        LinkWireFormat.append(receiverIndex, to: &out)
        out += noiseMessage + mac1 + mac2
        return out
    }
}
