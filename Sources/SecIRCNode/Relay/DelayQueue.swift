public import SecIRCCrypto
public import SecIRCCore

/// Packets waiting out their per-hop mixing delay, earliest due first, bounded. Ties leave in
/// arrival order.
public struct DelayQueue: Sendable {
    public struct Entry: Sendable {
        public var due: UnixTime
        public var relay: Bytes32
        public var packet: [UInt8]
    }

    public let capacity: Int
    private var heap = TimedHeap<(relay: Bytes32, packet: [UInt8])>()

    public init(capacity: Int) { self.capacity = capacity }

    public var count: Int { heap.count }
    public var isEmpty: Bool { heap.isEmpty }
    /// When the earliest packet is due.
    public var nextDue: UnixTime? { heap.earliest }

    /// False (and nothing stored) when full.
    public mutating func push(_ packet: [UInt8], to relay: Bytes32, due: UnixTime) -> Bool {
        guard heap.count < capacity else { return false }
        heap.insert((relay, packet), at: due)
        return true
    }

    /// Removes and returns the earliest entry if it is due at `now`.
    public mutating func popDue(now: UnixTime) -> Entry? {
        heap.popDue(now: now).map { Entry(due: $0.time, relay: $0.value.relay, packet: $0.value.packet) }
    }
}
