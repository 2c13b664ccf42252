/// Sliding anti-replay window over 64-bit packet counters, RFC 6479 style: a ring of 64 words of
/// 64 bits (4096 bits). The greatest counter seen so far and the 4031 before it are tracked, so
/// any reordering within 4032 packets is accepted once; a duplicate, or a counter further back,
/// is rejected. Moving forward clears whole words, never bit by bit.
///
/// The zero value is ready to use. Check first (`verdict`), authenticate, then `accept`: a
/// forged packet must not move the window.
public struct LinkReplayWindow: Sendable, Hashable {
    /// Bits in the ring.
    public static let bitmapBits = 4096
    private static let wordBits = 64
    private static let wordCount = bitmapBits / wordBits
    /// Counters from `greatest - windowSize + 1` to `greatest` are tracked (one word is the
    /// slack that lets the ring advance word by word).
    public static let windowSize = UInt64(bitmapBits - wordBits)

    /// What the window says about a counter.
    public enum Verdict: Sendable, Hashable {
        case fresh, duplicate, tooOld
    }

    private var words = [UInt64](repeating: 0, count: wordCount)
    /// The greatest counter accepted (0 before the first).
    public private(set) var greatest: UInt64 = 0

    public init() {}

    /// Whether `counter` would be accepted, without changing anything.
    public func verdict(_ counter: UInt64) -> Verdict {
        if counter > greatest { return .fresh }
        if greatest - counter >= Self.windowSize { return .tooOld }
        let (word, bit) = Self.position(counter)
        return words[word] & bit == 0 ? .fresh : .duplicate
    }

    /// Records `counter` when it is fresh; returns the verdict it had.
    @discardableResult
    public mutating func accept(_ counter: UInt64) -> Verdict {
        let verdict = verdict(counter)
        guard verdict == .fresh else { return verdict }
        if counter > greatest {
            let current = greatest / UInt64(Self.wordBits)
            let target = counter / UInt64(Self.wordBits)
            let steps = min(target - current, UInt64(Self.wordCount))
            var i: UInt64 = 1
            while i <= steps {
                words[Int((current + i) % UInt64(Self.wordCount))] = 0
                i += 1
            }
            greatest = counter
        }
        let (word, bit) = Self.position(counter)
        words[word] |= bit
        return .fresh
    }

    private static func position(_ counter: UInt64) -> (word: Int, bit: UInt64) {
        (Int((counter / UInt64(wordBits)) % UInt64(wordCount)), UInt64(1) << (counter % UInt64(wordBits)))
    }
}
