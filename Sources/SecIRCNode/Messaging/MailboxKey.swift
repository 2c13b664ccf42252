public import SecIRCCore
public import SecIRCCrypto

/// A mailbox this client owns at one relay: the Ed25519 key whose SHA-256 is the mailbox ID.
public struct MailboxKey: Sendable {
    public let relayID: ID
    /// Proves ownership when fetching (a signature on the relay's nonce). Secret.
    public let key: SigningPrivateKey

    public init(relayID: ID, key: SigningPrivateKey) {
        self.relayID = relayID
        self.key = key
    }

    /// What contacts are told: the relay and the mailbox ID.
    public var address: MailboxAddress { MailboxAddress(relayID: relayID, mailboxID: key.publicKey.id.rawValue) }
}
