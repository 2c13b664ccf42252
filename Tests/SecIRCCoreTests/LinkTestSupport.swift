import Foundation
import SecIRCCore
import SecIRCCrypto

/// Helpers shared by the Link*Tests files (kept in one namespace so they cannot clash with the
/// helpers of other test files in this target).
enum LinkTestSupport {
    /// Bytes of a hex literal from a vector; a malformed literal is a bug in the test.
    static func hex(_ text: String) -> [UInt8] {
        do { return try Hex.decode(text) } catch { fatalError("bad hex in test: \(text)") }
    }

    /// `bytes` with bit `bit` (0 = least significant bit of byte 0) inverted.
    static func flippingBit(_ bit: Int, of bytes: [UInt8]) -> [UInt8] {
        var copy = bytes
        copy[bit / 8] ^= UInt8(1) << UInt8(bit % 8)
        return copy
    }

    /// A deterministic X25519 key for a seed text.
    static func agreementKey(_ seed: String) -> AgreementPrivateKey {
        var rng = SeededRandom(seed: seed)
        return AgreementPrivateKey(using: &rng)
    }

    /// A fixed time: 2025-01-01T00:00:00Z plus `seconds`.
    static func time(_ seconds: Double = 0) -> UnixTime {
        UnixTime(nanoseconds: 1_735_689_600 * 1_000_000_000 + Int64(seconds * 1e9))
    }

    /// Loads a JSON vector file from `Tests/SecIRCCoreTests/Vectors/`.
    static func loadVectors<T: Decodable>(_ name: String, as type: T.Type) throws -> T {
        let data = try Data(contentsOf: VectorFile.directory.appendingPathComponent(name))
        return try JSONDecoder().decode(T.self, from: data)
    }
}

/// A `RandomSource` that hands out queued byte strings, one per `fill` (each must have exactly
/// the length asked for), then continues with a seeded stream. Lets a test make a handshake use
/// the ephemeral keys of a published vector.
struct QueuedRandom: RandomSource {
    private var queue: [[UInt8]]
    private var fallback = SeededRandom(seed: "queued random fallback")

    init(_ queue: [[UInt8]]) { self.queue = queue }

    var remaining: Int { queue.count }

    mutating func fill(_ buffer: UnsafeMutableRawBufferPointer) {
        guard !queue.isEmpty else { return fallback.fill(buffer) }
        let next = queue.removeFirst()
        precondition(next.count == buffer.count, "queued \(next.count) bytes, asked for \(buffer.count)")
        buffer.copyBytes(from: next)
    }
}
