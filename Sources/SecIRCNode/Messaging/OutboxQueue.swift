/// The outbox of a ``MemoryMessengerStore``: (due time, cursor) pairs, kept sorted, so the due
/// messages and the next due time are read from the front.
struct OutboxQueue: Sendable {
    struct Key: Comparable, Sendable {
        var dueMs: Int64
        var cursor: Int64

        static func < (a: Key, b: Key) -> Bool { (a.dueMs, a.cursor) < (b.dueMs, b.cursor) }
    }

    private(set) var keys: [Key] = []

    var count: Int { keys.count }
    var first: Key? { keys.first }

    mutating func insert(_ key: Key) { keys.insertSorted(key) }
    mutating func remove(_ key: Key) { keys.removeSorted(key) }

    /// The cursors due by `nowMs`, earliest first, at most `limit`.
    func due(nowMs: Int64, limit: Int) -> [Int64] {
        var cursors: [Int64] = []
        for key in keys {
            guard key.dueMs <= nowMs, cursors.count < limit else { break }
            cursors.append(key.cursor)
        }
        return cursors
    }
}
