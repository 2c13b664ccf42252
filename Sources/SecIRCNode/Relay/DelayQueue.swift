public import SecIRCCrypto
public import SecIRCCore

/// Packets waiting out their per-hop mixing delay: a binary min-heap on the due time, bounded.
/// Ties leave in arrival order.
public struct DelayQueue: Sendable {
    public struct Entry: Sendable {
        public var due: UnixTime
        public var sequence: UInt64
        public var relay: Bytes32
        public var packet: [UInt8]
    }

    public let capacity: Int
    private var heap: [Entry] = []
    private var sequence: UInt64 = 0

    public init(capacity: Int) { self.capacity = capacity }

    public var count: Int { heap.count }
    public var isEmpty: Bool { heap.isEmpty }
    /// When the earliest packet is due.
    public var nextDue: UnixTime? { heap.first?.due }

    /// False (and nothing stored) when full.
    public mutating func push(_ packet: [UInt8], to relay: Bytes32, due: UnixTime) -> Bool {
        guard heap.count < capacity else { return false }
        sequence += 1
        heap.append(Entry(due: due, sequence: sequence, relay: relay, packet: packet))
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard Self.before(heap[child], heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
        return true
    }

    /// Removes and returns the earliest entry if it is due at `now`.
    public mutating func popDue(now: UnixTime) -> Entry? {
        guard let first = heap.first, first.due <= now else { return nil }
        let last = heap.removeLast()
        guard !heap.isEmpty else { return first }
        heap[0] = last
        var parent = 0
        while true {
            let left = 2 * parent + 1, right = left + 1
            var smallest = parent
            if left < heap.count, Self.before(heap[left], heap[smallest]) { smallest = left }
            if right < heap.count, Self.before(heap[right], heap[smallest]) { smallest = right }
            if smallest == parent { break }
            heap.swapAt(parent, smallest)
            parent = smallest
        }
        return first
    }

    private static func before(_ a: Entry, _ b: Entry) -> Bool {
        a.due < b.due || (a.due == b.due && a.sequence < b.sequence)
    }
}
