public import SecIRCCrypto

/// Push delivery: which link sessions want the new mail of which mailbox at once
/// (docs/PROTOCOL.md §4, Mailbox fetch). Bounded per session, per group mailbox and in total. A
/// session at its bound that subscribes another mailbox gives up the subscription it renewed
/// least recently (a client renews each one it still reads with every poll, so what goes is a
/// mailbox it stopped reading, such as a group's old epoch); a refusal over the other bounds is
/// counted by the caller. A mailbox has at most one subscription — a newer one replaces it —
/// except a group mailbox (`shared`), which every member's session may subscribe.
/// Subscriptions of a session that ended are dropped (``keep(where:)``, and at push time).
/// Not thread-safe: the relay engine owns it.
public struct MailboxSubscriptions: Sendable {
    public struct Limits: Sendable, Equatable {
        /// Mailboxes one link session may subscribe (a client has a few).
        public var perSession: Int
        /// Subscriptions the relay holds in all.
        public var total: Int
        /// Sessions one group mailbox may have subscribed (a group has at most 1,000 members).
        public var perGroup: Int
        public init(perSession: Int = 8, total: Int = 65_536, perGroup: Int = 1_000) {
            self.perSession = perSession
            self.total = total
            self.perGroup = perGroup
        }
    }

    public let limits: Limits
    private var sessionsOf: [Bytes32: Set<UInt32>] = [:]
    /// Each session's mailboxes, with when each was last subscribed or renewed (``clock``).
    private var mailboxesOf: [UInt32: [Bytes32: UInt64]] = [:]
    /// Counts subscriptions and renewals: orders a session's few subscriptions by recency.
    private var clock: UInt64 = 0
    /// Subscriptions held (a group mailbox's count one per session).
    public private(set) var count = 0
    /// Subscriptions a session gave up to subscribe another one at its bound.
    public private(set) var evicted = 0

    public init(limits: Limits = Limits()) { self.limits = limits }

    /// The session that gets `mailbox`'s new mail, if any (of a personal mailbox).
    public func session(for mailbox: Bytes32) -> UInt32? { sessionsOf[mailbox]?.first }

    /// Every session that gets `mailbox`'s new mail.
    public func sessions(for mailbox: Bytes32) -> Set<UInt32> { sessionsOf[mailbox] ?? [] }

    /// Subscribes `session` to `mailbox`, or renews its subscription; false when a limit refuses
    /// it. A session at its own bound gives up its least recently renewed subscription instead.
    /// For a personal mailbox (`shared` false) it replaces another session's subscription, and a
    /// refusal leaves the mailbox with none (an older session must not keep it); a group mailbox
    /// keeps its others.
    public mutating func subscribe(_ mailbox: Bytes32, session: UInt32, shared: Bool = false) -> Bool {
        clock += 1
        if mailboxesOf[session]?[mailbox] != nil {
            mailboxesOf[session]?[mailbox] = clock
            return true
        }
        if !shared { remove(mailbox) }
        guard count < limits.total || mailboxesOf[session, default: [:]].count >= limits.perSession,
              sessionsOf[mailbox, default: []].count < (shared ? limits.perGroup : 1), limits.perSession > 0 else {
            if sessionsOf[mailbox]?.isEmpty == true { sessionsOf[mailbox] = nil }
            return false
        }
        if let held = mailboxesOf[session], held.count >= limits.perSession,
           let oldest = held.min(by: { $0.value < $1.value })?.key {
            remove(oldest, session: session)
            evicted += 1
        }
        sessionsOf[mailbox, default: []].insert(session)
        mailboxesOf[session, default: [:]][mailbox] = clock
        count += 1
        return true
    }

    /// Ends every subscription to `mailbox`.
    public mutating func remove(_ mailbox: Bytes32) {
        for session in sessionsOf[mailbox] ?? [] { remove(mailbox, session: session) }
    }

    /// Ends `session`'s subscription to `mailbox`, if any.
    public mutating func remove(_ mailbox: Bytes32, session: UInt32) {
        guard sessionsOf[mailbox]?.remove(session) != nil else { return }
        count -= 1
        if sessionsOf[mailbox]?.isEmpty == true { sessionsOf[mailbox] = nil }
        mailboxesOf[session]?[mailbox] = nil
        if mailboxesOf[session]?.isEmpty == true { mailboxesOf[session] = nil }
    }

    /// Drops every subscription of a session for which `isLive` is false (it ended or expired).
    public mutating func keep(where isLive: (UInt32) -> Bool) {
        for (session, mailboxes) in mailboxesOf where !isLive(session) {
            for mailbox in mailboxes.keys { remove(mailbox, session: session) }
        }
    }
}
