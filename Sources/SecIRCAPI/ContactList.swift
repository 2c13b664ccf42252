/// `GET /v1/contacts`: every contact.
public struct ContactList: Codable, Sendable, Equatable {
    public var contacts: [Contact]

    public init(contacts: [Contact]) {
        self.contacts = contacts
    }
}
