public import SecIRCCore

extension EnvelopeKind {
    /// The first message of a new contact: carries the session set-up, shown to nobody.
    public static let introduction = EnvelopeKind(rawValue: 7)
    /// A new contact card (the sender's mailboxes changed), shown to nobody.
    public static let cardUpdate = EnvelopeKind(rawValue: 8)
}
