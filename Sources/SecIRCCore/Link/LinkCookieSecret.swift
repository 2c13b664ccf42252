import SecIRCCrypto

/// A responder's cookie secret: 32 random bytes, replaced once `lifetime` has passed since it
/// was made (or the clock went backwards), so a cookie is valid for at most that long.
struct LinkCookieSecret: Sendable {
    private(set) var key: SymmetricKey
    private(set) var createdAt: UnixTime

    init(now: UnixTime, rng: inout some RandomSource) {
        key = SymmetricKey(using: &rng)
        createdAt = now
    }

    /// The secret in force at `now`, replacing it first if it is too old.
    mutating func current(now: UnixTime, lifetime: Duration, rng: inout some RandomSource) -> SymmetricKey {
        if now < createdAt || now.duration(since: createdAt) >= lifetime {
            key = SymmetricKey(using: &rng)
            createdAt = now
        }
        return key
    }
}
