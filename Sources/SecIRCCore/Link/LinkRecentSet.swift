import SecIRCCrypto

/// The last `capacity` 32-byte values inserted, first in first out: NK initiation ephemerals a
/// responder has answered, so an exact replay is refused before any X25519 work.
struct LinkRecentSet: Sendable {
    let capacity: Int
    private var members: Set<Bytes32> = []
    private var order: [Bytes32] = []
    private var next = 0

    init(capacity: Int) {
        self.capacity = max(capacity, 1)
    }

    func contains(_ value: Bytes32) -> Bool { members.contains(value) }

    mutating func insert(_ value: Bytes32) {
        guard !members.contains(value) else { return }
        if order.count < capacity {
            order.append(value)
        } else {
            members.remove(order[next])
            order[next] = value
            next = (next + 1) % capacity
        }
        members.insert(value)
    }
}
