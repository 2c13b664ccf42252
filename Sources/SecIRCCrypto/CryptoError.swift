/// Every way an operation of SecIRCCrypto can fail. Nothing in this module signals failure
/// by returning `nil`.
public enum CryptoError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Input of the wrong length: `what` names the value.
    case invalidLength(what: String, expected: Int, actual: Int)
    /// A signature did not verify.
    case invalidSignature
    /// An AEAD ciphertext (or its associated data, nonce or key) failed authentication.
    case authenticationFailed
    /// A Diffie-Hellman result was all zeros: the peer sent a low-order point.
    case weakPublicKey
    /// Text that should be hexadecimal or base64 was not.
    case invalidEncoding(String)
    /// A parameter outside what the primitive accepts (`what` says which).
    case invalidParameter(String)
    /// The operating system or a C library could not give what was asked (memory, randomness).
    case resourceExhausted(String)
    /// OpenSSL reported an error; the text is OpenSSL's.
    case openSSL(String)
    /// A key file could not be read or written safely.
    case keyFile(path: String, reason: String)

    public var description: String {
        switch self {
        case let .invalidLength(what, expected, actual): "\(what) must be \(expected) bytes, got \(actual)"
        case .invalidSignature: "signature does not verify"
        case .authenticationFailed: "authentication failed"
        case .weakPublicKey: "public key is of low order"
        case let .invalidEncoding(text): "invalid encoding: \(text)"
        case let .invalidParameter(text): "invalid parameter: \(text)"
        case let .resourceExhausted(text): "resource exhausted: \(text)"
        case let .openSSL(text): "OpenSSL: \(text)"
        case let .keyFile(path, reason): "\(path): \(reason)"
        }
    }
}
