public import SecIRCCrypto

/// The plaintext header of a Double Ratchet message (Signal spec §3.4, `HEADER(dh, pn, n)`):
/// ```
/// ratchet public key (32) | previous chain length PN (4, big-endian) | message number N (4, big-endian)
/// ```
public struct RatchetHeader: Hashable, Sendable {
    public static let ratchetKeyLength = AgreementPublicKey.byteCount
    public static let counterLength = 4
    /// 40 bytes.
    public static let encodedLength = ratchetKeyLength + 2 * counterLength

    /// The sender's current ratchet public key.
    public var ratchetKey: AgreementPublicKey
    /// How many messages the sender sent in its previous sending chain.
    public var previousChainLength: UInt32
    /// The number of this message in the sender's current sending chain (from 0).
    public var messageNumber: UInt32

    public init(ratchetKey: AgreementPublicKey, previousChainLength: UInt32, messageNumber: UInt32) {
        self.ratchetKey = ratchetKey
        self.previousChainLength = previousChainLength
        self.messageNumber = messageNumber
    }

    /// The 40 wire bytes.
    public var encoded: [UInt8] {
        var writer = ByteWriter(capacity: Self.encodedLength)
        writer.write(ratchetKey.rawValue)
        writer.write(previousChainLength)
        writer.write(messageNumber)
        return writer.bytes
    }

    /// Decodes exactly 40 bytes.
    public static func decode(_ bytes: some Collection<UInt8>) throws(DecodeError) -> RatchetHeader {
        let bytes = Array(bytes)
        guard bytes.count >= encodedLength else { throw .incomplete(deficit: encodedLength - bytes.count) }
        guard bytes.count == encodedLength else { throw .trailingBytes(count: bytes.count - encodedLength) }
        let key = bytes.withUnsafeBytes { Bytes32(copying: $0) }
        return RatchetHeader(ratchetKey: AgreementPublicKey(rawValue: key),
                             previousChainLength: bigEndianUInt32(bytes, at: ratchetKeyLength),
                             messageNumber: bigEndianUInt32(bytes, at: ratchetKeyLength + counterLength))
    }

    private static func bigEndianUInt32(_ bytes: [UInt8], at offset: Int) -> UInt32 {
        bytes[offset..<(offset + counterLength)].reduce(0) { $0 << 8 | UInt32($1) }
    }
}
