public import SecIRCCrypto

/// A handshake initiation (message types 1 and 2), decoded but not verified.
/// ```
/// IK (145): type(1) | sender index(4) | ephemeral(32) | encrypted static(48) | encrypted timestamp(28) | mac1(16) | mac2(16)
/// NK  (97): type(1) | sender index(4) | ephemeral(32) |                        encrypted timestamp(28) | mac1(16) | mac2(16)
/// ```
/// The bytes from the ephemeral to the encrypted timestamp are the first Noise message.
public struct LinkInitiation: Sendable, Hashable {
    public static let senderIndexOffset = 1
    public static let ephemeralOffset = 5
    /// The Noise message starts at the ephemeral key.
    public static let noiseOffset = ephemeralOffset

    public let kind: LinkHandshakeKind
    /// The initiator's index: the responder's packets carry it as receiver index.
    public let senderIndex: UInt32
    public let ephemeral: Bytes32
    /// IK only: the initiator's static key, encrypted (48 bytes).
    public let encryptedStatic: [UInt8]?
    /// The 12-byte timestamp, encrypted (28 bytes).
    public let encryptedTimestamp: [UInt8]
    public let mac1: [UInt8]
    public let mac2: [UInt8]

    /// Offset of mac1: everything before it is what mac1 covers.
    public static func mac1Offset(_ kind: LinkHandshakeKind) -> Int { kind.initiationLength - 2 * LinkWireFormat.macLength }
    /// Offset of mac2: everything before it (including mac1) is what mac2 covers.
    public static func mac2Offset(_ kind: LinkHandshakeKind) -> Int { kind.initiationLength - LinkWireFormat.macLength }

    /// Splits an initiation whose type and exact length the caller has checked.
    init(checked bytes: [UInt8], kind: LinkHandshakeKind) {
        precondition(bytes.count == kind.initiationLength)
        self.kind = kind
        senderIndex = LinkWireFormat.readUInt32(bytes, at: Self.senderIndexOffset)
        ephemeral = bytes[Self.ephemeralOffset..<(Self.ephemeralOffset + 32)].withUnsafeBytes { Bytes32(copying: $0) }
        var offset = Self.ephemeralOffset + LinkWireFormat.keyLength
        if kind == .ik {
            encryptedStatic = Array(bytes[offset..<(offset + LinkWireFormat.encryptedStaticLength)])
            offset += LinkWireFormat.encryptedStaticLength
        } else {
            encryptedStatic = nil
        }
        encryptedTimestamp = Array(bytes[offset..<(offset + LinkWireFormat.encryptedTimestampLength)])
        mac1 = Array(bytes[Self.mac1Offset(kind)..<Self.mac2Offset(kind)])
        mac2 = Array(bytes[Self.mac2Offset(kind)...])
    }

    /// The first Noise handshake message: ephemeral || encrypted static (IK) || encrypted timestamp.
    public var noiseMessage: [UInt8] { ephemeral.bytes + (encryptedStatic ?? []) + encryptedTimestamp }

    /// The wire bytes.
    public var encoded: [UInt8] {
        var out = [kind.initiationType.rawValue]
        out.reserveCapacity(kind.initiationLength)
        LinkWireFormat.append(senderIndex, to: &out)
        out += noiseMessage + mac1 + mac2
        return out
    }
}
