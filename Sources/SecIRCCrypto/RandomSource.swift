internal import CSodium

/// Where randomness comes from. Production code uses `SystemRandom`; tests and test-vector
/// generation use `SeededRandom`, so their output is exact and repeatable.
///
/// Refines `RandomNumberGenerator`, so it also drives `Int.random(in:using:)` and friends.
public protocol RandomSource: RandomNumberGenerator {
    /// Fills `buffer` with random bytes.
    mutating func fill(_ buffer: UnsafeMutableRawBufferPointer)
}

extension RandomSource {
    public mutating func next() -> UInt64 {
        var value: UInt64 = 0
        withUnsafeMutableBytes(of: &value) { fill($0) }
        return value
    }

    /// `count` random bytes.
    public mutating func bytes(_ count: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        out.withUnsafeMutableBytes { fill($0) }
        return out
    }
}

/// Any ``RandomSource`` behind one concrete type. The node loop passes its randomness to the
/// engines as this type, and the engines are compiled for it ahead of time
/// (`@_specialize(where R == AnyRandomSource)`): called through the `NodeEngine` protocol from
/// another module, they would otherwise run as unspecialized generic code, looking up type
/// metadata at run time on draws (with the loop's other changes, about 2% of an idle client's
/// time per cover packet: docs/BENCHMARKS.md).
public struct AnyRandomSource: RandomSource {
    public var base: any RandomSource

    public init(_ base: any RandomSource) { self.base = base }

    public mutating func fill(_ buffer: UnsafeMutableRawBufferPointer) { base.fill(buffer) }
}

/// The operating system's CSPRNG through libsodium (`randombytes_buf`).
public struct SystemRandom: RandomSource, Sendable {
    /// Never read. It gives the type a size: ThreadSanitizer (Swift 6.3.1 on Linux) crashes
    /// inside its own runtime on an `inout` access to a zero-sized generator (swiftlang/swift
    /// issue 66099; docs/SECURITY.md "Sanitizers").
    private var size: UInt8 = 0

    public init() { Sodium.ensureReady() }

    public mutating func fill(_ buffer: UnsafeMutableRawBufferPointer) {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return }
        randombytes_buf(base, buffer.count)
    }
}

/// A deterministic stream: XChaCha20 keyed by BLAKE2b(seed), a fresh nonce per `fill`.
/// For tests and vectors only; never for keys that protect anything.
public struct SeededRandom: RandomSource, Sendable {
    private var key: [UInt8]
    private var counter: UInt64 = 0

    /// Any seed text gives its own stream.
    public init(seed: String) {
        self.init(seed: Array(seed.utf8))
    }

    public init(seed: [UInt8]) {
        Sodium.ensureReady()
        key = BLAKE2b.hash(seed, outputLength: 32)
    }

    public mutating func fill(_ buffer: UnsafeMutableRawBufferPointer) {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return }
        var nonce = [UInt8](repeating: 0, count: 24)
        withUnsafeBytes(of: counter.littleEndian) { nonce.replaceSubrange(0..<8, with: $0) }
        counter &+= 1
        buffer.initializeMemory(as: UInt8.self, repeating: 0)
        _ = crypto_stream_xchacha20_xor(base, base, UInt64(buffer.count), nonce, key)
    }
}
