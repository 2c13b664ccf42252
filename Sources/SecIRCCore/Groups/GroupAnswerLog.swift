/// What one member deposited again in its group's mailboxes to answer requests (§7.10, asking
/// again), and when. One answer serves every member who reads that mailbox, so an item goes
/// into the same mailbox again at most once per ``interval`` however many members ask for it:
/// without this, an admin of a 1,000-member group answered each of hundreds of members behind
/// with every update they missed, and its outbox grew with the group's size times the requests.
///
/// Kept by the caller, in memory, next to the session (a restart forgets it: at worst one answer
/// more per item), and passed to ``GroupSession/receive(_:now:rng:answered:)``.
public struct GroupAnswerLog: Sendable {
    /// What was deposited again.
    public enum Item: Hashable, Sendable {
        /// This member's post of that sequence number.
        case post(sequence: UInt64)
        /// This member's chain announcement of that epoch and chain.
        case chain(epoch: UInt32, chainID: UInt32)
        /// The roster update of that serial (an admin's answer).
        case update(serial: UInt64)
        /// The rekey into that epoch (an admin's answer).
        case rekey(into: UInt32)
        /// The snapshot of the roster of that serial (an admin's answer to a joiner).
        case snapshot(serial: UInt64)
    }

    private struct Key: Hashable {
        var mailboxEpoch: UInt32
        var item: Item
    }

    /// How long an answer serves everyone: the same item is not deposited again in the same
    /// mailbox within it (members ask every 30 s at most, §7.10).
    public static let interval = Duration.seconds(60)
    /// At most this many items remembered; when full, those older than ``interval`` go, and if
    /// none is, nothing more is remembered until some are (the answers are then not held back).
    public static let maxItems = 4_096

    private var deposited: [Key: UnixTime] = [:]

    public init() {}

    /// Whether `item` may be deposited again in epoch `mailboxEpoch`'s mailbox at `now`: not
    /// within ``interval`` of the last time (a clock that went back allows it). When it may, the
    /// time is noted.
    public mutating func allows(_ item: Item, inMailboxOf mailboxEpoch: UInt32, now: UnixTime) -> Bool {
        let key = Key(mailboxEpoch: mailboxEpoch, item: item)
        if let last = deposited[key], now >= last, now.duration(since: last) < Self.interval { return false }
        if deposited[key] == nil, deposited.count >= Self.maxItems {
            deposited = deposited.filter { now >= $0.value && now.duration(since: $0.value) < Self.interval }
            guard deposited.count < Self.maxItems else { return true }
        }
        deposited[key] = now
        return true
    }

    /// How many items are remembered.
    public var count: Int { deposited.count }
}
