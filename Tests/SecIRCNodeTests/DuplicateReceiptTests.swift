import SecIRCCore
import SecIRCCrypto
import SecIRCNode
import Testing

/// A body handed over again (a resend whose receipt was lost, or a mailbox relay replaying) is
/// stored and shown once, acknowledged again once, and then never: a replaying relay cannot
/// make the recipient answer on demand.
@Suite struct DuplicateReceiptTests {
    @Test func aReplayedBodyIsAcknowledgedAgainOnceAtMost() throws {
        let alice = try Peer("alice"), bob = try Peer("bob")
        _ = try alice.add(bob)
        _ = try alice.messenger.queueText(to: bob.id, text: "hi bob", now: .t0, rng: &alice.rng)
        let packets = try alice.drainOutbox(now: .t0)
        #expect(!packets.isEmpty)
        func receipts(at seconds: Int64) throws -> Int {
            try packets.map { try bob.receive($0, now: .t0.plus(seconds: seconds)).count }.reduce(0, +)
        }
        let first = try receipts(at: 1)
        #expect(first == packets.count, "each message acknowledged")
        #expect(try receipts(at: 2) == first, "the first duplicate too: a receipt may have been lost")
        for replay in 3...10 { #expect(try receipts(at: Int64(replay)) == 0, "replay \(replay) gets no receipt") }
        #expect(try bob.texts(with: alice.id) == ["hi bob"])
        #expect(bob.events.filter { if case .message = $0 { true } else { false } }.count == 1)
    }
}
