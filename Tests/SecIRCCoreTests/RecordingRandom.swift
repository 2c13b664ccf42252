import SecIRCCrypto

/// A `SeededRandom` that writes down every draw, labelled with what it is for (`step`), so a
/// vector can list its random inputs in order (docs/PROTOCOL.md §10).
struct RecordingRandom: RandomSource {
    /// One draw: what it was for, and its bytes in hex.
    struct Draw: Codable, Equatable {
        var step: String
        var bytes: String
    }

    private var seeded: SeededRandom
    /// What the next draws are for.
    var step = ""
    private(set) var draws: [Draw] = []

    init(seed: String) { seeded = SeededRandom(seed: seed) }

    mutating func fill(_ buffer: UnsafeMutableRawBufferPointer) {
        guard buffer.count > 0 else { return }
        seeded.fill(buffer)
        draws.append(Draw(step: step, bytes: Hex.encode(Array(buffer))))
    }
}
