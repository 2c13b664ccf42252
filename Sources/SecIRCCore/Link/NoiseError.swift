/// Why a Noise operation failed. After a failed `readMessage` the handshake state is unchanged
/// (it works on a copy), so a forged message cannot break an honest handshake in progress.
public enum NoiseError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A key the pattern needs was not given (`what` names it).
    case missingKey(String)
    /// `writeMessage`/`readMessage` called when it is the other party's turn, or after the
    /// handshake completed.
    case outOfTurn
    /// `split()` called before the last handshake message.
    case handshakeIncomplete
    /// A handshake message ended before all its tokens were read.
    case messageTooShort
    /// A message above Noise's 65535-byte limit.
    case messageTooLong
    /// An AEAD tag did not verify: wrong key, tampered bytes or a different prologue.
    case decryptFailed
    /// A Diffie-Hellman result was all zeros: the peer sent a low-order point.
    case weakPublicKey
    /// The cipher's 64-bit nonce is used up (2^64 - 1 is reserved by Noise).
    case nonceExhausted

    public var description: String {
        switch self {
        case let .missingKey(what): "Noise: missing \(what)"
        case .outOfTurn: "Noise: message out of turn"
        case .handshakeIncomplete: "Noise: handshake not complete"
        case .messageTooShort: "Noise: message too short"
        case .messageTooLong: "Noise: message longer than 65535 bytes"
        case .decryptFailed: "Noise: decryption failed"
        case .weakPublicKey: "Noise: low-order public key"
        case .nonceExhausted: "Noise: nonce exhausted"
        }
    }
}
