public import SecIRCCrypto

/// A signed invite: what someone needs to open an end-to-end session with the signer
/// (DESIGN.md §4), shared as `secirc:<base64url(body || signature)>`, unpadded.
///
/// Body, version 1 (integers big-endian):
/// ```
/// version 1 (= 1) | identity Ed25519 key 32 | expiry u64 (unix seconds)
/// | identity X25519 agreement key 32 | signed prekey ID u32 | signed X25519 prekey 32
/// | ML-KEM-768 prekey ID u32 | ML-KEM-768 prekey 1184
/// | mailbox count u8 (1...4) | count × (relay ID 32 | mailbox ID 32)
/// | display-name length u8 (0...64; 0 = none) | display name (UTF-8)
/// ```
/// The first 41 bytes (version, identity key, expiry) keep this place in every version, so a
/// reader can check the signature and expiry of an invite it cannot otherwise read. The
/// signature is Ed25519 by the identity key over `"secIRC invite v1" || body`; it also signs
/// both prekeys (the "signed prekey" of X3DH/PQXDH).
public struct Invite: Hashable, Sendable {
    public static let currentVersion: UInt8 = 1
    public static let scheme = "secirc:"
    public static let signatureContext = Array("secIRC invite v1".utf8)
    public static let maximumURILength = 4096
    public static let maximumDisplayNameLength = 64
    public static let mailboxCountRange = 1...4
    /// version | identity key | expiry: the same in every version.
    public static let fixedHeaderLength = 1 + 32 + 8

    public let identityKey: SigningPublicKey
    /// Expiry in unix seconds: the invite is refused from this second on.
    public let expiry: UInt64
    /// IK: the X25519 identity key used in session setup (DH1 and DH2).
    public let identityAgreementKey: AgreementPublicKey
    public let signedPrekeyID: UInt32
    /// SPK: the X25519 signed prekey (DH1 and DH3; the responder's first ratchet key).
    public let signedPrekey: AgreementPublicKey
    public let pqPrekeyID: UInt32
    /// PQPK: the ML-KEM-768 prekey.
    public let pqPrekey: KEMPublicKey
    public let mailboxes: [MailboxAddress]
    /// A name the inviter suggests for themselves; untrusted text, at most 64 bytes of UTF-8.
    public let displayNameHint: String?
    /// The exact signed body bytes.
    public let body: [UInt8]
    public let signature: Signature

    /// Makes and signs an invite. Throws `invalidField` for 0 or more than 4 mailboxes, or an
    /// empty or longer than 64-byte display name.
    public init(signingWith identity: SigningPrivateKey, expiry: UInt64, identityAgreementKey: AgreementPublicKey,
                signedPrekeyID: UInt32, signedPrekey: AgreementPublicKey, pqPrekeyID: UInt32, pqPrekey: KEMPublicKey,
                mailboxes: [MailboxAddress], displayNameHint: String? = nil) throws(InviteError) {
        try Self.validate(mailboxCount: mailboxes.count, displayName: displayNameHint.map { Array($0.utf8) } ?? [])
        if displayNameHint?.isEmpty == true { throw .invalidField("empty display name (use nil)") }
        var w = ByteWriter(capacity: 1600)
        w.write(Self.currentVersion)
        w.write(identity.publicKey.rawValue)
        w.write(expiry)
        w.write(identityAgreementKey.rawValue)
        w.write(signedPrekeyID)
        w.write(signedPrekey.rawValue)
        w.write(pqPrekeyID)
        w.write(pqPrekey.bytes)
        w.write(UInt8(mailboxes.count))
        for mailbox in mailboxes { mailbox.write(to: &w) }
        let name = displayNameHint.map { Array($0.utf8) } ?? []
        w.write(UInt8(name.count))
        w.write(name)
        self.init(identityKey: identity.publicKey, expiry: expiry, identityAgreementKey: identityAgreementKey,
                  signedPrekeyID: signedPrekeyID, signedPrekey: signedPrekey, pqPrekeyID: pqPrekeyID, pqPrekey: pqPrekey,
                  mailboxes: mailboxes, displayNameHint: displayNameHint, body: w.bytes,
                  signature: identity.sign(Self.signatureContext + w.bytes))
    }

    /// `secirc:` followed by unpadded base64url of `body || signature`.
    public var uri: String { Self.scheme + Base64URL.encode(body + signature.bytes) }

