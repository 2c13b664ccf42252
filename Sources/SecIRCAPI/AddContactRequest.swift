/// The body of `POST /v1/contacts`: add a contact from their invite.
public struct AddContactRequest: Codable, Sendable, Equatable {
    /// Their `secirc:` invite.
    public var invite: String
    /// The name to give them (default: the invite's name hint).
    public var name: String?

    public init(invite: String, name: String? = nil) {
        self.invite = invite
        self.name = name
    }
}
