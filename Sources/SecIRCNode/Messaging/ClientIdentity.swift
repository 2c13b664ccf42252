public import SecIRCCore
public import SecIRCCrypto

/// The user's long-term keys: the Ed25519 identity (ID = SHA-256 of its public key) and the
/// X25519 identity-agreement key. Made on first start (``Messenger/init(store:displayName:retry:rng:)``)
/// and kept by the store, which seals them when it writes them anywhere.
public struct ClientIdentity: Sendable {
    public let keys: SessionSetup.Identity

    public init(keys: SessionSetup.Identity) { self.keys = keys }

    public var id: ID { keys.signing.publicKey.id }
    public var signingKey: SigningPublicKey { keys.signing.publicKey }
    public var agreementKey: AgreementPublicKey { keys.agreement.publicKey }
}
