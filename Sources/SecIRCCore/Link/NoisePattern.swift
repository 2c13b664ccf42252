/// A token of a Noise handshake pattern (Noise §7.1).
public enum NoiseToken: String, Sendable, Hashable {
    case e, s, ee, es, se, ss
}

/// A Noise handshake pattern: pre-messages and message token lists (Noise §7). secIRC uses two,
/// both with the cipher suite `25519_ChaChaPoly_BLAKE2b`:
/// - `ik` (relay to relay): `<- s` / `-> e, es, s, ss` / `<- e, ee, se`
/// - `nk` (client to relay; the client stays anonymous): `<- s` / `-> e, es` / `<- e, ee`
public struct NoisePattern: Sendable, Hashable {
    /// The pattern's name as it appears in the protocol name ("IK").
    public let name: String
    /// Tokens the initiator's pre-message mixes in (its static key known in advance).
    public let initiatorPreMessage: [NoiseToken]
    /// Tokens the responder's pre-message mixes in.
    public let responderPreMessage: [NoiseToken]
    /// Handshake messages, alternating initiator, responder, initiator, ...
    public let messages: [[NoiseToken]]

    public init(name: String, initiatorPreMessage: [NoiseToken], responderPreMessage: [NoiseToken], messages: [[NoiseToken]]) {
        self.name = name
        self.initiatorPreMessage = initiatorPreMessage
        self.responderPreMessage = responderPreMessage
        self.messages = messages
    }

    /// `Noise_IK`: both sides know each other's static key after the first message.
    public static let ik = NoisePattern(name: "IK", initiatorPreMessage: [], responderPreMessage: [.s],
                                        messages: [[.e, .es, .s, .ss], [.e, .ee, .se]])

    /// `Noise_NK`: the initiator knows the responder's static key and has none of its own.
    public static let nk = NoisePattern(name: "NK", initiatorPreMessage: [], responderPreMessage: [.s],
                                        messages: [[.e, .es], [.e, .ee]])

    /// The full protocol name, e.g. `Noise_IK_25519_ChaChaPoly_BLAKE2b`.
    public var protocolName: String { "Noise_\(name)_25519_ChaChaPoly_BLAKE2b" }

    /// Whether `role` needs its own static key: it sends or pre-shares `s`, or takes part in a
    /// DH token with its static key.
    func needsLocalStatic(_ role: NoiseRole) -> Bool {
        let pre = role == .initiator ? initiatorPreMessage : responderPreMessage
        if pre.contains(.s) { return true }
        for (index, tokens) in messages.enumerated() {
            let sender: NoiseRole = index % 2 == 0 ? .initiator : .responder
            if sender == role, tokens.contains(.s) { return true }
            // es: initiator's e with responder's s; se: initiator's s with responder's e.
            if role == .initiator, tokens.contains(.se) || tokens.contains(.ss) { return true }
            if role == .responder, tokens.contains(.es) || tokens.contains(.ss) { return true }
        }
        return false
    }

    /// Whether `role` must know the peer's static key before the handshake (a pre-message).
    func needsRemoteStaticUpFront(_ role: NoiseRole) -> Bool {
        (role == .initiator ? responderPreMessage : initiatorPreMessage).contains(.s)
    }
}

/// Which side of a Noise handshake this party plays.
public enum NoiseRole: Sendable, Hashable {
    case initiator, responder
}
