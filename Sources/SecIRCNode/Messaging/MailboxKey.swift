public import SecIRCCore
public import SecIRCCrypto

/// A mailbox this client owns at one relay: the Ed25519 key whose SHA-256 is the mailbox ID.
public struct MailboxKey: Sendable {
    public let relayID: ID
    /// Proves ownership when fetching (a signature on the relay's nonce). Secret.
    public let key: SigningPrivateKey
    /// The queue this client's own loop cover goes to (docs/PROTOCOL.md §4, Deposit queues): a
    /// contact queue nobody else knows, SHA-256 of the mailbox key's (deterministic) Ed25519
    /// signature over "secIRC loop queue v1" — the same after every restart, with nothing stored.
    public let loopQueue: Bytes32

    public init(relayID: ID, key: SigningPrivateKey) {
        self.relayID = relayID
        self.key = key
        loopQueue = SHA256.hash(key.sign(Array("secIRC loop queue v1".utf8)).bytes)
    }

    /// What contacts are told: the relay and the mailbox ID.
    public var address: MailboxAddress { MailboxAddress(relayID: relayID, mailboxID: key.publicKey.id.rawValue) }
}
