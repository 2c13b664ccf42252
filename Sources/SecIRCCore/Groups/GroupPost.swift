public import SecIRCCrypto

/// What a member posts to a group: the plaintext of a sender-key message (§7.6), so encrypted
/// once for every member and signed by the sender's chain (issue 13).
///
/// ```
/// 0x01 | roster serial (8) | sequence (8) | lamport (8) | message ID (16) | timestamp ms (8)
///      | kind (1) | reference count (1, 0…8) | (member key (32) | sequence (8)) × count
///      | body length (4, ≤ 65,536) | body
/// ```
///
/// - *sequence*: this member's posts to the group, 1, 2, 3, … across its sender chains (a new
///   chain after a rekey does not restart it), so a gap shows a missing post;
/// - *lamport*: one more than the highest lamport the member had seen when it posted; members
///   show posts in (lamport, member key, sequence) order, the same order everywhere;
/// - *references*: for up to 8 other members, the highest sequence of theirs the poster had
///   all of — so a member learns of posts it never got and asks for them;
/// - *roster serial*: the roster (§7.7) the poster had; a member behind it asks for updates.
public struct GroupPost: Hashable, Sendable {
    public static let version: UInt8 = 1
    /// So that a short post with all its references fits one sealed packet.
    public static let maxReferences = 8
    public static let maxBodyLength = 65_536
    /// Everything but the references and the body.
    public static let fixedLength = 1 + 8 + 8 + 8 + MessageID.byteCount + 8 + 1 + 1 + 4

    public struct Reference: Hashable, Sendable {
        public let member: SigningPublicKey
        public let sequence: UInt64

        public init(member: SigningPublicKey, sequence: UInt64) {
            self.member = member
            self.sequence = sequence
        }
    }

    public let rosterSerial: UInt64
    public let sequence: UInt64
    public let lamport: UInt64
    public let id: MessageID
    /// Unix milliseconds by the poster's clock: shown, never trusted for order.
    public let timestampMs: UInt64
    public let kind: EnvelopeKind
    public let references: [Reference]
    public let body: [UInt8]

    /// Precondition: at most ``maxReferences`` references and ``maxBodyLength`` bytes of body.
    public init(rosterSerial: UInt64, sequence: UInt64, lamport: UInt64, id: MessageID, timestampMs: UInt64,
                kind: EnvelopeKind, references: [Reference], body: [UInt8]) {
        precondition(references.count <= Self.maxReferences && body.count <= Self.maxBodyLength, "group post over its limits")
        self.rosterSerial = rosterSerial
        self.sequence = sequence
        self.lamport = lamport
        self.id = id
        self.timestampMs = timestampMs
        self.kind = kind
        self.references = references
        self.body = body
    }

    public var encoded: [UInt8] {
        var w = ByteWriter(capacity: Self.fixedLength + 40 * references.count + body.count)
        w.write(Self.version)
        w.write(rosterSerial)
        w.write(sequence)
        w.write(lamport)
        w.write(id.bytes)
        w.write(timestampMs)
        w.write(kind.rawValue)
        w.write(UInt8(references.count))
        for reference in references {
            w.write(reference.member.rawValue)
            w.write(reference.sequence)
        }
        w.write(UInt32(body.count))
        w.write(body)
        return w.bytes
    }

    /// Parses untrusted bytes (a decrypted sender-key message): one version, a sequence from 1,
    /// at most 8 references, a body within its limit and its length, nothing after.
    public static func decode(_ bytes: [UInt8]) throws(DecodeError) -> GroupPost {
        guard bytes.count >= fixedLength else { throw .incomplete(deficit: fixedLength - bytes.count) }
        var r = ByteReader(bytes)
        do {
            let version = try r.readUInt8()
            guard version == Self.version else { throw DecodeError.invalidValue("group post version \(version)") }
            let rosterSerial = try r.readUInt64()
            let sequence = try r.readUInt64()
            guard sequence > 0 else { throw DecodeError.invalidValue("group post sequence 0") }
            let lamport = try r.readUInt64()
            let id = try MessageID(bytes: r.readBytes(MessageID.byteCount))
            let timestamp = try r.readUInt64()
            let kind = EnvelopeKind(rawValue: try r.readUInt8())
            let count = Int(try r.readUInt8())
            guard count <= maxReferences else { throw DecodeError.invalidValue("group post with \(count) references") }
            var references: [Reference] = []
            for _ in 0..<count {
                references.append(Reference(member: SigningPublicKey(rawValue: try r.readBytes32()), sequence: try r.readUInt64()))
            }
            let length = Int(try r.readUInt32())
            guard length <= maxBodyLength else { throw DecodeError.invalidValue("group post body of \(length) bytes") }
            let body = try r.readBytes(length)
            guard r.remaining == 0 else { throw DecodeError.trailingBytes(count: r.remaining) }
            return GroupPost(rosterSerial: rosterSerial, sequence: sequence, lamport: lamport, id: id, timestampMs: timestamp,
                             kind: kind, references: references, body: body)
        } catch let error as DecodeError {
            throw error
        } catch {
            throw .invalidValue("group post: \(error)")
        }
    }
}
