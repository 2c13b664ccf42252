import SecIRCCrypto

/// Storage forms of a ``GroupTimeline``, inside a ``GroupSession``'s state: the clock and the
/// recent members in the session's head, each stream in a part of its own (keyed by member):
/// ```
/// stream = contiguous (8) | known (8) | held count (2, ≤ 1,000) | sequence (8) × held count
/// recent = recent count (1, ≤ 8) | member (32) × recent count, oldest first
/// ```
/// held sequences (those above `contiguous`) ascending. A stream per member of the roster, and
/// this member's own after it left: at most 1,001. Version 1 of the session state kept the
/// timeline in one piece: `clock (8) | stream count (2, ≤ 1,001) | (member (32) | stream) × count
/// | recent`, streams in ascending member key order.
extension GroupTimeline {
    static let maxStreams = Int(GroupRoster.maxMembers) + 1

    static func part(_ stream: Stream) -> [UInt8] {
        var w = ByteWriter(capacity: 18 + 8 * stream.above.count)
        w.write(stream.contiguous)
        w.write(stream.known)
        w.write(UInt16(stream.above.count))
        for sequence in stream.above.sorted() { w.write(sequence) }
        return w.bytes
    }

    /// Throws for held sequences over their bound, out of order or not above `contiguous`.
    static func readStream(_ r: inout ByteReader) throws -> Stream {
        var stream = Stream(contiguous: try r.readUInt64(), above: [], known: try r.readUInt64())
        let held = try r.readCount(UInt16.self, max: Int(maxAhead), of: "held sequences")
        stream.above.reserveCapacity(held)
        var previous = stream.contiguous
        for _ in 0..<held {
            let sequence = try r.readUInt64()
            guard sequence > previous else { throw DecodeError.invalidValue("timeline sequences not ascending above contiguous") }
            previous = sequence
            stream.above.insert(sequence)
        }
        return stream
    }

    func writeRecent(to w: inout ByteWriter) {
        w.write(UInt8(recent.count))
        for member in recent { w.write(member.rawValue) }
    }

    /// Throws for more than ``GroupPost/maxReferences`` members or one twice.
    mutating func readRecent(_ r: inout ByteReader) throws {
        let count = try r.readCount(UInt8.self, max: GroupPost.maxReferences, of: "recent members")
        for _ in 0..<count {
            let member = SigningPublicKey(rawValue: try r.readBytes32())
            guard !recent.contains(member) else { throw DecodeError.invalidValue("a recent member twice") }
            recent.append(member)
        }
    }

    /// The version-1 form. Throws for counts over their bounds, members out of order, and what
    /// ``readStream(_:)`` and ``readRecent(_:)`` refuse.
    init(state r: inout ByteReader) throws {
        self.init()
        clock = try r.readUInt64()
        let count = try r.readCount(UInt16.self, max: Self.maxStreams, of: "timeline streams")
        var last: [UInt8]?
        for _ in 0..<count {
            let member = SigningPublicKey(rawValue: try r.readBytes32())
            if let last, !last.lexicographicallyPrecedes(member.bytes) { throw DecodeError.invalidValue("timeline members not ascending") }
            last = member.bytes
            streams[member] = try Self.readStream(&r)
        }
        try readRecent(&r)
    }
}
