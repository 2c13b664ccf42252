/// The outcomes of the latest trials of something a first-ring member measures of a relay (its
/// handshake checks, its probe packets): at most `length` (≤ 64) of them, newest in bit 0,
/// 1 for a success.
struct OutcomeWindow: Sendable {
    let length: Int
    private(set) var bits: UInt64 = 0
    /// How many are recorded (at most `length`).
    private(set) var count = 0

    init(length: Int) {
        precondition((1...64).contains(length), "a window holds 1 to 64 outcomes")
        self.length = length
    }

    mutating func record(_ success: Bool) {
        bits = bits << 1 | (success ? 1 : 0)
        count = min(count + 1, length)
    }

    /// The share of the recorded outcomes that were successes (1 when none are recorded).
    var share: Double {
        guard count > 0 else { return 1 }
        let window = count == 64 ? bits : bits & (1 << UInt64(count) - 1)
        return Double(window.nonzeroBitCount) / Double(count)
    }

    /// Whether the latest two were both failures.
    var lastTwoFailed: Bool { count >= 2 && bits & 0b11 == 0 }
}
