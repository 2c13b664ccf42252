/// One of a client's mailboxes (`Mailbox` in openapi/client.yaml): the relay that holds it and
/// its address there.
public struct Mailbox: Codable, Sendable, Equatable {
    /// The relay's id, 64 lowercase hex digits.
    public var relayID: String
    /// The mailbox's id, 64 lowercase hex digits.
    public var mailboxID: String

    public init(relayID: String, mailboxID: String) {
        self.relayID = relayID
        self.mailboxID = mailboxID
    }

    enum CodingKeys: String, CodingKey {
        case relayID = "relay_id"
        case mailboxID = "mailbox_id"
    }
}
