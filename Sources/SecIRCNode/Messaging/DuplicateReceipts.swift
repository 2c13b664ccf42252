import SecIRCCore

/// Which duplicates of a received message are acknowledged again. The first copy is always
/// acknowledged (and stored); the first duplicate is too — the sender resends when a receipt
/// was lost — and no later one. Otherwise whoever can hand a client a body it already received
/// (its mailbox relay, replaying) could make it send a receipt on demand and watch for it at
/// the sender's mailbox: who talks to whom, at will.
///
/// In memory and bounded (`capacity` message IDs, the oldest forgotten first); a forgotten ID,
/// or one seen before a restart, gets one more receipt.
struct DuplicateReceipts: Sendable {
    private var acknowledged: RecentSet<MessageID>

    init(capacity: Int = 65_536) { acknowledged = RecentSet(capacity: capacity) }

    /// Whether a duplicate of `id` is to be acknowledged: true the first time for each ID.
    mutating func admits(_ id: MessageID) -> Bool { acknowledged.insert(id) }
}
