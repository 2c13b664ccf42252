import SecIRCCore
import Testing

/// The RFC 6479-style replay window on its own, and against a plain reference model.
@Suite("Link replay window")
struct LinkReplayWindowTests {
    @Test("the window covers at least 2048 packets")
    func size() {
        #expect(LinkReplayWindow.bitmapBits == 4096)
        #expect(LinkReplayWindow.windowSize >= 2048)
        #expect(LinkReplayWindow.windowSize == 4032)
    }

    @Test("in order: every counter once")
    func inOrder() {
        var window = LinkReplayWindow()
        for counter in UInt64(0)..<20_000 { #expect(window.accept(counter) == .fresh) }
        #expect(window.greatest == 19_999)
    }

    @Test("duplicates are rejected, at the edge and inside")
    func duplicates() {
        var window = LinkReplayWindow()
        #expect(window.accept(0) == .fresh)
        #expect(window.accept(0) == .duplicate)
        for counter in UInt64(1)...300 { window.accept(counter) }
        #expect(window.accept(300) == .duplicate)
        #expect(window.accept(150) == .duplicate)
        #expect(window.verdict(301) == .fresh)
    }

    @Test("out of order within the window is accepted once")
    func outOfOrder() {
        var window = LinkReplayWindow()
        #expect(window.accept(5_000) == .fresh)
        #expect(window.accept(4_000) == .fresh)
        #expect(window.accept(4_000) == .duplicate)
        #expect(window.accept(5_000 - 4_031) == .fresh)
        #expect(window.accept(5_000 - 4_032) == .tooOld)
        #expect(window.accept(4_999) == .fresh)
        #expect(window.accept(5_001) == .fresh)
        #expect(window.accept(4_000) == .duplicate)
    }

    @Test("a far jump forgets everything behind the new window")
    func farJump() {
        var window = LinkReplayWindow()
        for counter in UInt64(0)..<100 { window.accept(counter) }
        #expect(window.accept(1_000_000) == .fresh)
        #expect(window.accept(0) == .tooOld)
        #expect(window.accept(99) == .tooOld)
        #expect(window.accept(1_000_000 - 4_031) == .fresh)
        #expect(window.accept(1_000_000 - 4_032) == .tooOld)
        // Bits of old counters that map to the same ring slots were cleared.
        #expect(window.accept(1_000_000 - 64) == .fresh)
        #expect(window.accept(1_000_001) == .fresh)
    }

    @Test("old packets behind a moving window")
    func oldPackets() {
        var window = LinkReplayWindow()
        for counter in stride(from: UInt64(0), to: 10_000, by: 2) { window.accept(counter) }
        // Odd counters in the window are fresh once; odd counters behind it are too old.
        #expect(window.accept(9_999) == .fresh)
        #expect(window.accept(9_999 - 4_030) == .fresh)  // 5969: odd, inside
        #expect(window.accept(9_999 - 4_030) == .duplicate)
        #expect(window.accept(9_999 - 4_031) == .duplicate) // 5968: even, accepted before
        #expect(window.accept(9_999 - 4_032) == .tooOld)  // 5967: just behind
        #expect(window.accept(1) == .tooOld)
    }

    @Test("counters near 2^64 do not overflow")
    func nearMax() {
        var window = LinkReplayWindow()
        #expect(window.accept(UInt64.max - 10) == .fresh)
        #expect(window.accept(UInt64.max) == .fresh)
        #expect(window.accept(UInt64.max - 10) == .duplicate)
        #expect(window.accept(UInt64.max - 5) == .fresh)
        #expect(window.accept(0) == .tooOld)
    }

    @Test("verdict never changes the window")
    func verdictIsPure() {
        var window = LinkReplayWindow()
        window.accept(10)
        let before = window
        _ = window.verdict(11)
        _ = window.verdict(10)
        _ = window.verdict(1 << 40)
        #expect(window == before)
    }

    @Test("random reordered streams agree with a reference model", arguments: [1, 2, 3, 4])
    func reference(_ seed: UInt64) {
        var state = seed &* 0x9E37_79B9_7F4A_7C15
        func random() -> UInt64 { // SplitMix64
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        var window = LinkReplayWindow()
        var seen: Set<UInt64> = []
        var greatest: UInt64 = 0
        var mismatches = 0
        var base: UInt64 = 0
        for _ in 0..<20_000 {
            // Mostly forward, sometimes far behind, sometimes far ahead, sometimes repeated.
            let r = random() % 100
            let counter: UInt64
            switch r {
            case 0..<60: base += random() % 8; counter = base
            case 60..<85: counter = base &- min(base, random() % 4_200)
            case 85..<95: counter = seen.isEmpty ? 0 : greatest &- min(greatest, random() % 5)
            default: base += random() % 10_000; counter = base
            }
            let expected: LinkReplayWindow.Verdict
            if seen.isEmpty || counter > greatest {
                expected = .fresh
            } else if greatest - counter >= LinkReplayWindow.windowSize {
                expected = .tooOld
            } else {
                expected = seen.contains(counter) ? .duplicate : .fresh
            }
            if window.accept(counter) != expected { mismatches += 1 }
            if expected == .fresh {
                seen.insert(counter)
                greatest = max(greatest, counter)
            }
        }
        #expect(mismatches == 0)
    }
}
