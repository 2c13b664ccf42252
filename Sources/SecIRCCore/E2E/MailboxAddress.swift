public import SecIRCCrypto

/// Where a user's mail waits: the relay that holds the mailbox (its ID, SHA-256 of its Ed25519
/// key) and the mailbox's own 32-byte ID. On the wire: `relayID 32 || mailboxID 32`.
public struct MailboxAddress: Hashable, Sendable {
    public static let encodedLength = 64
    public var relayID: ID
    public var mailboxID: Bytes32

    public init(relayID: ID, mailboxID: Bytes32) {
        self.relayID = relayID
        self.mailboxID = mailboxID
    }
}
