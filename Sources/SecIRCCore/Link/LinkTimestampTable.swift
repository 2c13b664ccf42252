public import SecIRCCrypto

/// The greatest initiation timestamp an IK responder accepted from each initiator static key,
/// for at most `capacity` keys: when full, recording a new key forgets the least recently
/// updated one (which may then replay an old initiation once; that cannot take over a session,
/// because a responder session becomes usable only after the initiator's first transport
/// packet, and IK responders should restrict initiators to the directory's relays).
public struct LinkTimestampTable: Sendable {
    private struct Entry: Sendable {
        var timestamp: LinkTimestamp
        var sequence: UInt64
    }

    public let capacity: Int
    private var entries: [AgreementPublicKey: Entry] = [:]
    private var sequence: UInt64 = 0

    public init(capacity: Int) {
        self.capacity = max(capacity, 1)
    }

    /// Number of keys remembered.
    public var count: Int { entries.count }

    /// The greatest timestamp accepted from `key`, if remembered.
    public func greatest(for key: AgreementPublicKey) -> LinkTimestamp? { entries[key]?.timestamp }

    /// True when `timestamp` is greater than anything accepted from `key` (or `key` is unknown).
    public func accepts(_ timestamp: LinkTimestamp, from key: AgreementPublicKey) -> Bool {
        guard let entry = entries[key] else { return true }
        return timestamp > entry.timestamp
    }

    /// Records an accepted timestamp, forgetting the least recently updated key when full.
    public mutating func record(_ timestamp: LinkTimestamp, for key: AgreementPublicKey) {
        sequence += 1
        if entries[key] == nil, entries.count >= capacity,
           let oldest = entries.min(by: { $0.value.sequence < $1.value.sequence })?.key {
            entries[oldest] = nil
        }
        let previous = entries[key]?.timestamp
        entries[key] = Entry(timestamp: max(previous ?? timestamp, timestamp), sequence: sequence)
    }
}
