extension SessionMessage {
    /// What the first messages of a session carry besides the ratchet message: the sender's
    /// signed contact card (binding her Ed25519 identity to IK_A and her mailboxes) and her
    /// PQXDH initial message. `decode` requires `card.identityKey == sender` and
    /// `card.agreementKey == initialMessage.identityAgreementKey`.
    public struct Setup: Hashable, Sendable {
        public var card: ContactCard
        public var initialMessage: InitialMessage

        public init(card: ContactCard, initialMessage: InitialMessage) {
            self.card = card
            self.initialMessage = initialMessage
        }
    }
}
