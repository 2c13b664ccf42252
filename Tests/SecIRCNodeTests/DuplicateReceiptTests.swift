import SecIRCCore
import SecIRCCrypto
import SecIRCNode
import Testing

/// A body handed over again (a resend whose receipt was lost, or a mailbox relay replaying) is
/// stored and shown once, acknowledged again for ten minutes from its first duplicate (while the
/// sender resends), and then never: a relay replaying it later cannot make the recipient answer
/// on demand.
@Suite struct DuplicateReceiptTests {
    /// Alice adds Bob and writes "hi bob": the packets of her first send (the set-up with it).
    static func aliceWritesToBob() throws -> (alice: Peer, bob: Peer, packets: [Outgoing]) {
        let alice = try Peer("alice"), bob = try Peer("bob")
        _ = try alice.add(bob)
        _ = try alice.messenger.queueText(to: bob.id, text: "hi bob", now: .t0, rng: &alice.rng)
        return (alice, bob, try alice.drainOutbox(now: .t0))
    }

    @Test func aReplayedBodyIsAcknowledgedAgainOnlyForAWhile() throws {
        let (alice, bob, packets) = try DuplicateReceiptTests.aliceWritesToBob()
        #expect(!packets.isEmpty)
        func receipts(at seconds: Int64) throws -> Int {
            try packets.map { try bob.receive($0, now: .t0.plus(seconds: seconds)).count }.reduce(0, +)
        }
        let first = try receipts(at: 1)
        #expect(first == packets.count, "each message acknowledged")
        for resend: Int64 in [2, 3, 60, 601] {
            #expect(try receipts(at: resend) == first, "a resend at \(resend) s: a receipt may have been lost")
        }
        for replay: Int64 in [602, 700, 86_400] {
            #expect(try receipts(at: replay) == 0, "a replay at \(replay) s gets no receipt")
        }
        #expect(try bob.texts(with: alice.id) == ["hi bob"])
        #expect(bob.events.filter { if case .message = $0 { true } else { false } }.count == 1)
    }

    /// The same envelope encrypted twice: the sender's session was replaced while the message
    /// waited for its receipt, so the retry encrypted it again (a new ratchet message, the same
    /// message ID inside). Shown once, acknowledged again, nothing refused.
    @Test func aReEncryptedDuplicateIsShownOnceAndAcknowledgedAgain() throws {
        let (alice, bob, packets) = try DuplicateReceiptTests.aliceWritesToBob()
        for packet in packets { try bob.receive(packet, now: .t0.plus(seconds: 1)) } // its receipt is lost
        try alice.store.write { tx in
            let contact = try #require(try tx.contact(id: bob.id))
            var session = try #require(try tx.session(of: bob.id))
            session.generation += 1
            try tx.updateContact(contact, session: session)
        }
        let retry = try alice.drainOutbox(now: .t0.plus(seconds: 10))
        #expect(retry.map(\.messageID) == packets.map(\.messageID))
        #expect(retry.map(\.message) != packets.map(\.message), "encrypted again, not the same bytes")
        let receipts = try retry.map { try bob.receive($0, now: .t0.plus(seconds: 11)).count }.reduce(0, +)
        #expect(receipts == retry.count, "acknowledged again: the first receipt may have been lost")
        #expect(try bob.texts(with: alice.id) == ["hi bob"])
        #expect(bob.events.filter { if case .message = $0 { true } else { false } }.count == 1)
        #expect(bob.dropLabels.isEmpty, "labels: \(bob.dropLabels)")
    }
}

/// A session set-up heard again (a relay replaying it, or a resend after the contact was
/// removed) never makes a contact again nor resets the session.
@Suite struct ReplayedSetupTests {
    @Test func aReplayedSetUpAfterTheContactWasRemovedIsRefused() throws {
        let (alice, bob, packets) = try DuplicateReceiptTests.aliceWritesToBob()
        for packet in packets { try bob.receive(packet, now: .t0.plus(seconds: 1)) }
        #expect(try bob.messenger.contact(id: alice.id) != nil)
        try bob.messenger.removeContact(id: alice.id)
        for packet in packets { try bob.receive(packet, now: .t0.plus(seconds: 2)) }
        #expect(try bob.messenger.contact(id: alice.id) == nil, "the removed contact stays removed")
        #expect(bob.dropLabels.contains(.replayedSetup), "labels: \(bob.dropLabels)")
    }
}
