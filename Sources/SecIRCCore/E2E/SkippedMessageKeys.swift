public import SecIRCCrypto

/// Message keys of messages that have not arrived yet (Signal spec `MKSKIPPED`), keyed by the
/// sender's ratchet public key and the message number, oldest first. Holds at most `capacity`
/// keys: storing one more evicts the oldest. A key is removed (and its memory zeroed once the
/// last reference goes) when its message is decrypted.
public struct SkippedMessageKeys: Sendable {
    /// Where a skipped key belongs.
    public struct Index: Hashable, Sendable {
        public var ratchetKey: AgreementPublicKey
        public var messageNumber: UInt32

        public init(ratchetKey: AgreementPublicKey, messageNumber: UInt32) {
            self.ratchetKey = ratchetKey
            self.messageNumber = messageNumber
        }
    }

    public let capacity: Int
    private var keys: [Index: SecureBytes] = [:]
    /// Insertion order, for eviction and for serialisation.
    private(set) var order: [Index] = []

    public init(capacity: Int) {
        precondition(capacity > 0)
        self.capacity = capacity
    }

    /// Number of stored keys.
    public var count: Int { keys.count }

    public func contains(_ index: Index) -> Bool { keys[index] != nil }

    /// Stores `messageKey`, evicting the oldest keys beyond `capacity`.
    public mutating func insert(_ messageKey: SecureBytes, for index: Index) {
        if keys.updateValue(messageKey, forKey: index) == nil { order.append(index) }
        let excess = order.count - capacity
        if excess > 0 {
            for evicted in order[0..<excess] { keys[evicted] = nil }
            order.removeFirst(excess)
        }
    }

    /// Removes and returns the key for `index`, if stored.
    public mutating func remove(_ index: Index) -> SecureBytes? {
        guard let key = keys.removeValue(forKey: index) else { return nil }
        if let position = order.firstIndex(of: index) { order.remove(at: position) }
        return key
    }

    /// The stored keys, oldest first.
    var entries: [(index: Index, messageKey: SecureBytes)] { order.map { ($0, keys[$0]!) } }
}
