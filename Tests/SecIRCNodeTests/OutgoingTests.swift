import SecIRCCore
import SecIRCCrypto
import SecIRCNode
import Testing

/// The order in which an attempt tries the recipient's mailboxes.
@Suite struct OutgoingTests {
    @Test(arguments: [
        // (mailboxes, attempt, order as indices)
        (3, 1, [0, 1, 2]),
        (3, 2, [1, 2, 0]),
        (3, 3, [2, 0, 1]),
        (3, 4, [0, 1, 2]),
        (2, 1, [0, 1]),
        (2, 2, [1, 0]), // retries alternate
        (2, 3, [0, 1]),
        (1, 7, [0]),
        (0, 1, []),
        (3, 0, [0, 1, 2]), // below 1 counts as the first attempt
        (3, -4, [0, 1, 2]),
        (3, Int.max, [0, 1, 2]), // (Int.max − 1) mod 3 = 0, without overflow
        (2, Int.max, [0, 1]),
    ] as [(Int, Int, [Int])])
    func attemptKStartsAtMailboxKMinusOne(count: Int, attempt: Int, order: [Int]) {
        let mailboxes = (0..<count).map { MailboxAddress(relayID: .byte(UInt8($0 + 1)), mailboxID: .zero) }
        var rng = SeededRandom(seed: "outgoing")
        let outgoing = Outgoing(messageID: MessageID(using: &rng), transferID: MessageID(using: &rng), message: [],
                                recipient: AgreementPrivateKey(using: &rng).publicKey, mailboxes: mailboxes, attempt: attempt)
        #expect(outgoing.mailboxesInTurn == order.map { mailboxes[$0] })
        if let first = order.first { #expect(outgoing.mailbox == mailboxes[first]) }
    }
}
