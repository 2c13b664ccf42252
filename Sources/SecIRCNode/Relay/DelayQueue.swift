public import SecIRCCrypto
public import SecIRCCore

/// Packets waiting out their per-hop mixing delay, earliest due first, bounded. Ties leave in
/// arrival order.
///
/// Each incoming link gets a fair share (the dynamic threshold of shared switch buffers): a link
/// may add a packet while it holds fewer than the free places left. One link alone can fill at
/// most half the queue and `n` links hogging it about `1/(n+1)` each, so the rest stays free
/// for links that hold little: one sender asking for long delays cannot crowd out the others.
public struct DelayQueue: Sendable {
    public struct Entry: Sendable {
        public var due: UnixTime
        public var relay: Bytes32
        public var packet: [UInt8]
        /// The link it came in on.
        public var link: IncomingLink
    }

    /// Why a packet was not queued.
    public enum Refusal: Sendable, Equatable {
        /// Every place is taken.
        case full
        /// Its link holds its share.
        case overShare
    }

    public let capacity: Int
    private var heap = TimedHeap<(relay: Bytes32, packet: [UInt8], link: IncomingLink)>()
    /// Packets each incoming link has waiting (links holding none are absent).
    private var held: [IncomingLink: Int] = [:]

    public init(capacity: Int) { self.capacity = capacity }

    public var count: Int { heap.count }
    public var isEmpty: Bool { heap.isEmpty }
    /// When the earliest packet is due.
    public var nextDue: UnixTime? { heap.earliest }
    /// Incoming links with packets waiting.
    public var linkCount: Int { held.count }

    /// Queues `packet` for `relay` at `due`; nil when queued, else why not (nothing stored).
    public mutating func push(_ packet: [UInt8], to relay: Bytes32, due: UnixTime, from link: IncomingLink) -> Refusal? {
        guard heap.count < capacity else { return .full }
        let holding = held[link, default: 0]
        guard holding < capacity - heap.count else { return .overShare }
        held[link] = holding + 1
        heap.insert((relay, packet, link), at: due)
        return nil
    }

    /// Removes and returns the earliest entry if it is due at `now`.
    public mutating func popDue(now: UnixTime) -> Entry? {
        guard let (due, value) = heap.popDue(now: now) else { return nil }
        let holding = held[value.link, default: 1] - 1
        held[value.link] = holding > 0 ? holding : nil
        return Entry(due: due, relay: value.relay, packet: value.packet, link: value.link)
    }
}
