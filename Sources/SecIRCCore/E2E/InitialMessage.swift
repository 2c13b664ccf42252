public import SecIRCCrypto

/// The initiator's first message of PQXDH-like session setup (see `SessionSetup`): her X25519
/// identity key, her ephemeral key, which of the responder's prekeys she used, and the
/// ML-KEM-768 ciphertext. It travels with (before) her first `RatchetMessage`, which is what
/// authenticates it: a forged or corrupted initial message makes that first decrypt fail.
///
/// Wire format, fixed length 1161 bytes (integers big-endian):
/// `version 1 (= 1) | IK_A 32 | EK_A 32 | signed prekey ID u32 | ML-KEM prekey ID u32 | ct 1088`.
public struct InitialMessage: Hashable, Sendable {
    public static let currentVersion: UInt8 = 1
    public static let encodedLength = 1 + 32 + 32 + 4 + 4 + KEMCiphertext.byteCount

    /// IK_A: the initiator's X25519 identity key.
    public var identityAgreementKey: AgreementPublicKey
    /// EK_A: the initiator's ephemeral X25519 key.
    public var ephemeralKey: AgreementPublicKey
    /// Which signed prekey (SPK_B) of the responder was used.
    public var signedPrekeyID: UInt32
    /// Which ML-KEM-768 prekey (PQPK_B) of the responder was used.
    public var pqPrekeyID: UInt32
    /// ct: the ML-KEM-768 encapsulation to PQPK_B.
    public var ciphertext: KEMCiphertext

    public init(identityAgreementKey: AgreementPublicKey, ephemeralKey: AgreementPublicKey,
                signedPrekeyID: UInt32, pqPrekeyID: UInt32, ciphertext: KEMCiphertext) {
        self.identityAgreementKey = identityAgreementKey
        self.ephemeralKey = ephemeralKey
        self.signedPrekeyID = signedPrekeyID
        self.pqPrekeyID = pqPrekeyID
        self.ciphertext = ciphertext
    }

    public var encoded: [UInt8] {
        var w = ByteWriter(capacity: Self.encodedLength)
        w.write(Self.currentVersion)
        w.write(identityAgreementKey.rawValue)
        w.write(ephemeralKey.rawValue)
        w.write(signedPrekeyID)
        w.write(pqPrekeyID)
        w.write(ciphertext.bytes)
        return w.bytes
    }

    /// Decodes untrusted bytes; length is checked before anything else.
    public static func decode(_ bytes: [UInt8]) throws(DecodeError) -> InitialMessage {
        if bytes.count < encodedLength { throw .incomplete(deficit: encodedLength - bytes.count) }
        if bytes.count > encodedLength { throw .trailingBytes(count: bytes.count - encodedLength) }
        var r = ByteReader(bytes)
        do {
            let version = try r.readUInt8()
            guard version == currentVersion else { throw DecodeError.invalidValue("initial message version \(version)") }
            let message = InitialMessage(
                identityAgreementKey: AgreementPublicKey(rawValue: try r.readBytes32()),
                ephemeralKey: AgreementPublicKey(rawValue: try r.readBytes32()),
                signedPrekeyID: try r.readUInt32(),
                pqPrekeyID: try r.readUInt32(),
                ciphertext: try KEMCiphertext(bytes: r.readBytes(KEMCiphertext.byteCount)))
            try r.finish()
            return message
        } catch let error as DecodeError {
            throw error
        } catch {
            throw .invalidValue("\(error)")
        }
    }
}
