import SecIRCNode
import Testing

/// Card updates may arrive out of order: only a newer card than the last one applied counts.
@Suite struct ContactCardUpdateTests {
    @Test(arguments: [
        // (card created, last applied, applies)
        (10, 0, true), // the first update
        (1, 0, true),
        (0, 0, false),
        (11, 10, true),
        (10, 10, false), // the same card again
        (9, 10, false), // an older card arriving late
        (UInt64.max, Int64.max - 1, true), // clamped to Int64.max
        (UInt64.max, Int64.max, false),
    ] as [(UInt64, Int64, Bool)])
    func onlyANewerCardApplies(created: UInt64, lastApplied: Int64, applies: Bool) {
        #expect(ContactCardUpdate.applies(created: created, lastApplied: lastApplied) == applies)
    }
}
