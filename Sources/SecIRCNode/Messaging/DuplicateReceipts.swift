import SecIRCCore

/// Which duplicates of a received message are acknowledged again. The first copy is always
/// acknowledged (and stored). Duplicates are acknowledged again only within `window` of the
/// first duplicate — while the sender still resends because receipts were lost, as during a
/// relay's restart — and never after. Otherwise whoever can hand a client a body it already
/// received (its mailbox relay, replaying) could make it send a receipt whenever it likes and
/// watch for it at the sender's mailbox: who talks to whom, on demand.
///
/// In memory and bounded (`capacity` message IDs, the oldest forgotten first); a forgotten ID,
/// or one seen before a restart, starts a new window.
struct DuplicateReceipts: Sendable {
    static let window: Duration = .seconds(600)

    private var ids: RecentSet<MessageID>
    private var firstDuplicate: [MessageID: UnixTime] = [:]

    init(capacity: Int = 65_536) { ids = RecentSet(capacity: capacity) }

    /// Whether this duplicate of `id`, arriving at `now`, is to be acknowledged.
    mutating func admits(_ id: MessageID, now: UnixTime) -> Bool {
        if !ids.contains(id) {
            ids.insert(id)
            // Times of IDs the set forgot go with them.
            if firstDuplicate.count > ids.capacity { firstDuplicate = firstDuplicate.filter { ids.contains($0.key) } }
            firstDuplicate[id] = now
        }
        guard let first = firstDuplicate[id] else { return false }
        return now < first.adding(Self.window) && now >= first
    }
}
