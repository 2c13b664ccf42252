public import SecIRCCrypto

/// What one sender hands to one recipient: a Double Ratchet message, with the sender's identity
/// inside the sealed layer ("sealed sender": relays never see it) and, while the session is being
/// set up, the sender's contact card and PQXDH initial message. The encoding is cut into
/// `Fragment`s and each is sealed into one mailbox body (`SealedPacket`).
///
/// Wire format, version 1 (integers big-endian):
/// ```
/// version u8 (= 1) | type u8 (1 = prekey, 2 = ratchet) | message ID 16 | sender key 32 (Ed25519)
/// prekey only: card length u16 | ContactCard | InitialMessage (1161)
/// ratchet message: all remaining bytes (≥ RatchetMessage.minimumLength)
/// ```
/// The initiator sends type 1 until she has decrypted a reply; from then on both sides send type 2.
/// The message ID is the envelope's, so a receiver can drop a duplicate, and acknowledge it
/// again, without decrypting it.
public struct SessionMessage: Hashable, Sendable {
    public static let currentVersion: UInt8 = 1
    /// Type byte of a message that carries `Setup`.
    public static let prekeyType: UInt8 = 1
    /// Type byte of a message that carries only a ratchet message.
    public static let ratchetType: UInt8 = 2
    /// version | type | message ID | sender key.
    public static let headerLength = 1 + 1 + MessageID.byteCount + SigningPublicKey.byteCount
    /// The longest encoding a receiver accepts.
    public static let maximumLength = 96 * 1024

    /// The ID of the envelope inside `ratchetMessage`.
    public var messageID: MessageID
    /// The sender's Ed25519 identity key. Not authenticated by this layer: for type 2 the ratchet
    /// decrypt proves it (only the session's peer has the keys); for type 1 the card's signature
    /// and the first decrypt do.
    public var sender: SigningPublicKey
    /// Present for type 1 (prekey) messages.
    public var setup: Setup?
    public var ratchetMessage: RatchetMessage

    public init(messageID: MessageID, sender: SigningPublicKey, setup: Setup? = nil, ratchetMessage: RatchetMessage) {
        self.messageID = messageID
        self.sender = sender
        self.setup = setup
        self.ratchetMessage = ratchetMessage
    }

    /// The wire bytes. A receiver refuses more than `maximumLength` of them.
    public var encoded: [UInt8] {
        let ratchet = ratchetMessage.encoded
        var w = ByteWriter(capacity: Self.headerLength + 2 + ContactCard.maximumLength
                           + InitialMessage.encodedLength + ratchet.count)
        w.write(Self.currentVersion)
        w.write(setup == nil ? Self.ratchetType : Self.prekeyType)
        w.write(messageID.bytes)
        w.write(sender.rawValue)
        if let setup {
            w.write(UInt16(setup.card.encoded.count))
            w.write(setup.card.encoded)
            w.write(setup.initialMessage.encoded)
        }
        w.write(ratchet)
        return w.bytes
    }

    /// Decodes untrusted bytes (a reassembled transfer). Never traps. The length is checked
    /// first; a contact card is verified (its errors become `invalidValue("contact card: …")`),
    /// and must be the sender's, for the initial message's identity agreement key.
    public static func decode(_ bytes: [UInt8]) throws(DecodeError) -> SessionMessage {
        guard bytes.count <= maximumLength else {
            throw .invalidValue("session message of \(bytes.count) bytes, at most \(maximumLength)")
        }
        if bytes.count < headerLength { throw .incomplete(deficit: headerLength - bytes.count) }
        var r = ByteReader(bytes)
        do {
            let version = try r.readUInt8()
            guard version == currentVersion else { throw DecodeError.invalidValue("session message version \(version)") }
            let type = try r.readUInt8()
            guard type == prekeyType || type == ratchetType else {
                throw DecodeError.invalidValue("session message type \(type)")
            }
            let messageID = try MessageID(bytes: r.readBytes(MessageID.byteCount))
            let sender = SigningPublicKey(rawValue: try r.readBytes32())
            var setup: Setup? = nil
            if type == prekeyType {
                let cardLength = Int(try r.readUInt16())
                let card: ContactCard
                do { card = try ContactCard.decode(r.readBytes(cardLength)) } catch let error as ContactCardError {
                    throw DecodeError.invalidValue("contact card: \(error)")
                }
                let initialMessage = try InitialMessage.decode(r.readBytes(InitialMessage.encodedLength))
                guard card.identityKey == sender else {
                    throw DecodeError.invalidValue("contact card is not the sender's")
                }
                guard card.agreementKey == initialMessage.identityAgreementKey else {
                    throw DecodeError.invalidValue("contact card does not name the initial message's identity key")
                }
                setup = Setup(card: card, initialMessage: initialMessage)
            }
            let ratchetMessage = try RatchetMessage.decode(r.readRest())
            return SessionMessage(messageID: messageID, sender: sender, setup: setup, ratchetMessage: ratchetMessage)
        } catch let error as DecodeError {
            throw error
        } catch {
            throw .invalidValue("\(error)")
        }
    }
}

extension SessionMessage {
    /// The sender key a session message's first bytes claim (a transfer's first fragment holds
    /// them), before anything is verified; nil when `prefix` is too short or of an unknown
    /// version. For choosing where to reassemble a transfer (``Reassembler/Room``), never for trust.
    public static func claimedSender(prefix: [UInt8]) -> SigningPublicKey? {
        guard prefix.count >= headerLength, prefix[0] == currentVersion else { return nil }
        return try? SigningPublicKey(bytes: Array(prefix[(headerLength - SigningPublicKey.byteCount)..<headerLength]))
    }
}
