public import SecIRCCrypto

/// Noise's `HandshakeState` (§5.3, revision 34) for `25519_ChaChaPoly_BLAKE2b`, driven by a
/// `NoisePattern`. It has no PSK or fallback modifiers. Ephemeral keys come from the
/// `RandomSource` given to `writeMessage`, so tests can supply fixed ones.
///
/// Contract:
/// - Messages alternate initiator, responder, ...; calling the wrong one throws `outOfTurn`.
/// - `readMessage` works on a copy and changes `self` only when the whole message verifies:
///   a forged or tampered message leaves the handshake as it was.
/// - After the last message, `split()` gives the transport cipher states.
/// - A value type: copying it copies the handshake (the link layer keeps one copy).
public struct NoiseHandshakeState: Sendable {
    /// Noise's limit on any message.
    public static let maxMessageLength = 65_535
    /// DHLEN for Curve25519.
    public static let dhLength = 32

    public let pattern: NoisePattern
    public let role: NoiseRole
    private var symmetric: NoiseSymmetricState
    private let localStatic: AgreementPrivateKey?
    private var localEphemeral: AgreementPrivateKey?
    /// The peer's static key: given up front, or learnt from an `s` token.
    public private(set) var remoteStatic: AgreementPublicKey?
    /// The peer's ephemeral key once received.
    public private(set) var remoteEphemeral: AgreementPublicKey?
    private var messageIndex = 0

    /// `Initialize(...)`: InitializeSymmetric(protocol name), MixHash(prologue), then the
    /// pre-message public keys in order (initiator's, then responder's). Throws `missingKey`
    /// when the pattern needs a key that is not given.
    public init(pattern: NoisePattern, role: NoiseRole, prologue: [UInt8],
                localStatic: AgreementPrivateKey? = nil, remoteStatic: AgreementPublicKey? = nil) throws(NoiseError) {
        if pattern.needsLocalStatic(role), localStatic == nil { throw NoiseError.missingKey("local static key") }
        if pattern.needsRemoteStaticUpFront(role), remoteStatic == nil { throw NoiseError.missingKey("remote static key") }
        self.pattern = pattern
        self.role = role
        self.localStatic = localStatic
        self.remoteStatic = remoteStatic
        symmetric = NoiseSymmetricState(protocolName: pattern.protocolName)
        symmetric.mixHash(prologue)
        for (owner, tokens) in [(NoiseRole.initiator, pattern.initiatorPreMessage), (.responder, pattern.responderPreMessage)] {
            for token in tokens where token == .s {
                // Both pre-message keys are statics here ("e" pre-messages are for fallback patterns).
                let key = owner == role ? localStatic?.publicKey : remoteStatic
                guard let key else { throw NoiseError.missingKey("pre-message static key") }
                symmetric.mixHash(key.bytes)
            }
        }
    }

    /// True once every message of the pattern has been written or read.
    public var isComplete: Bool { messageIndex >= pattern.messages.count }

    /// True when the next message is ours to write.
    public var isOurTurn: Bool {
        !isComplete && (messageIndex % 2 == 0) == (role == .initiator)
    }

    /// `h` so far (after the handshake: the channel-binding value, equal on both sides).
    public var handshakeHash: [UInt8] { symmetric.handshakeHash }

    /// `WriteMessage(payload, message_buffer)`: processes the next pattern message's tokens,
    /// appends `EncryptAndHash(payload)` and returns the message.
    public mutating func writeMessage(payload: [UInt8], using rng: inout some RandomSource) throws(NoiseError) -> [UInt8] {
        guard isOurTurn else { throw NoiseError.outOfTurn }
        var next = self
        var out: [UInt8] = []
        for token in pattern.messages[messageIndex] {
            switch token {
            case .e:
                let ephemeral = AgreementPrivateKey(using: &rng)
                next.localEphemeral = ephemeral
                out += ephemeral.publicKey.bytes
                next.symmetric.mixHash(ephemeral.publicKey.bytes)
            case .s:
                guard let localStatic else { throw NoiseError.missingKey("local static key") }
                out += try next.symmetric.encryptAndHash(localStatic.publicKey.bytes)
            case .ee, .es, .se, .ss:
                try next.mixDH(token)
            }
        }
        out += try next.symmetric.encryptAndHash(payload)
        guard out.count <= Self.maxMessageLength else { throw NoiseError.messageTooLong }
        next.messageIndex += 1
        self = next
        return out
    }

    /// `ReadMessage(message, payload_buffer)`: processes the next pattern message's tokens from
    /// `message` and returns the decrypted payload. On any error `self` is unchanged.
    public mutating func readMessage(_ message: [UInt8]) throws(NoiseError) -> [UInt8] {
        guard !isComplete, !isOurTurn else { throw NoiseError.outOfTurn }
        guard message.count <= Self.maxMessageLength else { throw NoiseError.messageTooLong }
        var next = self
        var offset = 0
        func take(_ count: Int) throws(NoiseError) -> [UInt8] {
            guard message.count - offset >= count else { throw NoiseError.messageTooShort }
            defer { offset += count }
            return Array(message[offset..<(offset + count)])
        }
        for token in pattern.messages[messageIndex] {
            switch token {
            case .e:
                let bytes = try take(Self.dhLength)
                next.remoteEphemeral = try? AgreementPublicKey(bytes: bytes)
                next.symmetric.mixHash(bytes)
            case .s:
                let length = Self.dhLength + (next.symmetric.cipher.hasKey ? ChaCha20Poly1305.tagByteCount : 0)
                let plaintext = try next.symmetric.decryptAndHash(try take(length))
                next.remoteStatic = try? AgreementPublicKey(bytes: plaintext)
            case .ee, .es, .se, .ss:
                try next.mixDH(token)
            }
        }
        let payload = try next.symmetric.decryptAndHash(Array(message[offset...]))
        next.messageIndex += 1
        self = next
        return payload
    }

    /// `Split()`: the transport cipher states, once the handshake is complete.
    public func split() throws(NoiseError) -> (initiatorToResponder: NoiseCipherState, responderToInitiator: NoiseCipherState) {
        guard isComplete else { throw NoiseError.handshakeIncomplete }
        return symmetric.split()
    }

    /// MixKey(DH(...)) for a DH token. For `es` the initiator uses its ephemeral with the
    /// responder's static and the responder the reverse; `se` is the mirror image.
    private mutating func mixDH(_ token: NoiseToken) throws(NoiseError) {
        let initiator = role == .initiator
        let local: AgreementPrivateKey?
        let remote: AgreementPublicKey?
        switch token {
        case .ee: (local, remote) = (localEphemeral, remoteEphemeral)
        case .es: (local, remote) = initiator ? (localEphemeral, remoteStatic) : (localStatic, remoteEphemeral)
        case .se: (local, remote) = initiator ? (localStatic, remoteEphemeral) : (localEphemeral, remoteStatic)
        case .ss: (local, remote) = (localStatic, remoteStatic)
        case .e, .s: return
        }
        guard let local, let remote else { throw NoiseError.missingKey("key for \(token.rawValue)") }
        let shared: SecureBytes
        do { shared = try local.sharedSecret(with: remote) } catch { throw NoiseError.weakPublicKey }
        symmetric.mixKey(shared)
    }
}
