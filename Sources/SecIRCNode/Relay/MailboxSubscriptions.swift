public import SecIRCCrypto

/// Push delivery: which link session wants the new mail of which mailbox at once
/// (docs/PROTOCOL.md §4, Mailbox fetch). Bounded per session and in total; a refusal is
/// counted by the caller. A mailbox has at most one subscription: a newer one replaces it.
/// Subscriptions of a session that ended are dropped (``keep(where:)``, and at push time).
/// Not thread-safe: the relay engine owns it.
public struct MailboxSubscriptions: Sendable {
    public struct Limits: Sendable, Equatable {
        /// Mailboxes one link session may subscribe (a client has a few).
        public var perSession: Int
        /// Subscriptions the relay holds in all.
        public var total: Int
        public init(perSession: Int = 8, total: Int = 65_536) {
            self.perSession = perSession
            self.total = total
        }
    }

    public let limits: Limits
    private var sessionOf: [Bytes32: UInt32] = [:]
    private var mailboxesOf: [UInt32: Set<Bytes32>] = [:]

    public init(limits: Limits = Limits()) { self.limits = limits }

    /// Subscriptions held.
    public var count: Int { sessionOf.count }

    /// The session that gets `mailbox`'s new mail, if any.
    public func session(for mailbox: Bytes32) -> UInt32? { sessionOf[mailbox] }

    /// Subscribes `session` to `mailbox` (replacing another session's subscription); false
    /// when a limit refuses it (the mailbox then has none: an older session must not keep it).
    public mutating func subscribe(_ mailbox: Bytes32, session: UInt32) -> Bool {
        if sessionOf[mailbox] == session { return true }
        remove(mailbox)
        guard mailboxesOf[session, default: []].count < limits.perSession, sessionOf.count < limits.total else {
            if mailboxesOf[session]?.isEmpty == true { mailboxesOf[session] = nil }
            return false
        }
        sessionOf[mailbox] = session
        mailboxesOf[session, default: []].insert(mailbox)
        return true
    }

    /// Ends `mailbox`'s subscription, if any.
    public mutating func remove(_ mailbox: Bytes32) {
        guard let session = sessionOf.removeValue(forKey: mailbox) else { return }
        mailboxesOf[session]?.remove(mailbox)
        if mailboxesOf[session]?.isEmpty == true { mailboxesOf[session] = nil }
    }

    /// Drops every subscription of a session for which `isLive` is false (it ended or expired).
    public mutating func keep(where isLive: (UInt32) -> Bool) {
        for (session, mailboxes) in mailboxesOf where !isLive(session) {
            mailboxesOf[session] = nil
            for mailbox in mailboxes { sessionOf[mailbox] = nil }
        }
    }
}
