// Sorted-array helpers for the indices of `MemoryMessengerStore`.

extension Array where Element: Comparable {
    /// The index of the first element not below `value` (the array is sorted).
    func lowerBound(of value: Element) -> Int {
        var low = 0
        var high = count
        while low < high {
            let middle = (low + high) / 2
            if self[middle] < value { low = middle + 1 } else { high = middle }
        }
        return low
    }

    mutating func insertSorted(_ value: Element) {
        if let last, last < value { append(value) } else { insert(value, at: lowerBound(of: value)) }
    }

    mutating func removeSorted(_ value: Element) {
        let i = lowerBound(of: value)
        if i < count, self[i] == value { remove(at: i) }
    }
}

extension Dictionary where Value == [Int64] {
    /// Removes `value` from the sorted list at `key`, and the key with its last value.
    mutating func removeSorted(_ value: Int64, at key: Key) {
        guard var list = removeValue(forKey: key) else { return }
        list.removeSorted(value)
        if !list.isEmpty { self[key] = list }
    }
}
