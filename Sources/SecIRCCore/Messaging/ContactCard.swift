public import SecIRCCrypto

/// A signed statement binding an Ed25519 identity to its X25519 identity agreement key (IK, the
/// key used in session setup) and to the mailboxes where its owner reads mail. A sender
/// attaches it to the first messages of a session, so the receiver learns who IK_A belongs to.
///
/// Wire format, version 1 (integers big-endian):
/// ```
/// version u8 (= 1) | identity key 32 (Ed25519) | agreement key 32 (X25519) | created u64 (unix s)
/// | mailbox count u8 (1...4) | count × (relay ID 32 | mailbox ID 32)
/// | name length u8 (0...64; 0 = none) | name (UTF-8)
/// | signature 64
/// ```
/// The signature is Ed25519 by the identity key over `"secIRC contact card v1" || all bytes
/// before it`. The first 33 bytes (version, identity key) keep their place in every version.
/// Fields are `let`: a card is only made by signing or by `decode`, which verifies.
public struct ContactCard: Hashable, Sendable {
    public static let currentVersion: UInt8 = 1
    public static let signatureContext = Array("secIRC contact card v1".utf8)
    public static let mailboxCountRange = 1...4
    public static let maximumDisplayNameLength = 64
    /// version | identity key: the same in every version.
    public static let fixedHeaderLength = 1 + SigningPublicKey.byteCount
    /// One mailbox, no name.
    public static let minimumLength = fixedHeaderLength + AgreementPublicKey.byteCount + 8 + 1
        + MailboxAddress.encodedLength + 1 + Signature.byteCount
    /// Four mailboxes and a 64-byte name.
    public static let maximumLength = minimumLength + 3 * MailboxAddress.encodedLength + maximumDisplayNameLength

    /// The owner's Ed25519 identity, which signed the card.
    public let identityKey: SigningPublicKey
    /// The owner's X25519 identity agreement key (IK).
    public let agreementKey: AgreementPublicKey
    /// When the card was made, unix seconds (by the owner's clock): of two valid cards, the newer wins.
    public let created: UInt64
    public let mailboxes: [MailboxAddress]
    /// A name the owner suggests for themselves: untrusted text, at most 64 bytes of UTF-8.
    public let displayName: String?
    /// The exact wire bytes, signature included.
    public let encoded: [UInt8]

    /// Makes and signs a card. Throws `invalidField` for 0 or more than 4 mailboxes, or an empty
    /// or longer than 64-byte display name.
    public init(signingWith identity: SigningPrivateKey, agreementKey: AgreementPublicKey, created: UInt64,
                mailboxes: [MailboxAddress], displayName: String? = nil) throws(ContactCardError) {
        let name = displayName.map { Array($0.utf8) } ?? []
        if displayName?.isEmpty == true { throw .invalidField("empty display name (use nil)") }
        try Self.validate(mailboxCount: mailboxes.count, displayName: name)
        var w = ByteWriter(capacity: Self.maximumLength)
        w.write(Self.currentVersion)
        w.write(identity.publicKey.rawValue)
        w.write(agreementKey.rawValue)
        w.write(created)
        w.write(UInt8(mailboxes.count))
        for mailbox in mailboxes { mailbox.write(to: &w) }
        w.write(UInt8(name.count))
        w.write(name)
        let signature = identity.sign(Self.signatureContext + w.bytes)
        w.write(signature.bytes)
        self.init(identityKey: identity.publicKey, agreementKey: agreementKey, created: created,
                  mailboxes: mailboxes, displayName: displayName, encoded: w.bytes)
    }

    private init(identityKey: SigningPublicKey, agreementKey: AgreementPublicKey, created: UInt64,
                 mailboxes: [MailboxAddress], displayName: String?, encoded: [UInt8]) {
        self.identityKey = identityKey
        self.agreementKey = agreementKey
        self.created = created
        self.mailboxes = mailboxes
        self.displayName = displayName
        self.encoded = encoded
    }

    /// Decodes and verifies a card from an untrusted source. Checks, in this order: structure
    /// (`truncated` / `trailingBytes`, for version 1), signature, version, then the signed
    /// fields' values. Never traps; returns only a card whose signature verified.
    public static func decode(_ bytes: [UInt8]) throws(ContactCardError) -> ContactCard {
        guard bytes.count >= fixedHeaderLength + Signature.byteCount else { throw .truncated }
        let body = Array(bytes[..<(bytes.count - Signature.byteCount)])
        let signature: Signature
        do { signature = try Signature(bytes: Array(bytes[(bytes.count - Signature.byteCount)...])) } catch {
            throw .truncated
        }
        var header = ByteReader(body)
        let version: UInt8, identityKey: SigningPublicKey
        do {
            version = try header.readUInt8()
            identityKey = SigningPublicKey(rawValue: try header.readBytes32())
        } catch { throw .truncated }
        // Structure of the version this code reads, before any crypto; values are not trusted yet.
        let fields: Fields? = version == currentVersion ? try Fields.read(body) : nil

        do { try identityKey.verify(signature, for: signatureContext + body) } catch { throw .badSignature }
        guard let fields else { throw .unsupportedVersion(version) }

        try validate(mailboxCount: fields.mailboxes.count, displayName: fields.displayName)
        var displayName: String? = nil
        if !fields.displayName.isEmpty {
            guard let name = String(validating: fields.displayName, as: UTF8.self) else {
                throw .invalidField("display name is not UTF-8")
            }
            displayName = name
        }
        return ContactCard(identityKey: identityKey, agreementKey: fields.agreementKey, created: fields.created,
                           mailboxes: fields.mailboxes, displayName: displayName, encoded: bytes)
    }

    private static func validate(mailboxCount: Int, displayName: [UInt8]) throws(ContactCardError) {
        guard mailboxCountRange.contains(mailboxCount) else {
            throw .invalidField("\(mailboxCount) mailboxes, expected \(mailboxCountRange.lowerBound)...\(mailboxCountRange.upperBound)")
        }
        guard displayName.count <= maximumDisplayNameLength else {
            throw .invalidField("display name of \(displayName.count) bytes, at most \(maximumDisplayNameLength)")
        }
    }

    /// The version-1 fields after the fixed header, as read from the wire (unvalidated).
    private struct Fields {
        var agreementKey: AgreementPublicKey
        var created: UInt64
        var mailboxes: [MailboxAddress]
        var displayName: [UInt8]

        static func read(_ body: [UInt8]) throws(ContactCardError) -> Fields {
            var r = ByteReader(body)
            do {
                _ = try r.readBytes(fixedHeaderLength)
                let agreementKey = AgreementPublicKey(rawValue: try r.readBytes32())
                let created = try r.readUInt64()
                let count = Int(try r.readUInt8())
                // At most 255 × 64 bytes; the count is range-checked after the signature.
                var mailboxes: [MailboxAddress] = []
                for _ in 0..<count {
                    mailboxes.append(try MailboxAddress(reading: &r))
                }
                let displayName = try r.readBytes(Int(try r.readUInt8()))
                try r.finish()
                return Fields(agreementKey: agreementKey, created: created, mailboxes: mailboxes, displayName: displayName)
            } catch DecodeError.trailingBytes(let count) {
                throw .trailingBytes(count: count)
            } catch {
                throw .truncated
            }
        }
    }
}
