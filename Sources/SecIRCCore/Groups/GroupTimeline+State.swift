import SecIRCCrypto

/// Storage form of a ``GroupTimeline``, inside a ``GroupSession``'s state:
/// ```
/// timeline = clock (8) | stream count (2, ≤ 1,001)
///            | (member (32) | contiguous (8) | known (8) | held count (2, ≤ 1,000) | sequence (8) × held count) × count
///            | recent count (1, ≤ 8) | member (32) × recent count, oldest first
/// ```
/// Streams in ascending member key order, held sequences (those above `contiguous`) ascending.
/// A stream per member of the roster, and this member's own after it left: at most 1,001.
extension GroupTimeline {
    static let maxStreams = Int(GroupRoster.maxMembers) + 1

    func writeState(to w: inout ByteWriter) {
        w.write(clock)
        w.write(UInt16(streams.count))
        for (member, stream) in streams.sorted(by: { $0.key.rawValue.lexicographicallyPrecedes($1.key.rawValue) }) {
            w.write(member.rawValue)
            w.write(stream.contiguous)
            w.write(stream.known)
            w.write(UInt16(stream.above.count))
            for sequence in stream.above.sorted() { w.write(sequence) }
        }
        w.write(UInt8(recent.count))
        for member in recent { w.write(member.rawValue) }
    }

    /// Throws for counts over their bounds, members out of order, held sequences out of order or
    /// not above `contiguous`, or a recent member twice.
    init(state r: inout ByteReader) throws {
        self.init()
        clock = try r.readUInt64()
        let count = try r.readCount(UInt16.self, max: Self.maxStreams, of: "timeline streams")
        var last: [UInt8]?
        for _ in 0..<count {
            let member = SigningPublicKey(rawValue: try r.readBytes32())
            if let last, !last.lexicographicallyPrecedes(member.bytes) { throw DecodeError.invalidValue("timeline members not ascending") }
            last = member.bytes
            var stream = Stream(contiguous: try r.readUInt64(), above: [], known: try r.readUInt64())
            let held = try r.readCount(UInt16.self, max: Int(Self.maxAhead), of: "held sequences")
            stream.above.reserveCapacity(held)
            var previous = stream.contiguous
            for _ in 0..<held {
                let sequence = try r.readUInt64()
                guard sequence > previous else { throw DecodeError.invalidValue("timeline sequences not ascending above contiguous") }
                previous = sequence
                stream.above.insert(sequence)
            }
            streams[member] = stream
        }
        let recentCount = try r.readCount(UInt8.self, max: GroupPost.maxReferences, of: "recent members")
        for _ in 0..<recentCount {
            let member = SigningPublicKey(rawValue: try r.readBytes32())
            guard !recent.contains(member) else { throw DecodeError.invalidValue("a recent member twice") }
            recent.append(member)
        }
    }
}
