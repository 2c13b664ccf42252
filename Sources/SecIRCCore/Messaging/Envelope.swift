/// The plaintext inside one Double Ratchet message: what a user sent, with its ID and kind.
///
/// Wire format, version 1 (integers big-endian):
/// ```
/// version u8 (= 1) | message ID 16 | kind u8 | timestamp u64 (unix ms, sender's clock)
/// | body length u32 (≤ 65536) | body
/// ```
/// The sender's timestamp is whatever the sender's clock said: display it, never trust it for ordering
/// or expiry.
public struct Envelope: Hashable, Sendable {
    public static let currentVersion: UInt8 = 1
    /// The largest body a receiver accepts.
    public static let maximumBodyLength = 65_536
    /// version | message ID | kind | timestamp | body length.
    public static let headerLength = 1 + MessageID.byteCount + 1 + 8 + 4
    /// The most message IDs one receipt may acknowledge.
    public static let maximumReceiptCount = 1024

    public var id: MessageID
    public var kind: EnvelopeKind
    /// Unix milliseconds by the sender's clock (untrusted).
    public var timestampMs: UInt64
    /// At most `maximumBodyLength` bytes; `encoded` traps on a longer body (a programming error:
    /// check the length of user input before making an envelope).
    public var body: [UInt8]

    public init(id: MessageID, kind: EnvelopeKind, timestampMs: UInt64, body: [UInt8]) {
        self.id = id
        self.kind = kind
        self.timestampMs = timestampMs
        self.body = body
    }

    /// The wire bytes. Precondition: `body.count <= maximumBodyLength`.
    public var encoded: [UInt8] {
        precondition(body.count <= Self.maximumBodyLength, "envelope body of \(body.count) bytes is over the limit")
        var w = ByteWriter(capacity: Self.headerLength + body.count)
        w.write(Self.currentVersion)
        w.write(id.bytes)
        w.write(kind.rawValue)
        w.write(timestampMs)
        w.write(UInt32(body.count))
        w.write(body)
        return w.bytes
    }

    /// Decodes untrusted bytes (a decrypted ratchet plaintext). Never traps. Throws `incomplete`
    /// or `trailingBytes` when the length does not match the body length, `invalidValue` for
    /// another version or a body length over the limit. Unknown kinds are kept.
    public static func decode(_ bytes: [UInt8]) throws(DecodeError) -> Envelope {
        if bytes.count < headerLength { throw .incomplete(deficit: headerLength - bytes.count) }
        var r = ByteReader(bytes)
        do {
            let version = try r.readUInt8()
            guard version == currentVersion else { throw DecodeError.invalidValue("envelope version \(version)") }
            let id = try MessageID(bytes: r.readBytes(MessageID.byteCount))
            let kind = EnvelopeKind(rawValue: try r.readUInt8())
            let timestamp = try r.readUInt64()
            let bodyLength = Int(try r.readUInt32())
            guard bodyLength <= maximumBodyLength else {
                throw DecodeError.invalidValue("envelope body of \(bodyLength) bytes, at most \(maximumBodyLength)")
            }
            let body = try r.readBytes(bodyLength)
            try r.finish()
            return Envelope(id: id, kind: kind, timestampMs: timestamp, body: body)
        } catch let error as DecodeError {
            throw error
        } catch {
            throw .invalidValue("\(error)")
        }
    }
}

extension Envelope {
    /// A text message. Precondition: `text` is at most `maximumBodyLength` bytes of UTF-8.
    public static func text(_ s: String, id: MessageID, timestampMs: UInt64) -> Envelope {
        Envelope(id: id, kind: .text, timestampMs: timestampMs, body: Array(s.utf8))
    }

    /// The body as text, when the kind is `.text` and the body is valid UTF-8; otherwise nil.
    public var text: String? {
        guard kind == .text else { return nil }
        return String(validating: body, as: UTF8.self)
    }

    /// A receipt acknowledging `ids`; body `count u16 | count × message ID`.
    /// Precondition: at most `maximumReceiptCount` IDs (send several receipts for more).
    public static func receipt(for ids: [MessageID], id: MessageID, timestampMs: UInt64) -> Envelope {
        precondition(ids.count <= maximumReceiptCount, "a receipt holds at most \(maximumReceiptCount) IDs")
        var w = ByteWriter(capacity: 2 + ids.count * MessageID.byteCount)
        w.write(UInt16(ids.count))
        for acknowledged in ids { w.write(acknowledged.bytes) }
        return Envelope(id: id, kind: .receipt, timestampMs: timestampMs, body: w.bytes)
    }

    /// The IDs a receipt acknowledges, in order. Throws `invalidValue` when the kind is not
    /// `.receipt` or the count is over `maximumReceiptCount`, `incomplete` / `trailingBytes` when
    /// the body is not exactly `2 + count × 16` bytes.
    public func receiptIDs() throws(DecodeError) -> [MessageID] {
        guard kind == .receipt else { throw .invalidValue("envelope of kind \(kind) is not a receipt") }
        var r = ByteReader(body)
        do {
            let count = Int(try r.readUInt16())
            guard count <= Self.maximumReceiptCount else {
                throw DecodeError.invalidValue("receipt of \(count) IDs, at most \(Self.maximumReceiptCount)")
            }
            let expected = count * MessageID.byteCount
            if r.remaining < expected { throw DecodeError.incomplete(deficit: expected - r.remaining) }
            if r.remaining > expected { throw DecodeError.trailingBytes(count: r.remaining - expected) }
            var ids: [MessageID] = []
            ids.reserveCapacity(count)
            for _ in 0..<count { ids.append(try MessageID(bytes: r.readBytes(MessageID.byteCount))) }
            return ids
        } catch let error as DecodeError {
            throw error
        } catch {
            throw .invalidValue("\(error)")
        }
    }
}
