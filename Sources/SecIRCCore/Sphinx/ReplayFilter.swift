/// The replay tags a relay has seen under one onion key. Bounded: it remembers the last
/// `capacity` tags and forgets the oldest beyond that, so memory stays fixed under any load.
/// (A replay older than `capacity` packets of the same epoch gets through; size the capacity
/// and the rotation period so an epoch's traffic fits.)
public struct ReplayFilter: Sendable {
    /// A 16-byte replay tag.
    public struct Tag: Hashable, Sendable {
        var high: UInt64
        var low: UInt64
        /// The first 16 bytes of `bytes`.
        public init(_ bytes: UnsafeRawBufferPointer) {
            precondition(bytes.count >= 16, "a replay tag is 16 bytes")
            high = bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self)
            low = bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
        }
    }

    public let capacity: Int
    private var seen: Set<Tag>
    private var order: [Tag]
    private var next = 0

    public init(capacity: Int) {
        precondition(capacity > 0)
        self.capacity = capacity
        seen = Set(minimumCapacity: min(capacity, 1 << 16))
        order = []
    }

    public var count: Int { seen.count }

    /// Records `tag`; false when it was already recorded (a replay).
    public mutating func insert(_ tag: Tag) -> Bool {
        guard seen.insert(tag).inserted else { return false }
        if order.count < capacity {
            order.append(tag)
        } else {
            seen.remove(order[next])
            order[next] = tag
            next = (next + 1) % capacity
        }
        return true
    }
}
