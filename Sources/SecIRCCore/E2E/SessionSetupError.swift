/// Why session setup failed. Nothing here says whether the peer or the network is at fault;
/// the caller drops the attempt.
public enum SessionSetupError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The initial message names prekey IDs other than the ones given to `respond`.
    case unknownPrekey(signedPrekeyID: UInt32, pqPrekeyID: UInt32)
    /// An X25519 agreement gave all zeros: a low-order public key.
    case weakPublicKey
    /// ML-KEM-768 encapsulation or decapsulation failed inside the library.
    case kemFailed
    /// The Double Ratchet could not start (a low-order ratchet key).
    case ratchet(RatchetError)

    public var description: String {
        switch self {
        case let .unknownPrekey(spk, pq): "no prekeys with IDs signed \(spk), ML-KEM \(pq)"
        case .weakPublicKey: "low-order X25519 public key"
        case .kemFailed: "ML-KEM-768 operation failed"
        case let .ratchet(error): "ratchet: \(error)"
        }
    }
}
