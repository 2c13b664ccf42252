/// What can go wrong in the messenger, each with a message for the person at the front end.
/// The client's HTTP API maps the cases to statuses: `invalidInvite` and `invalidRequest` 400,
/// `notFound` 404, `conflict` 409, `notReady` 503, `storage` and `insufficientStorage` 507
/// (without their message).
public enum MessengerError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The store (a database or a key file) cannot be read, opened or written.
    case storage(String)
    /// The store is out of room (the disk is full): nothing was written, and the same operation
    /// can succeed once there is space again.
    case insufficientStorage(String)
    /// An invite does not parse, is not signed by its identity, or has expired.
    case invalidInvite(String)
    /// A contact or message that is not there.
    case notFound(String)
    /// A request body names a contact that is not one (adding it to a group): the request is well
    /// formed and its target exists, but what it refers to does not.
    case unknownContact(String)
    /// Something that exists already (a contact added twice).
    case conflict(String)
    /// A request that can never succeed as given (a bad name, an empty text, one's own invite).
    case invalidRequest(String)
    /// The client has no verified directory yet (so no mailbox relays).
    case notReady(String)

    public var description: String {
        switch self {
        case let .storage(m), let .insufficientStorage(m), let .invalidInvite(m), let .notFound(m), let .unknownContact(m), let .conflict(m), let .invalidRequest(m), let .notReady(m): m
        }
    }
}
