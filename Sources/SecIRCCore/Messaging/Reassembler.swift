public import SecIRCCrypto

/// Puts fragments back together into whole messages. A value type with no clock of its own:
/// the caller passes `now`. Finished transfers are forgotten at once: de-duplication of whole
/// messages happens above, by message ID.
///
/// Bounded, per ``Room``: each known contact's transfers have a room of their own (at most
/// `maxTransfersPerContact` transfers and `maxBytesPerContact` bytes), everything else — strangers,
/// and transfers whose first fragment (which names the sender) has not come yet — shares one
/// room of `maxTransfers` transfers and `maxBytes` bytes; all contact rooms together hold at most
/// `maxContactBytes`. Past a room's bound the oldest unfinished transfer (by arrival of its first
/// fragment) *of that room* is dropped and counted in `evictedTransfers`, so a flood of partial
/// transfers from strangers never evicts a contact's half-received message once its first
/// fragment is in. (Past `maxContactBytes`, the oldest transfer of the fullest contact room goes.)
///
/// Fragments are accepted as `Fragment` values whatever their source, so `add` checks them again
/// (count, index, lengths) without assuming a geometry. A value: every copy is independent.
public struct Reassembler: Sendable {
    /// Where a transfer is held (its bounds).
    public enum Room: Hashable, Sendable {
        /// Strangers, and transfers whose sender is not known yet.
        case shared
        /// The transfers a known contact sent (as their first fragment claims: see
        /// `SessionMessage.claimedSender(prefix:)`; the ratchet proves it after reassembly).
        case contact(ID)
    }

    /// Bounds of the shared room.
    public let maxTransfers: Int
    public let maxBytes: Int
    /// Bounds of each contact's room.
    public let maxTransfersPerContact: Int
    public let maxBytesPerContact: Int
    /// Bytes of all contact rooms together.
    public let maxContactBytes: Int
    /// How long a transfer may stay unfinished, from its first fragment.
    public let timeout: Duration

    private var transfers: [MessageID: Transfer] = [:]
    private var nextSequence: UInt64 = 0
    /// Data bytes held for unfinished transfers.
    public private(set) var bufferedBytes = 0
    /// Unfinished transfers and their bytes, per room.
    private var roomTransfers: [Room: Int] = [:]
    private var roomBytes: [Room: Int] = [:]
    /// Data bytes held in contact rooms.
    private var contactBytes = 0
    /// Unfinished transfers dropped to stay within `maxTransfers` / `maxBytes`.
    public private(set) var evictedTransfers = 0

    /// Every bound is clamped to at least 1.
    public init(maxTransfers: Int = 256, maxBytes: Int = 8 << 20, maxTransfersPerContact: Int = 16,
                maxBytesPerContact: Int = 1 << 20, maxContactBytes: Int = 64 << 20, timeout: Duration = .seconds(600)) {
        self.maxTransfers = max(1, maxTransfers)
        self.maxBytes = max(1, maxBytes)
        self.maxTransfersPerContact = max(1, maxTransfersPerContact)
        self.maxBytesPerContact = max(1, maxBytesPerContact)
        self.maxContactBytes = max(1, maxContactBytes)
        self.timeout = timeout
    }

    /// Unfinished transfers held.
    public var pendingTransfers: Int { transfers.count }

    /// Unfinished transfers held in `room`.
    public func pendingTransfers(in room: Room) -> Int { roomTransfers[room, default: 0] }

    /// The largest message `room` can hold.
    private func byteLimit(of room: Room) -> Int {
        switch room {
        case .shared: maxBytes
        case .contact: min(maxBytesPerContact, maxContactBytes)
        }
    }

