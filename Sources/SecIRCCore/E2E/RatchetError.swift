/// Why a `DoubleRatchet` operation failed. A failed `decrypt` leaves the ratchet exactly as it
/// was, so the caller may drop the message and carry on.
public enum RatchetError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The header asks to skip more than `DoubleRatchet.maxSkip` message keys in one chain.
    case tooManySkipped
    /// The message number was already used in this chain (a replay or duplicate delivery).
    case duplicate
    /// The AEAD tag did not verify: wrong key, or the ciphertext, header or associated data changed.
    case authenticationFailed
    /// A ratchet public key gave an all-zero X25519 result (a low-order point).
    case invalidRatchetKey
    /// The responder cannot send before it has received the initiator's first message.
    case noSendingChain
    /// A message counter would pass 2³² − 1; the session must be replaced.
    case chainExhausted

    public var description: String {
        switch self {
        case .tooManySkipped: "message skips more than \(DoubleRatchet.maxSkip) keys"
        case .duplicate: "message number already used"
        case .authenticationFailed: "message failed authentication"
        case .invalidRatchetKey: "low-order ratchet public key"
        case .noSendingChain: "no sending chain yet: wait for the peer's first message"
        case .chainExhausted: "message counter exhausted"
        }
    }
}
