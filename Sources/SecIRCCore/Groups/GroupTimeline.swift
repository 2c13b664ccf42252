public import SecIRCCrypto

/// What one member knows of a group's posts (issue 13 item 3): which of each member's posts it
/// has, which it knows exist but lacks (from gaps in a member's sequence and from what others'
/// posts reference), the Lamport clock for its own next post, and the one order every member
/// shows posts in. A value with no clock and no I/O; memory is bounded per member.
public struct GroupTimeline: Hashable, Sendable {
    /// A post more than this many ahead of the last one held without a gap is refused: the
    /// sequences held above it stay bounded.
    public static let maxAhead: UInt64 = 1000

    /// Where a post goes: posts are shown in ascending (lamport, member key, sequence), the same
    /// order at every member whatever order they arrived in.
    public struct Position: Hashable, Comparable, Sendable {
        public let lamport: UInt64
        public let member: SigningPublicKey
        public let sequence: UInt64

        public init(lamport: UInt64, member: SigningPublicKey, sequence: UInt64) {
            self.lamport = lamport
            self.member = member
            self.sequence = sequence
        }

        public static func < (a: Position, b: Position) -> Bool {
            if a.lamport != b.lamport { return a.lamport < b.lamport }
            if a.member != b.member { return a.member.bytes.lexicographicallyPrecedes(b.member.bytes) }
            return a.sequence < b.sequence
        }
    }

    /// One member's posts missing here: sequences `from...through`, less any held.
    public struct Gap: Hashable, Sendable {
        public let member: SigningPublicKey
        public let from: UInt64
        public let through: UInt64
    }

    public enum Acceptance: Hashable, Sendable {
        /// New: show it at this position.
        case new(Position)
        /// Held already (a repeat, or older than this member's start): do not show it again.
        case duplicate
        /// Further ahead than ``maxAhead``: dropped; ask for the gap first.
        case tooFarAhead
    }

    struct Stream: Hashable, Sendable {
        /// Every sequence up to this one is held (or before this member joined).
        var contiguous: UInt64 = 0
        /// Held sequences above `contiguous`.
        var above: Set<UInt64> = []
        /// The highest sequence known to exist: held, or referenced by someone.
        var known: UInt64 = 0
    }

    var streams: [SigningPublicKey: Stream] = [:]
    /// The highest lamport seen or sent.
    public internal(set) var clock: UInt64 = 0
    /// Members whose posts arrived most recently, newest last (what the next post references).
    var recent: [SigningPublicKey] = []

    public init() {}

    /// Starts `member`'s stream after `sequence` (a joiner reads a member's posts from the sender
    /// chain it was handed: those before are not missing).
    public mutating func begin(_ member: SigningPublicKey, after sequence: UInt64) {
        var stream = streams[member] ?? Stream()
        if sequence > stream.contiguous {
            stream.contiguous = sequence
            stream.above = stream.above.filter { $0 > sequence }
            stream.known = max(stream.known, sequence)
            advance(&stream)
        }
        streams[member] = stream
    }

    /// `member`'s posts up to `sequence` exist (its sender chain for a new epoch starts after
    /// them): those not held are gaps, asked for like any other. Nothing for a member whose posts
    /// this member never began to read (a joiner's start is ``begin(_:after:)``).
    public mutating func expect(_ member: SigningPublicKey, through sequence: UInt64) {
        guard var stream = streams[member] else { return }
        stream.known = max(stream.known, min(sequence, Self.ahead(of: stream.contiguous)))
        streams[member] = stream
    }

    /// Forgets a member that left or was removed.
    public mutating func forget(_ member: SigningPublicKey) {
        streams[member] = nil
        recent.removeAll { $0 == member }
    }

    /// Takes `post` from `member` (whose sender chain it came through). References raise what is
    /// known to exist for the members named; a post's lamport raises the clock.
    public mutating func accept(_ post: GroupPost, from member: SigningPublicKey) -> Acceptance {
        var stream = streams[member] ?? Stream()
        if post.sequence <= stream.contiguous || stream.above.contains(post.sequence) { return .duplicate }
        guard post.sequence - stream.contiguous <= Self.maxAhead else { return .tooFarAhead }
        stream.above.insert(post.sequence)
        stream.known = max(stream.known, post.sequence)
        advance(&stream)
        streams[member] = stream
        for reference in post.references where reference.member != member {
            var other = streams[reference.member] ?? Stream()
            // A claim further ahead than the bound is clamped: it names at most maxAhead posts.
            other.known = max(other.known, min(reference.sequence, Self.ahead(of: other.contiguous)))
            streams[reference.member] = other
        }
        clock = max(clock, post.lamport)
        recent.removeAll { $0 == member }
        recent.append(member)
        if recent.count > GroupPost.maxReferences { recent.removeFirst() }
        return .new(Position(lamport: post.lamport, member: member, sequence: post.sequence))
    }

    /// `maxAhead` beyond `sequence`, or the largest sequence (no overflow whatever a member claims).
    static func ahead(of sequence: UInt64) -> UInt64 {
        sequence > .max - maxAhead ? .max : sequence + maxAhead
    }

    private func advance(_ stream: inout Stream) {
        while stream.contiguous < .max, stream.above.remove(stream.contiguous + 1) != nil { stream.contiguous += 1 }
    }

    /// Posts known to exist and not held, per member (at most ``maxAhead`` sequences each).
    public var gaps: [Gap] {
        streams.compactMap { member, stream in
            stream.known > stream.contiguous ? Gap(member: member, from: stream.contiguous + 1, through: stream.known) : nil
        }
        .sorted { $0.member.bytes.lexicographicallyPrecedes($1.member.bytes) }
    }

    /// Whether sequence `sequence` of `member` is held.
    public func holds(_ member: SigningPublicKey, _ sequence: UInt64) -> Bool {
        guard let stream = streams[member] else { return false }
        return sequence <= stream.contiguous || stream.above.contains(sequence)
    }

    /// The lamport and references for this member's next post (its own sequence is the caller's:
    /// it is also held here once the post is accepted back from the group mailbox, or by
    /// ``recordOwn(_:)``).
    public mutating func nextPost(by member: SigningPublicKey) -> (lamport: UInt64, references: [GroupPost.Reference]) {
        if clock < .max { clock += 1 } // a member claiming the largest lamport only ties everyone after
        let references = recent.filter { $0 != member }.compactMap { other in
            streams[other].map { GroupPost.Reference(member: other, sequence: $0.contiguous) }
        }
        return (clock, references)
    }

    /// Records this member's own post as held (so its copy from the group mailbox is a duplicate).
    @discardableResult
    public mutating func recordOwn(_ post: GroupPost, by member: SigningPublicKey) -> Acceptance {
        accept(post, from: member)
    }
}
