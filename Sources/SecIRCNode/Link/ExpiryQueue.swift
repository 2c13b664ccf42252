import SecIRCCore

/// When each link session expires, earliest first (a binary min-heap), so timers look only at
/// sessions that are due instead of walking the whole table.
struct ExpiryQueue: Sendable {
    private var heap: [(at: UnixTime, index: UInt32)] = []

    var isEmpty: Bool { heap.isEmpty }
    var earliest: UnixTime? { heap.first?.at }

    mutating func insert(_ index: UInt32, expiring at: UnixTime) {
        heap.append((at, index))
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].at < heap[parent].at else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    /// Removes and returns the earliest entry if it is due at `now`.
    mutating func popDue(now: UnixTime) -> UInt32? {
        guard let first = heap.first, first.at <= now else { return nil }
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1, right = left + 1
                var smallest = parent
                if left < heap.count, heap[left].at < heap[smallest].at { smallest = left }
                if right < heap.count, heap[right].at < heap[smallest].at { smallest = right }
                if smallest == parent { break }
                heap.swapAt(parent, smallest)
                parent = smallest
            }
        }
        return first.index
    }
}
