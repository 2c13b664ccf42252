/// Which of the two link handshakes a session came from.
public enum LinkHandshakeKind: String, Sendable, Hashable, CaseIterable {
    /// Relay to relay, `Noise_IK_25519_ChaChaPoly_BLAKE2b`: both sides know each other's link
    /// static key from the directory, and both are authenticated.
    case ik
    /// Client to relay, `Noise_NK_25519_ChaChaPoly_BLAKE2b`: only the relay is authenticated.
    case nk

    /// The Noise pattern.
    public var pattern: NoisePattern { self == .ik ? .ik : .nk }

    /// The message type of this kind's initiation.
    public var initiationType: LinkMessageType { self == .ik ? .initiationIK : .initiationNK }

    /// The exact length of this kind's initiation.
    public var initiationLength: Int { self == .ik ? LinkWireFormat.initiationIKLength : LinkWireFormat.initiationNKLength }
}
