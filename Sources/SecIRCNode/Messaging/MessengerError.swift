/// What can go wrong in the messenger, each with a message for the person at the front end.
/// The client's HTTP API maps the cases to statuses: `invalidInvite` and `invalidRequest` 400,
/// `notFound` 404, `conflict` 409, `notReady` 503, `storage` 500 (without its message).
public enum MessengerError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The store (a database or a key file) cannot be read, opened or written.
    case storage(String)
    /// An invite does not parse, is not signed by its identity, or has expired.
    case invalidInvite(String)
    /// A contact or message that is not there.
    case notFound(String)
    /// Something that exists already (a contact added twice).
    case conflict(String)
    /// A request that can never succeed as given (a bad name, an empty text, one's own invite).
    case invalidRequest(String)
    /// The client has no verified directory yet (so no mailbox relays).
    case notReady(String)

    public var description: String {
        switch self {
        case let .storage(m), let .invalidInvite(m), let .notFound(m), let .conflict(m), let .invalidRequest(m), let .notReady(m): m
        }
    }
}
