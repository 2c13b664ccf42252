import SecIRCCrypto
import SecIRCNode
import Testing

/// Which of two sessions between the same people both sides keep.
@Suite struct SessionOriginTests {
    @Test(arguments: [
        // (incoming created, incoming initiator, current created, current initiator, incoming wins)
        (10, 1, 9, 2, true), // a newer card wins, even from the higher ID
        (9, 1, 10, 2, false), // an older card loses, even from the lower ID
        (10, 1, 10, 2, true), // the same second: the lower initiator ID wins
        (10, 2, 10, 1, false),
        (10, 1, 10, 1, false), // a session never replaces itself
        (Int64.max, 9, Int64.min, 1, true),
        (Int64.min, 1, Int64.max, 9, false),
    ] as [(Int64, UInt8, Int64, UInt8, Bool)])
    func theNewerCardWinsAndThenTheLowerInitiator(incomingCreated: Int64, incomingInitiator: UInt8, currentCreated: Int64,
                                                  currentInitiator: UInt8, wins: Bool) {
        let incoming = SessionOrigin(created: incomingCreated, initiator: .byte(incomingInitiator))
        let current = SessionOrigin(created: currentCreated, initiator: .byte(currentInitiator))
        #expect(incoming.supersedes(current) == wins)
        // Both sides compare the same pair: at most one way wins, so they agree.
        #expect(!(incoming.supersedes(current) && current.supersedes(incoming)))
        if incoming != current { #expect(incoming.supersedes(current) != current.supersedes(incoming)) }
    }
}
