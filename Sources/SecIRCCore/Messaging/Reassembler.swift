/// Puts fragments back together into whole messages. A value type with no clock of its own:
/// the caller passes `now`. Bounded: at most `maxTransfers` unfinished transfers and `maxBytes`
/// of buffered data; past either bound the oldest unfinished transfer (by arrival of its first
/// fragment) is dropped and counted in `evictedTransfers`. Finished transfers are forgotten at
/// once: de-duplication of whole messages happens above, by message ID.
///
/// Fragments are accepted as `Fragment` values whatever their source, so `add` checks them again
/// (count, index, lengths) without assuming a geometry. A value: every copy is independent.
public struct Reassembler: Sendable {
    public let maxTransfers: Int
    public let maxBytes: Int
    /// How long a transfer may stay unfinished, from its first fragment.
    public let timeout: Duration

    private var transfers: [MessageID: Transfer] = [:]
    private var nextSequence: UInt64 = 0
    /// Data bytes held for unfinished transfers.
    public private(set) var bufferedBytes = 0
    /// Unfinished transfers dropped to stay within `maxTransfers` / `maxBytes`.
    public private(set) var evictedTransfers = 0

    /// `maxTransfers` and `maxBytes` are clamped to at least 1.
    public init(maxTransfers: Int = 256, maxBytes: Int = 8 << 20, timeout: Duration = .seconds(600)) {
        self.maxTransfers = max(1, maxTransfers)
        self.maxBytes = max(1, maxBytes)
        self.timeout = timeout
    }

    /// Unfinished transfers held.
    public var pendingTransfers: Int { transfers.count }

    /// Adds a fragment; returns the whole message when its last fragment arrives. Duplicated
    /// fragments are ignored. A fragment whose count/totalLength disagree with earlier ones of
    /// its transfer (or that repeats an index with other data) is refused with
    /// `inconsistentTransfer`, and the transfer dropped. Throws `malformed` for a fragment that
    /// is invalid on its own, `tooLarge` for a message longer than `maxBytes`.
    public mutating func add(_ fragment: Fragment, now: UnixTime) throws(SealedPacketError) -> [UInt8]? {
        guard (1...SealedPacket.maximumFragments).contains(fragment.count) else {
            throw .malformed("fragment count \(fragment.count)")
        }
        guard (0..<fragment.count).contains(fragment.index) else {
            throw .malformed("fragment index \(fragment.index) of \(fragment.count)")
        }
        guard fragment.totalLength >= 0, fragment.data.count <= fragment.totalLength else {
            throw .malformed("fragment of \(fragment.data.count) bytes in a message of \(fragment.totalLength)")
        }
        guard fragment.totalLength <= maxBytes else { throw .tooLarge(length: fragment.totalLength, maximum: maxBytes) }
        let id = fragment.transferID

        guard var transfer = transfers[id] else {
            if fragment.count == 1 {
                guard fragment.data.count == fragment.totalLength else { throw .inconsistentTransfer(id) }
                return fragment.data
            }
            makeRoom(forTransfers: 1, bytes: fragment.data.count, keeping: nil)
            var transfer = Transfer(count: fragment.count, totalLength: fragment.totalLength, started: now,
                                    sequence: nextSequence)
            nextSequence += 1
            transfer.parts[fragment.index] = fragment.data
            transfer.bytes = fragment.data.count
            transfers[id] = transfer
            bufferedBytes += fragment.data.count
            return nil
        }

        guard transfer.count == fragment.count, transfer.totalLength == fragment.totalLength else {
            drop(id)
            throw .inconsistentTransfer(id)
        }
        if let existing = transfer.parts[fragment.index] {
            guard existing == fragment.data else {
                drop(id)
                throw .inconsistentTransfer(id)
            }
            return nil
        }
        guard transfer.bytes + fragment.data.count <= transfer.totalLength else {
            drop(id)
            throw .inconsistentTransfer(id)
        }
        transfer.parts[fragment.index] = fragment.data
        transfer.bytes += fragment.data.count

        if transfer.parts.count == transfer.count {
            drop(id)
            guard transfer.bytes == transfer.totalLength else { throw .inconsistentTransfer(id) }
            var message: [UInt8] = []
            message.reserveCapacity(transfer.totalLength)
            for index in 0..<transfer.count { message.append(contentsOf: transfer.parts[index] ?? []) }
            return message
        }
        transfers[id] = transfer
        bufferedBytes += fragment.data.count
        makeRoom(forTransfers: 0, bytes: 0, keeping: id)
        return nil
    }

    /// Drops every transfer whose first fragment arrived `timeout` or longer before `now`;
    /// returns how many.
    public mutating func expire(now: UnixTime) -> Int {
        let expired = transfers.filter { now >= $0.value.started.adding(timeout) }.map(\.key)
        for id in expired { drop(id) }
        return expired.count
    }

    /// Evicts the oldest transfers (never `keeping`) until `transfers` more transfers and
    /// `bytes` more bytes fit within the bounds.
    private mutating func makeRoom(forTransfers newTransfers: Int, bytes newBytes: Int, keeping: MessageID?) {
        while transfers.count + newTransfers > maxTransfers || bufferedBytes + newBytes > maxBytes {
            let oldest = transfers.filter { $0.key != keeping }
                .min { ($0.value.started, $0.value.sequence) < ($1.value.started, $1.value.sequence) }
            guard let oldest else { return }
            drop(oldest.key)
            evictedTransfers += 1
        }
    }

    private mutating func drop(_ id: MessageID) {
        guard let transfer = transfers.removeValue(forKey: id) else { return }
        bufferedBytes -= transfer.bytes
    }

    /// The fragments of one unfinished transfer received so far.
    private struct Transfer: Sendable {
        var count: Int
        var totalLength: Int
        var started: UnixTime
        /// Arrival order, to break ties between transfers started at the same `now`.
        var sequence: UInt64
        var parts: [Int: [UInt8]] = [:]
        var bytes = 0
    }
}
