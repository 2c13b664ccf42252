public import SecIRCCrypto
public import SecIRCTransport

/// A relay this node makes links to: from the directory, or added by an operator.
public struct LinkPeer: Sendable, Hashable {
    /// The relay's ID (SHA-256 of its identity key).
    public var id: ID
    /// Where its UDP data plane listens.
    public var address: SocketAddress
    /// Its X25519 link static key (Noise responder key).
    public var linkKey: AgreementPublicKey

    public init(id: ID, address: SocketAddress, linkKey: AgreementPublicKey) {
        self.id = id
        self.address = address
        self.linkKey = linkKey
    }
}
