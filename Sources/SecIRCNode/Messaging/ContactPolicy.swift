/// How the messenger treats session set-ups from identities that are not contacts: contact
/// requests the user accepts or rejects (docs/PROTOCOL.md §8, Consent), and the bounds on what
/// requests may hold. A value: the messenger keeps the one it was made with.
public struct ContactPolicy: Hashable, Sendable {
    /// New contacts from unknown identities become contacts at once instead of requests
    /// (`contacts.auto_accept`: bots, tests, the devnet). The hourly limit still applies.
    public var autoAccept: Bool
    /// Requests waiting for the user, at most; a set-up past it is refused (`request_limit`).
    public var maximumPendingRequests: Int
    /// Messages one request may hold (the introduction counts), at most; past it a message is
    /// refused unacknowledged (`request_full`), so the sender's retries get in once accepted.
    public var maximumMessagesPerRequest: Int
    /// Bytes of message bodies one request may hold (as stored), at most; past it as above.
    public var maximumBytesPerRequest: Int
    /// Contacts that started their own session (requests, accepted or pending, and contacts
    /// accepted for the user) per window: a flood of fresh identities cannot fill the list.
    public var newContactLimit: NewContactLimit

    public init(autoAccept: Bool, maximumPendingRequests: Int = 32, maximumMessagesPerRequest: Int = 32,
                maximumBytesPerRequest: Int = 64 * 1024,
                newContactLimit: NewContactLimit = NewContactLimit(maximum: Messenger.maximumNewContactsPerHour)) {
        self.autoAccept = autoAccept
        self.maximumPendingRequests = maximumPendingRequests
        self.maximumMessagesPerRequest = maximumMessagesPerRequest
        self.maximumBytesPerRequest = maximumBytesPerRequest
        self.newContactLimit = newContactLimit
    }

    /// Requests wait for the user (the daemon's default).
    public static let ask = ContactPolicy(autoAccept: false)
    /// Set-ups from unknown identities become contacts at once, within the hourly limit.
    public static let autoAccept = ContactPolicy(autoAccept: true)
}
