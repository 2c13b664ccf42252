public import SecIRCCrypto

/// A deterministic random source for the simulator: `SeededRandom`'s stream drawn 4 KiB at a
/// time. (`SeededRandom` runs one XChaCha20 key set-up per call, and the engines make many
/// small draws; buffering makes them cheap and keeps the stream a function of the seed.)
public struct BufferedRandom: RandomSource, Sendable {
    private var source: SeededRandom
    private var buffer = [UInt8](repeating: 0, count: 4096)
    private var position = 4096

    public init(seed: String) {
        source = SeededRandom(seed: seed)
    }

    public mutating func fill(_ out: UnsafeMutableRawBufferPointer) {
        var written = 0
        while written < out.count {
            if position == buffer.count {
                buffer.withUnsafeMutableBytes { source.fill($0) }
                position = 0
            }
            let n = min(out.count - written, buffer.count - position)
            buffer.withUnsafeBytes { bytes in
                UnsafeMutableRawBufferPointer(rebasing: out[written..<(written + n)])
                    .copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[position..<(position + n)]))
            }
            position += n
            written += n
        }
    }
}
