public import SecIRCCore

/// Values ordered by time, earliest first, and among equal times in the order they were added
/// (so whatever drains it is a pure function of its inputs): a binary min-heap. The one heap of
/// the delay queue, the link sessions' expiries and the simulator's agenda.
public struct TimedHeap<Value>: Sendable where Value: Sendable {
    private struct Entry: Sendable {
        var time: UnixTime
        var sequence: UInt64
        var value: Value

        func before(_ other: Entry) -> Bool {
            time < other.time || (time == other.time && sequence < other.sequence)
        }
    }

    private var heap: [Entry] = []
    private var sequence: UInt64 = 0

    public init() {}

    public var count: Int { heap.count }
    public var isEmpty: Bool { heap.isEmpty }
    /// The earliest time held.
    public var earliest: UnixTime? { heap.first?.time }
    /// The earliest entry, without removing it.
    public var first: (time: UnixTime, value: Value)? { heap.first.map { ($0.time, $0.value) } }

    public mutating func insert(_ value: Value, at time: UnixTime) {
        sequence += 1
        heap.append(Entry(time: time, sequence: sequence, value: value))
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].before(heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    /// Removes and returns the earliest value, with its time.
    public mutating func popFirst() -> (time: UnixTime, value: Value)? {
        guard !heap.isEmpty else { return nil }
        let first = heap[0]
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1, right = left + 1
                var smallest = parent
                if left < heap.count, heap[left].before(heap[smallest]) { smallest = left }
                if right < heap.count, heap[right].before(heap[smallest]) { smallest = right }
                if smallest == parent { break }
                heap.swapAt(parent, smallest)
                parent = smallest
            }
        }
        return (first.time, first.value)
    }

    /// Removes and returns the earliest value if its time is at or before `now`.
    public mutating func popDue(now: UnixTime) -> (time: UnixTime, value: Value)? {
        guard let first = heap.first, first.time <= now else { return nil }
        return popFirst()
    }
}
