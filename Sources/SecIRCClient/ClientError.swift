/// What can go wrong in the client, each with a message for the person at the front end.
public enum ClientError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The database or a key file cannot be read or opened.
    case storage(String)
    /// An invite does not parse, is not signed by its identity, or has expired.
    case invalidInvite(String)
    case notFound(String)
    case conflict(String)
    case invalidRequest(String)
    /// The client has no verified directory yet (so no mailbox relays).
    case notReady(String)

    public var description: String {
        switch self {
        case let .storage(m), let .invalidInvite(m), let .notFound(m), let .conflict(m), let .invalidRequest(m), let .notReady(m): m
        }
    }
}