    /// Parses and verifies an invite URI from an untrusted source. Checks, in this order:
    /// scheme, length, base64url, structure (truncated / trailing bytes), signature, expiry
    /// (`now` ≥ expiry is expired), version, then the signed fields' values.
    public static func parse(uri: String, now: UnixTime) throws(InviteError) -> Invite {
        let text = Array(uri.utf8)
        let schemeBytes = Array(scheme.utf8)
        guard text.count >= schemeBytes.count,
              zip(text, schemeBytes).allSatisfy({ lowercased($0) == $1 }) else { throw .notSecircURI }
        guard text.count <= maximumURILength else { throw .tooLong(length: text.count) }
        let payload: [UInt8]
        do { payload = try Base64URL.decode(text[schemeBytes.count...]) } catch { throw .badEncoding }

        guard payload.count >= fixedHeaderLength + Signature.byteCount else { throw .truncated }
        let body = Array(payload[..<(payload.count - Signature.byteCount)])
        let signatureBytes = Array(payload[(payload.count - Signature.byteCount)...])
        var header = ByteReader(body)
        let version: UInt8, identityKey: SigningPublicKey, expiry: UInt64
        do {
            version = try header.readUInt8()
            identityKey = SigningPublicKey(rawValue: try header.readBytes32())
            expiry = try header.readUInt64()
        } catch { throw .truncated }
        // Structure of the version this code reads, before any crypto; values are not trusted yet.
        let fields: Fields? = version == currentVersion ? try Fields.read(body) : nil

        do {
            try identityKey.verify(Signature(bytes: signatureBytes), for: signatureContext + body)
        } catch { throw .badSignature }
        if now.seconds >= 0 && UInt64(now.seconds) >= expiry { throw .expired(at: expiry) }
        guard let fields else { throw .unsupportedVersion(version) }

        try validate(mailboxCount: fields.mailboxes.count, displayName: fields.displayName)
        let pqPrekey: KEMPublicKey
        do { pqPrekey = try KEMPublicKey(bytes: fields.pqPrekey) } catch { throw .invalidField("ML-KEM-768 prekey: \(error)") }
        var displayName: String? = nil
        if !fields.displayName.isEmpty {
            guard let name = String(validating: fields.displayName, as: UTF8.self) else {
                throw .invalidField("display name is not UTF-8")
            }
            displayName = name
        }
        return Invite(identityKey: identityKey, expiry: expiry, identityAgreementKey: fields.identityAgreementKey,
                      signedPrekeyID: fields.signedPrekeyID, signedPrekey: fields.signedPrekey,
                      pqPrekeyID: fields.pqPrekeyID, pqPrekey: pqPrekey, mailboxes: fields.mailboxes,
                      displayNameHint: displayName, body: body, signature: try! Signature(bytes: signatureBytes))
    }

    private init(identityKey: SigningPublicKey, expiry: UInt64, identityAgreementKey: AgreementPublicKey,
                 signedPrekeyID: UInt32, signedPrekey: AgreementPublicKey, pqPrekeyID: UInt32, pqPrekey: KEMPublicKey,
                 mailboxes: [MailboxAddress], displayNameHint: String?, body: [UInt8], signature: Signature) {
        self.identityKey = identityKey
        self.expiry = expiry
        self.identityAgreementKey = identityAgreementKey
        self.signedPrekeyID = signedPrekeyID
        self.signedPrekey = signedPrekey
        self.pqPrekeyID = pqPrekeyID
        self.pqPrekey = pqPrekey
        self.mailboxes = mailboxes
        self.displayNameHint = displayNameHint
        self.body = body
        self.signature = signature
    }

    private static func validate(mailboxCount: Int, displayName: [UInt8]) throws(InviteError) {
        guard mailboxCountRange.contains(mailboxCount) else {
            throw .invalidField("\(mailboxCount) mailboxes, expected \(mailboxCountRange.lowerBound)...\(mailboxCountRange.upperBound)")
        }
        guard displayName.count <= maximumDisplayNameLength else {
            throw .invalidField("display name of \(displayName.count) bytes, at most \(maximumDisplayNameLength)")
        }
    }

    private static func lowercased(_ c: UInt8) -> UInt8 {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(c) ? c + 32 : c
    }

    /// The version-1 fields after the fixed header, as read from the wire (unvalidated).
    private struct Fields {
        var identityAgreementKey: AgreementPublicKey
        var signedPrekeyID: UInt32
        var signedPrekey: AgreementPublicKey
        var pqPrekeyID: UInt32
        var pqPrekey: [UInt8]
        var mailboxes: [MailboxAddress]
        var displayName: [UInt8]

        static func read(_ body: [UInt8]) throws(InviteError) -> Fields {
            var r = ByteReader(body)
            do {
                _ = try r.readBytes(fixedHeaderLength)
                let identityAgreementKey = AgreementPublicKey(rawValue: try r.readBytes32())
                let signedPrekeyID = try r.readUInt32()
                let signedPrekey = AgreementPublicKey(rawValue: try r.readBytes32())
                let pqPrekeyID = try r.readUInt32()
                let pqPrekey = try r.readBytes(KEMPublicKey.byteCount)
                let count = Int(try r.readUInt8())
                // At most 255 × 64 bytes; the count is range-checked after the signature.
                var mailboxes: [MailboxAddress] = []
                for _ in 0..<count {
                    mailboxes.append(try MailboxAddress(reading: &r))
                }
                let displayName = try r.readBytes(Int(try r.readUInt8()))
                try r.finish()
                return Fields(identityAgreementKey: identityAgreementKey, signedPrekeyID: signedPrekeyID,
                              signedPrekey: signedPrekey, pqPrekeyID: pqPrekeyID, pqPrekey: pqPrekey,
                              mailboxes: mailboxes, displayName: displayName)
            } catch let error as DecodeError {
                if case let .trailingBytes(count) = error { throw .trailingBytes(count: count) }
                throw .truncated
            } catch {
                throw .truncated
            }
        }
    }
}
