internal import CSodium

/// Secret bytes in memory that is zeroed (`sodium_memzero`) when the last reference goes away.
/// Compared in constant time; described as `<redacted N bytes>` so it never reaches a log.
///
/// Immutable after creation, so instances are safe to share across threads.
public final class SecureBytes: @unchecked Sendable {
    // @unchecked: the buffer is written only in `init` and read afterwards; `deinit` runs
    // when no other reference exists.
    private let storage: UnsafeMutableRawBufferPointer

    /// Copies `bytes` into fresh zero-on-free memory. The caller should wipe its own copy.
    public convenience init(_ bytes: [UInt8]) {
        self.init(count: bytes.count) { buffer in buffer.copyBytes(from: bytes) }
    }

    /// Allocates `count` bytes and lets `initialize` fill them in place, so the secret is never
    /// in an ordinary (unwiped) buffer.
    public init(count: Int, initialize: (UnsafeMutableRawBufferPointer) throws -> Void) rethrows {
        Sodium.ensureReady()
        storage = .allocate(byteCount: max(count, 1), alignment: 16)
        storage.initializeMemory(as: UInt8.self, repeating: 0)
        do {
            try initialize(UnsafeMutableRawBufferPointer(rebasing: storage[0..<count]))
        } catch {
            sodium_memzero(storage.baseAddress, storage.count)
            storage.deallocate()
            throw error
        }
        self.count = count
    }

    /// `count` random bytes from `rng`.
    public convenience init(randomCount count: Int, using rng: inout some RandomSource) {
        self.init(count: count) { rng.fill($0) }
    }

    deinit {
        sodium_memzero(storage.baseAddress, storage.count)
        storage.deallocate()
    }

    /// Number of secret bytes.
    public let count: Int

    /// Reads the bytes. Do not let the pointer escape.
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(rebasing: storage[0..<count]))
    }

    /// A copy as an ordinary array, for the rare API that needs one (e.g. swift-crypto).
    /// The array is not wiped: prefer `withUnsafeBytes`.
    public func unsafeCopy() -> [UInt8] {
        withUnsafeBytes { Array($0) }
    }
}

extension SecureBytes: Equatable {
    /// Constant-time in the contents (the lengths are not secret).
    public static func == (lhs: SecureBytes, rhs: SecureBytes) -> Bool {
        guard lhs.count == rhs.count else { return false }
        return lhs.withUnsafeBytes { a in rhs.withUnsafeBytes { b in ConstantTime.equal(a, b) } }
    }
}

extension SecureBytes: CustomStringConvertible, CustomDebugStringConvertible {
    public var description: String { "<redacted \(count) bytes>" }
    public var debugDescription: String { description }
}

/// Comparisons whose time does not depend on where the inputs differ.
public enum ConstantTime {
    /// True when both buffers have the same length and contents. Time depends only on the length.
    public static func equal(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        guard a.count == b.count else { return false }
        if a.isEmpty { return true }
        return sodium_memcmp(a.baseAddress, b.baseAddress, a.count) == 0
    }

    /// Array form of `equal(_:_:)`.
    public static func equal(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        a.withUnsafeBytes { pa in b.withUnsafeBytes { pb in equal(pa, pb) } }
    }

    /// Zeroes memory in a way the compiler may not optimise away.
    public static func wipe(_ buffer: UnsafeMutableRawBufferPointer) {
        guard let base = buffer.baseAddress else { return }
        sodium_memzero(base, buffer.count)
    }

    /// Zeroes an array's bytes in place.
    public static func wipe(_ array: inout [UInt8]) {
        array.withUnsafeMutableBytes { wipe($0) }
    }
}
