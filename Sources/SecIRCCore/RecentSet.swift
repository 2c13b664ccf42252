/// The last `capacity` values inserted, first in first out: what a bounded "seen before?"
/// needs — NK initiation ephemerals a responder answered (an exact replay is refused before any
/// X25519 work), duplicates a client acknowledged once.
public struct RecentSet<Element: Hashable & Sendable>: Sendable {
    public let capacity: Int
    private var members: Set<Element> = []
    private var order: [Element] = []
    private var next = 0

    public init(capacity: Int) {
        self.capacity = max(capacity, 1)
    }

    public var count: Int { members.count }

    public func contains(_ value: Element) -> Bool { members.contains(value) }

    /// Inserts `value`, forgetting the oldest when full; false when it was already there.
    @discardableResult
    public mutating func insert(_ value: Element) -> Bool {
        guard members.insert(value).inserted else { return false }
        if order.count < capacity {
            order.append(value)
        } else {
            members.remove(order[next])
            order[next] = value
            next = (next + 1) % capacity
        }
        return true
    }
}
