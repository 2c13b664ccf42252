/// `GET /v1/identity`: the client's id and identity key.
public struct Identity: Codable, Sendable, Equatable {
    /// SHA-256 of the identity key, 64 lowercase hex digits.
    public var id: String
    /// The Ed25519 identity key, 64 lowercase hex digits.
    public var identityKey: String

    public init(id: String, identityKey: String) {
        self.id = id
        self.identityKey = identityKey
    }

    enum CodingKeys: String, CodingKey {
        case id
        case identityKey = "identity_key"
    }
}
