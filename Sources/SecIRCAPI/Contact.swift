/// A contact (`Contact` in openapi/client.yaml): `GET /v1/contacts/{id}`, the answer to adding
/// or renaming one, and the data of a `contact` event.
public struct Contact: Codable, Sendable, Equatable {
    /// SHA-256 of the contact's Ed25519 identity key, 64 lowercase hex digits.
    public var id: String
    /// 1 to 64 characters.
    public var name: String
    /// The contact's Ed25519 identity key, 64 lowercase hex digits.
    public var identityKey: String
    /// When the contact was added, unix milliseconds.
    public var addedMilliseconds: Int64
    /// "initiated" (we sent the session set-up and have decrypted no reply yet) or "established".
    public var session: String
    /// "accepted", or "requested": a contact request (a session set-up from an unknown identity)
    /// that waits for `POST /v1/contacts/{id}/accept` or `/reject`; nothing it sent is shown.
    public var state: String

    public init(id: String, name: String, identityKey: String, addedMilliseconds: Int64, session: String,
                state: String = "accepted") {
        self.id = id
        self.name = name
        self.identityKey = identityKey
        self.addedMilliseconds = addedMilliseconds
        self.session = session
        self.state = state
    }

    /// `state` is read as "accepted" when absent (a daemon from before contact requests).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        name = try c.decode(String.self, forKey: .name)
        identityKey = try c.decode(String.self, forKey: .identityKey)
        addedMilliseconds = try c.decode(Int64.self, forKey: .addedMilliseconds)
        session = try c.decode(String.self, forKey: .session)
        state = try c.decodeIfPresent(String.self, forKey: .state) ?? "accepted"
    }

    enum CodingKeys: String, CodingKey {
        case id, name, session, state
        case identityKey = "identity_key"
        case addedMilliseconds = "added_ms"
    }
}
