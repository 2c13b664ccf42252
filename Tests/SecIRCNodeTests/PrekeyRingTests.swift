import SecIRCCore
import SecIRCCrypto
import SecIRCNode
import Testing

/// The prekeys behind invites: each retires a grace period after its invite expires.
@Suite struct PrekeyRingTests {
    /// Made once: ML-KEM key generation is the slow part.
    static let prekeys: [SessionSetup.Prekeys] = {
        var rng = SeededRandom(seed: "prekeys")
        return (1...20).map { SessionSetup.Prekeys(signedPrekeyID: UInt32($0), pqPrekeyID: UInt32($0), using: &rng) }
    }()

    static let expiry: Int64 = 1_800_000_000

    @Test(arguments: [
        // (seconds after the invite's expiry, still in service)
        (-86_400, true),
        (0, true),
        (PrekeyRing.grace - 1, true),
        (PrekeyRing.grace, false), // retired exactly at expiry + grace
        (PrekeyRing.grace + 1, false),
    ] as [(Int64, Bool)])
    func aPairServesUntilAGracePeriodAfterItsInviteExpires(offset: Int64, inService: Bool) {
        var ring = PrekeyRing()
        ring.add(Self.prekeys[0], expiry: Self.expiry, now: UnixTime(seconds: Self.expiry - 100))
        let now = UnixTime(seconds: Self.expiry + offset)
        #expect((ring.entry(signedPrekeyID: 1, pqPrekeyID: 1, now: now) != nil) == inService)
        #expect(ring.entry(signedPrekeyID: 1, pqPrekeyID: 2, now: now) == nil, "both IDs must match")
        #expect(ring.entry(signedPrekeyID: 2, pqPrekeyID: 2, now: now) == nil)
    }

    @Test(arguments: [
        // (when the second pair is added, seconds after the first invite's expiry; the first is kept)
        (-3_600, true),
        (PrekeyRing.grace - 1, true),
        (PrekeyRing.grace, false), // retired pairs go when the next is added
    ] as [(Int64, Bool)])
    func addingAPairDropsRetiredOnes(offset: Int64, firstKept: Bool) {
        var ring = PrekeyRing()
        ring.add(Self.prekeys[0], expiry: Self.expiry, now: UnixTime(seconds: Self.expiry - 100))
        ring.add(Self.prekeys[1], expiry: Self.expiry + 604_800, now: UnixTime(seconds: Self.expiry + offset))
        #expect(ring.entries.map(\.prekeys.signedPrekeyID) == (firstKept ? [1, 2] : [2]))
        #expect(ring.nextID == 3)
    }

    @Test func theRingKeepsTheNewestSixteenAndRotateNumbersOn() {
        var ring = PrekeyRing()
        for prekeys in Self.prekeys { ring.add(prekeys, expiry: Self.expiry, now: UnixTime(seconds: Self.expiry - 100)) }
        #expect(ring.entries.count == PrekeyRing.maximumEntries)
        #expect(ring.entries.map(\.prekeys.signedPrekeyID) == Array(5...20))
        var rng = SeededRandom(seed: "rotate")
        let fresh = ring.rotate(expiry: Self.expiry + 604_800, now: UnixTime(seconds: Self.expiry), rng: &rng)
        #expect(fresh.signedPrekeyID == 21 && fresh.pqPrekeyID == 21)
        #expect(ring.entries.count == PrekeyRing.maximumEntries && ring.entries.last?.prekeys.signedPrekeyID == 21)
        #expect(ring.entries.last?.retireAfter == Self.expiry + 604_800 + PrekeyRing.grace)
        #expect(PrekeyRing().nextID == 1)
    }
}
