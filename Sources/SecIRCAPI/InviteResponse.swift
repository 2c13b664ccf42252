/// `GET /v1/invite`: a signed `secirc:` invite for a contact to add, naming this client's
/// mailbox relays.
public struct InviteResponse: Codable, Sendable, Equatable {
    /// The invite, `secirc:` and base64url.
    public var uri: String
    /// When the invite expires, unix milliseconds.
    public var expiresMilliseconds: Int64
    public var mailboxes: [Mailbox]

    public init(uri: String, expiresMilliseconds: Int64, mailboxes: [Mailbox]) {
        self.uri = uri
        self.expiresMilliseconds = expiresMilliseconds
        self.mailboxes = mailboxes
    }

    enum CodingKeys: String, CodingKey {
        case uri, mailboxes
        case expiresMilliseconds = "expires_ms"
    }
}