    /// Adds a fragment; returns the whole message when its last fragment arrives. Duplicated
    /// fragments are ignored. A fragment whose count/totalLength disagree with earlier ones of
    /// its transfer (or that repeats an index with other data) is refused with
    /// `inconsistentTransfer`, and the transfer dropped. Throws `malformed` for a fragment that
    /// is invalid on its own, `tooLarge` for a message longer than its room holds.
    ///
    /// `room`: where the fragment's transfer belongs, as far as the caller can tell (from a first
    /// fragment's claimed sender; `.shared` when it cannot). A transfer started in the shared
    /// room moves to a contact's room when a fragment names that room; it never moves back.
    public mutating func add(_ fragment: Fragment, room: Room = .shared, now: UnixTime) throws(SealedPacketError) -> [UInt8]? {
        guard (1...SealedPacket.maximumFragments).contains(fragment.count) else {
            throw .malformed("fragment count \(fragment.count)")
        }
        guard (0..<fragment.count).contains(fragment.index) else {
            throw .malformed("fragment index \(fragment.index) of \(fragment.count)")
        }
        guard fragment.totalLength >= 0, fragment.data.count <= fragment.totalLength else {
            throw .malformed("fragment of \(fragment.data.count) bytes in a message of \(fragment.totalLength)")
        }
        let id = fragment.transferID
        let room = transfers[id].map { $0.room == .shared ? room : $0.room } ?? room
        let limit = byteLimit(of: room)
        guard fragment.totalLength <= limit else {
            drop(id)
            throw .tooLarge(length: fragment.totalLength, maximum: limit)
        }

        guard var transfer = transfers[id] else {
            if fragment.count == 1 {
                guard fragment.data.count == fragment.totalLength else { throw .inconsistentTransfer(id) }
                return fragment.data
            }
            makeRoom(in: room, forTransfers: 1, bytes: fragment.data.count, keeping: nil)
            var transfer = Transfer(count: fragment.count, totalLength: fragment.totalLength, started: now,
                                    sequence: nextSequence, room: room)
            nextSequence += 1
            transfer.parts[fragment.index] = fragment.data
            transfer.bytes = fragment.data.count
            insert(transfer, id: id)
            return nil
        }
        if transfer.room != room {
            // Its first fragment named a contact: the transfer leaves the shared room for that one.
            drop(id)
            transfer.room = room
            makeRoom(in: room, forTransfers: 1, bytes: transfer.bytes, keeping: nil)
            insert(transfer, id: id)
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
        account(room: transfer.room, transfers: 0, bytes: fragment.data.count)
        transfers[id] = transfer

        if transfer.parts.count == transfer.count {
            drop(id)
            guard transfer.bytes == transfer.totalLength else { throw .inconsistentTransfer(id) }
            var message: [UInt8] = []
            message.reserveCapacity(transfer.totalLength)
            for index in 0..<transfer.count { message.append(contentsOf: transfer.parts[index] ?? []) }
            return message
        }
        makeRoom(in: transfer.room, forTransfers: 0, bytes: 0, keeping: id)
        return nil
    }

    /// Drops every transfer whose first fragment arrived `timeout` or longer before `now`;
    /// returns how many.
    public mutating func expire(now: UnixTime) -> Int {
        let expired = transfers.filter { now >= $0.value.started.adding(timeout) }.map(\.key)
        for id in expired { drop(id) }
        return expired.count
    }

    /// Evicts the oldest transfers of `room` (never `keeping`) until `transfers` more transfers
    /// and `bytes` more bytes fit within its bounds; for a contact room, then the oldest of the
    /// fullest contact room until all contact rooms fit within `maxContactBytes`.
    private mutating func makeRoom(in room: Room, forTransfers newTransfers: Int, bytes newBytes: Int, keeping: MessageID?) {
        let (transferLimit, byteLimit) = switch room {
        case .shared: (maxTransfers, maxBytes)
        case .contact: (maxTransfersPerContact, maxBytesPerContact)
        }
        while roomTransfers[room, default: 0] + newTransfers > transferLimit || roomBytes[room, default: 0] + newBytes > byteLimit {
            guard evictOldest(in: room, keeping: keeping) else { break }
        }
        guard case .contact = room else { return }
        while contactBytes + newBytes > maxContactBytes {
            let fullest = roomBytes.filter { if case .contact = $0.key { $0.value > 0 } else { false } }
                .max { ($0.value, $0.key == room ? 0 : 1) < ($1.value, $1.key == room ? 0 : 1) }?.key
            guard let fullest, evictOldest(in: fullest, keeping: keeping) else { return }
        }
    }

    /// Drops the oldest transfer of `room` other than `keeping`; false when there is none.
    private mutating func evictOldest(in room: Room, keeping: MessageID?) -> Bool {
        let oldest = transfers.filter { $0.value.room == room && $0.key != keeping }
            .min { ($0.value.started, $0.value.sequence) < ($1.value.started, $1.value.sequence) }
        guard let oldest else { return false }
        drop(oldest.key)
        evictedTransfers += 1
        return true
    }

    private mutating func insert(_ transfer: Transfer, id: MessageID) {
        transfers[id] = transfer
        account(room: transfer.room, transfers: 1, bytes: transfer.bytes)
    }

    private mutating func account(room: Room, transfers count: Int, bytes: Int) {
        bufferedBytes += bytes
        roomTransfers[room, default: 0] += count
        roomBytes[room, default: 0] += bytes
        if case .contact = room { contactBytes += bytes }
        if roomTransfers[room] == 0 { roomTransfers[room] = nil; roomBytes[room] = nil }
    }

    private mutating func drop(_ id: MessageID) {
        guard let transfer = transfers.removeValue(forKey: id) else { return }
        account(room: transfer.room, transfers: -1, bytes: -transfer.bytes)
    }

    /// The fragments of one unfinished transfer received so far.
    private struct Transfer: Sendable {
        var count: Int
        var totalLength: Int
        var started: UnixTime
        /// Arrival order, to break ties between transfers started at the same `now`.
        var sequence: UInt64
        var room: Room
        var parts: [Int: [UInt8]] = [:]
        var bytes = 0
    }
}
