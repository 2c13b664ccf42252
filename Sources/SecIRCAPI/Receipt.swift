/// The data of a `receipt` event (`Receipt` in openapi/client.yaml): an outgoing message was
/// delivered.
public struct Receipt: Codable, Sendable, Equatable {
    /// The message's id.
    public var id: String
    /// The contact's id.
    public var contact: String
    /// "delivered".
    public var state: String

    public init(id: String, contact: String, state: String = "delivered") {
        self.id = id
        self.contact = contact
        self.state = state
    }
}
