/// The replay tags a relay has seen under one onion key. It never forgets a tag while it
/// exists (it lives exactly as long as its key is accepted): once it holds `capacity` tags it
/// refuses new packets (`.full`) rather than evict, and the relay rotates its key early well
/// before that happens (`RelayEngine`).
///
/// A tag is kept as its first 8 bytes. The tag is a key-derivation output no sender can choose
/// for someone else's packet, so a false match between two honest packets has probability
/// about `count / 2^64` (below 2^-43 at the default capacity). Memory: Swift's `Set` keeps
/// 8 bytes a bucket at a load of at most 3/4, so the default capacity (`defaultCapacity`,
/// 1,572,864 tags) fills exactly 2^21 buckets, 16 MiB; its hashing is seeded per process, so a
/// sender cannot aim tags at one bucket.
public struct ReplayFilter: Sendable {
    /// A replay tag (the first 8 of its 16 bytes).
    public struct Tag: Hashable, Sendable, CustomStringConvertible {
        var value: UInt64
        /// The first bytes of `bytes` (at least 8).
        public init(_ bytes: UnsafeRawBufferPointer) {
            precondition(bytes.count >= 8, "a replay tag is at least 8 bytes")
            value = bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self)
        }

        /// A tag as saved (`rawValue`).
        public init(rawValue: UInt64) { value = rawValue }

        /// The 8 bytes as one integer (memory order), what a relay saves.
        public var rawValue: UInt64 { value }

        public var description: String { String(value, radix: 16) }
    }

    /// What `insert` found.
    public enum Outcome: Sendable, Equatable {
        /// A new tag, now recorded.
        case recorded
        /// Seen before: a replay.
        case replay
        /// New, but the filter holds `capacity` tags: not recorded, the packet must be refused.
        case full
    }

    /// 3 · 2^19: the most tags 2^21 buckets hold at Swift's maximum load of 3/4.
    public static let defaultCapacity = 3 << 19

    public let capacity: Int
    private var seen: Set<Tag> = []

    public init(capacity: Int = ReplayFilter.defaultCapacity) {
        precondition(capacity > 0)
        self.capacity = capacity
    }

    public var count: Int { seen.count }

    /// Records `tag` unless it is a replay or the filter is full.
    public mutating func insert(_ tag: Tag) -> Outcome {
        if seen.contains(tag) { return .replay }
        guard seen.count < capacity else { return .full }
        seen.insert(tag)
        return .recorded
    }
}
