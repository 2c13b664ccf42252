public import SecIRCCrypto

/// Storage form of a `DoubleRatchet`, for the client to seal and persist (no Codable):
/// ```
/// version (1) = 1 | flags (1) | RK (32) | DHs private (32)
/// | [DHr (32)] | [CKs (32)] | [CKr (32)]           present when flag bits 0, 1, 2 are set
/// | Ns (4) | Nr (4) | PN (4) | skipped count (4)
/// | count × ( ratchet key (32) | N (4) | message key (64) )   oldest first
/// ```
/// flags: bit 0 DHr, bit 1 CKs, bit 2 CKr, bit 3 sending step pending; other bits are zero.
/// Integers are big-endian. The bytes are secret: they stay in `SecureBytes`.
extension DoubleRatchet {
    /// The format version written by `serialized()`.
    public static let serializationVersion: UInt8 = 1

    private enum Flag {
        static let receivingRatchetKey: UInt8 = 1 << 0
        static let sendingChainKey: UInt8 = 1 << 1
        static let receivingChainKey: UInt8 = 1 << 2
        static let sendingStepPending: UInt8 = 1 << 3
        static let all: UInt8 = 0x0F
    }

    private static let fixedLength = 2 + SymmetricKey.byteCount + AgreementPrivateKey.byteCount + 4 * 4
    private static let skippedEntryLength = AgreementPublicKey.byteCount + 4 + RatchetKDF.messageKeyLength

    /// The whole state, versioned, in zero-on-free memory.
    public func serialized() -> SecureBytes {
        var flags: UInt8 = 0
        if receivingRatchetKey != nil { flags |= Flag.receivingRatchetKey }
        if sendingChainKey != nil { flags |= Flag.sendingChainKey }
        if receivingChainKey != nil { flags |= Flag.receivingChainKey }
        if sendingStepPending { flags |= Flag.sendingStepPending }
        let entries = skipped.entries
        let optionalKeys = [receivingRatchetKey != nil, sendingChainKey != nil, receivingChainKey != nil].filter { $0 }.count
        let length = Self.fixedLength + optionalKeys * 32 + entries.count * Self.skippedEntryLength
        return SecureBytes(count: length) { buffer in
            var writer = SecretBufferWriter(buffer)
            writer.write(Self.serializationVersion)
            writer.write(flags)
            writer.write(rootKey)
            writer.write(sendingRatchetKey)
            if let receivingRatchetKey { writer.write(receivingRatchetKey.rawValue) }
            if let sendingChainKey { writer.write(sendingChainKey) }
            if let receivingChainKey { writer.write(receivingChainKey) }
            writer.write(sendCount)
            writer.write(receiveCount)
            writer.write(previousSendCount)
            writer.write(UInt32(entries.count))
            for entry in entries {
                writer.write(entry.index.ratchetKey.rawValue)
                writer.write(entry.index.messageNumber)
                writer.write(entry.messageKey)
            }
            precondition(writer.offset == length, "serialised length mismatch")
        }
    }

    /// Restores a state from `serialized()`. Throws `DecodeError` for another version, unknown
    /// flags, inconsistent fields, too many or repeated skipped keys, or a wrong length.
    public init(serialized: SecureBytes) throws(DecodeError) {
        let result = serialized.withUnsafeBytes { buffer in
            Result { () throws(DecodeError) -> DoubleRatchet in try Self.decodeState(buffer) }
        }
        self = try result.get()
    }

    private static func decodeState(_ buffer: UnsafeRawBufferPointer) throws(DecodeError) -> DoubleRatchet {
        var reader = SecretBufferReader(buffer)
        let version = try reader.readUInt8()
        guard version == Self.serializationVersion else { throw .invalidValue("ratchet state version \(version)") }
        let flags = try reader.readUInt8()
        guard flags & ~Flag.all == 0 else { throw .invalidValue("ratchet state flags \(flags)") }
        let hasReceivingKey = flags & Flag.receivingRatchetKey != 0
        guard hasReceivingKey || flags & (Flag.receivingChainKey | Flag.sendingStepPending) == 0 else {
            throw .invalidValue("ratchet state has a receiving chain without a ratchet key")
        }
        let rootKey = try Self.symmetricKey(reader.readSecret(SymmetricKey.byteCount))
        let scalar = try reader.readSecret(AgreementPrivateKey.byteCount)
        let privateKey: AgreementPrivateKey
        do { privateKey = try AgreementPrivateKey(secret: scalar) } catch { throw .invalidValue("ratchet private key") }
        var state = DoubleRatchet(responderWith: rootKey, ratchetKeyPair: privateKey)
        if hasReceivingKey { state.receivingRatchetKey = AgreementPublicKey(rawValue: try reader.readBytes32()) }
        if flags & Flag.sendingChainKey != 0 {
            state.sendingChainKey = try Self.symmetricKey(reader.readSecret(SymmetricKey.byteCount))
        }
        if flags & Flag.receivingChainKey != 0 {
            state.receivingChainKey = try Self.symmetricKey(reader.readSecret(SymmetricKey.byteCount))
        }
        state.sendingStepPending = flags & Flag.sendingStepPending != 0
        state.sendCount = try reader.readUInt32()
        state.receiveCount = try reader.readUInt32()
        state.previousSendCount = try reader.readUInt32()
        let count = try reader.readUInt32()
        guard count <= Self.maxStoredSkippedKeys else { throw .invalidValue("\(count) skipped message keys") }
        // Check the length before reading entries, so a huge count costs nothing.
        let expected = Int(count) * Self.skippedEntryLength
        guard reader.remaining >= expected else { throw .incomplete(deficit: expected - reader.remaining) }
        guard reader.remaining == expected else { throw .trailingBytes(count: reader.remaining - expected) }
        for _ in 0..<count {
            let index = SkippedMessageKeys.Index(ratchetKey: AgreementPublicKey(rawValue: try reader.readBytes32()),
                                                 messageNumber: try reader.readUInt32())
            guard !state.skipped.contains(index) else { throw .invalidValue("repeated skipped message key") }
            state.skipped.insert(try reader.readSecret(RatchetKDF.messageKeyLength), for: index)
        }
        try reader.finish()
        return state
    }

    private static func symmetricKey(_ secret: SecureBytes) throws(DecodeError) -> SymmetricKey {
        do { return try SymmetricKey(secret: secret) } catch { throw .invalidValue("ratchet symmetric key") }
    }
}
