/// A contact as the daemon's API returns it (`Contact` in openapi/client.yaml).
public struct Contact: Codable, Sendable, Equatable {
    /// SHA-256 of the contact's Ed25519 identity key, 64 lowercase hex digits.
    public var id: String
    public var name: String
    public var identityKey: String?
    public var addedMilliseconds: Int64?
    /// "initiated" or "established".
    public var session: String?

    public init(id: String, name: String, identityKey: String? = nil, addedMilliseconds: Int64? = nil, session: String? = nil) {
        self.id = id
        self.name = name
        self.identityKey = identityKey
        self.addedMilliseconds = addedMilliseconds
        self.session = session
    }

    enum CodingKeys: String, CodingKey {
        case id, name, session
        case identityKey = "identity_key"
        case addedMilliseconds = "added_ms"
    }
}

/// `GET /v1/contacts`.
struct ContactList: Decodable {
    var contacts: [Contact]
}
