public import SecIRCCore
public import SecIRCCrypto

/// A contact as listed (without its session secrets, which are in ``ContactSession``).
public struct ContactRecord: Sendable, Equatable {
    /// How far the end-to-end session with the contact has come.
    public enum Session: String, Sendable {
        /// We sent a session set-up and have not yet decrypted a reply.
        case initiated
        /// Both sides hold the session.
        case established
    }

    /// Whether the user wants the contact (docs/PROTOCOL.md §8, Consent).
    public enum Consent: String, Sendable {
        /// Added by the user, accepted by the user, or accepted for them (`contacts.auto_accept`).
        case accepted
        /// A session set-up from an unknown identity, waiting for the user to accept or reject it:
        /// nothing it sent is shown, and nothing is sent to it but receipts.
        case requested
        /// Its session set-up answered a one-time invite the user made (``PrekeyRing``): accepted
        /// without asking, and not counted against the hourly limit for strangers.
        case invited
    }

    /// SHA-256 of `identityKey`.
    public var id: ID
    public var identityKey: SigningPublicKey
    /// The X25519 identity-agreement key of the session in use.
    public var agreementKey: AgreementPublicKey
    public var name: String
    /// When the contact was added (Unix milliseconds).
    public var addedMs: Int64
    /// Where messages for the contact go, in order of preference.
    public var mailboxes: [MailboxAddress]
    public var session: Session
    public var consent: Consent

    public init(id: ID, identityKey: SigningPublicKey, agreementKey: AgreementPublicKey, name: String, addedMs: Int64,
                mailboxes: [MailboxAddress], session: Session, consent: Consent = .accepted) {
        self.id = id
        self.identityKey = identityKey
        self.agreementKey = agreementKey
        self.name = name
        self.addedMs = addedMs
        self.mailboxes = mailboxes
        self.session = session
        self.consent = consent
    }

    /// A contact request waiting for the user.
    public var isRequest: Bool { consent == .requested }
}
