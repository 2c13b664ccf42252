internal import CSodium

/// libsodium must be initialised once before use: `sodium_init` picks the fastest
/// implementation of each primitive for this CPU and opens the system RNG.
enum Sodium {
    /// Touch this before calling libsodium. Swift runs the initialiser once, thread-safely.
    static let ready: Bool = {
        guard sodium_init() >= 0 else { fatalError("libsodium failed to initialise (no system randomness?)") }
        return true
    }()

    @inline(__always)
    static func ensureReady() { _ = ready }
}

/// Checks that a byte count matches what a primitive needs.
@inline(__always)
func requireLength(_ what: String, _ actual: Int, _ expected: Int) throws {
    guard actual == expected else { throw CryptoError.invalidLength(what: what, expected: expected, actual: actual) }
}
