/// The body of `PUT /v1/contacts/{id}` (`NameRequest` in openapi/client.yaml): rename a contact.
public struct RenameContactRequest: Codable, Sendable, Equatable {
    /// 1 to 64 characters.
    public var name: String

    public init(name: String) {
        self.name = name
    }
}
