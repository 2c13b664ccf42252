public import SecIRCCore
public import SecIRCCrypto

/// A contact as stored (without its session secrets).
public struct ContactRecord: Sendable, Equatable {
    public enum Session: String, Sendable {
        /// We sent a session setup and have not yet decrypted a reply.
        case initiated
        /// Both sides hold the session.
        case established
    }

    public var id: ID
    public var identityKey: SigningPublicKey
    public var agreementKey: AgreementPublicKey
    public var name: String
    public var addedMs: Int64
    public var mailboxes: [MailboxAddress]
    public var session: Session
}

/// One message of a conversation, in either direction.
public struct MessageRecord: Sendable, Equatable {
    public enum Direction: String, Sendable { case incoming = "in", outgoing = "out" }
    public enum State: String, Sendable { case queued, sent, delivered, received }

    /// Local, increasing: the paging key.
    public var cursor: Int64
    public var id: MessageID
    public var contact: ID
    public var direction: Direction
    public var kind: EnvelopeKind
    public var timestampMs: Int64
    public var body: [UInt8]
    public var state: State
    public var attempts: Int
    /// When the next send is due (outgoing, not yet delivered); nil otherwise.
    public var nextAttemptMs: Int64?

    public var text: String { String(decoding: body, as: UTF8.self) }
}

extension EnvelopeKind {
    /// The first message of a new contact: carries the session set-up, shown to nobody.
    static let introduction = EnvelopeKind(rawValue: 7)
    /// A new contact card (the sender's mailboxes changed), shown to nobody.
    static let cardUpdate = EnvelopeKind(rawValue: 8)
}
