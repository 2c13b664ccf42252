public import SecIRCCore
public import SecIRCCrypto

/// One session message ready to leave: fragment it, seal each fragment to `recipient` and send
/// it to one of `mailboxes`.
public struct Outgoing: Sendable {
    /// The envelope's message ID (the same on every attempt).
    public var messageID: MessageID
    /// Fresh for every attempt, so the fragments of two attempts never mix (§7.4).
    public var transferID: MessageID
    /// The encoded session message.
    public var message: [UInt8]
    public var recipient: AgreementPublicKey
    public var mailboxes: [MailboxAddress]
    /// 1 for the first send; picks the mailbox so that retries alternate between them.
    public var attempt: Int

    public init(messageID: MessageID, transferID: MessageID, message: [UInt8], recipient: AgreementPublicKey,
                mailboxes: [MailboxAddress], attempt: Int) {
        self.messageID = messageID
        self.transferID = transferID
        self.message = message
        self.recipient = recipient
        self.mailboxes = mailboxes
        self.attempt = attempt
    }

    /// The recipient's mailboxes in the order this attempt tries them: attempt k starts at
    /// mailbox (k − 1) mod n, so retries alternate. Every mailbox appears once, whatever
    /// `attempt` is (an attempt below 1 counts as 1).
    public var mailboxesInTurn: [MailboxAddress] {
        let count = mailboxes.count
        guard count > 0 else { return [] }
        let start = (max(attempt, 1) - 1) % count
        return (0..<count).map { mailboxes[(start + $0) % count] }
    }

    /// The mailbox this attempt is for. Requires at least one mailbox.
    public var mailbox: MailboxAddress { mailboxesInTurn[0] }
}
