public import SecIRCCrypto
public import SecIRCCore

/// End-to-end encrypted mail held in memory for offline users, by mailbox ID. Bounded in every
/// direction (per-mailbox count, number of mailboxes, total bytes) and by age; what does not fit
/// is dropped and counted, never queued without bound. Nothing here is ever written to disk.
///
/// Delivery is at least once: `fetch` returns messages with increasing sequence numbers and
/// deletes only those the owner acknowledges (`ackThrough`) on its next fetch. Sequence numbers
/// come from one store-wide counter that starts at `firstSequence` (the relay passes its start
/// time in microseconds), so a number is never reused — not after a mailbox empties, nor after
/// a restart — and a late acknowledgement can never delete mail its owner has not seen.
/// Not thread-safe: the relay engine owns it.
public struct MailboxStore: Sendable {
    public struct Limits: Sendable, Equatable {
        public var ttl: Duration
        public var maxMessagesPerMailbox: Int
        public var maxMailboxes: Int
        public var maxTotalBytes: Int
        public init(ttl: Duration, maxMessagesPerMailbox: Int, maxMailboxes: Int, maxTotalBytes: Int) {
            self.ttl = ttl
            self.maxMessagesPerMailbox = maxMessagesPerMailbox
            self.maxMailboxes = maxMailboxes
            self.maxTotalBytes = maxTotalBytes
        }
    }

    /// Why a message was dropped (metrics label `mailbox_drops_total{reason}`).
    public enum DropReason: String, Sendable, CaseIterable {
        case mailboxFull = "mailbox_full"
        case tooManyMailboxes = "too_many_mailboxes"
        case storeFull = "store_full"
        case expired
    }

    public struct Message: Sendable, Equatable {
        public var sequence: UInt64
        public var body: [UInt8]
        public var expires: UnixTime
    }

    private struct Box {
        var messages: [Message] = []
    }

    public let limits: Limits
    private var boxes: [Bytes32: Box] = [:]
    public private(set) var totalBytes = 0
    public private(set) var messageCount = 0

    private var nextSequence: UInt64

    public init(limits: Limits, firstSequence: UInt64 = 1) {
        self.limits = limits
        nextSequence = max(firstSequence, 1)
    }

    public var mailboxCount: Int { boxes.count }

    /// Stores `body` for `mailbox`; returns the drop reason when it cannot.
    public mutating func deliver(_ body: [UInt8], to mailbox: Bytes32, now: UnixTime) -> DropReason? {
        if boxes[mailbox] == nil, boxes.count >= limits.maxMailboxes { return .tooManyMailboxes }
        if totalBytes + body.count > limits.maxTotalBytes { return .storeFull }
        var box = boxes[mailbox] ?? Box()
        guard box.messages.count < limits.maxMessagesPerMailbox else { return .mailboxFull }
        box.messages.append(Message(sequence: nextSequence, body: body, expires: now.adding(limits.ttl)))
        nextSequence += 1
        boxes[mailbox] = box
        totalBytes += body.count
        messageCount += 1
        return nil
    }

    /// Deletes the messages of `mailbox` up to `ackThrough`, then returns up to `limit` of the
    /// rest (oldest first) and how many remain after those.
    public mutating func fetch(_ mailbox: Bytes32, ackThrough: UInt64, limit: Int) -> (messages: [Message], remaining: Int) {
        guard var box = boxes[mailbox] else { return ([], 0) }
        let acknowledged = box.messages.prefix { $0.sequence <= ackThrough }
        remove(acknowledged.count, from: &box)
        let batch = Array(box.messages.prefix(limit))
        if box.messages.isEmpty { boxes[mailbox] = nil } else { boxes[mailbox] = box }
        return (batch, box.messages.count - batch.count)
    }

    /// Drops messages older than the TTL; returns how many.
    public mutating func expire(now: UnixTime) -> Int {
        var dropped = 0
        for (id, var box) in boxes {
            let old = box.messages.prefix { $0.expires <= now }.count
            guard old > 0 else { continue }
            remove(old, from: &box)
            dropped += old
            boxes[id] = box.messages.isEmpty ? nil : box
        }
        return dropped
    }

    /// The newest message of `mailbox` (the one just delivered, for push delivery).
    public func newest(in mailbox: Bytes32) -> Message? { boxes[mailbox]?.messages.last }

    /// Messages waiting in `mailbox`.
    public func depth(of mailbox: Bytes32) -> Int { boxes[mailbox]?.messages.count ?? 0 }

    private mutating func remove(_ count: Int, from box: inout Box) {
        guard count > 0 else { return }
        let bytes = box.messages.prefix(count).reduce(0) { $0 + $1.body.count }
        box.messages.removeFirst(count)
        totalBytes -= bytes
        messageCount -= count
    }
}
