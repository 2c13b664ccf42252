import SecIRCCrypto

/// The sender chains a member reads, by (epoch, chain ID), with what a dictionary does not give:
/// each member's chains (at most one an epoch) without a walk of all of them, and the keys set or
/// removed since the table was last stored, so that saving a group of 1,000 after one post read
/// writes one chain's part without comparing the thousand (docs/BENCHMARKS.md, "Group state").
/// Every change goes through the subscript, so no path can change a chain unseen.
struct GroupReceivers: Sendable {
    typealias Key = GroupSession.ChainKey
    typealias Entry = (member: SigningPublicKey, receiver: SenderKeyReceiver)

    private(set) var entries: [Key: Entry] = [:]
    private var byMember: [SigningPublicKey: Set<Key>] = [:]
    /// Keys set or removed since ``markStored(_:)``.
    private(set) var touched: Set<Key> = []
    /// The tag ``markStored(_:)`` was given (0: never): changes are relative to the state stored
    /// under it.
    private(set) var base: UInt64 = 0

    var count: Int { entries.count }

    subscript(key: Key) -> Entry? {
        get { entries[key] }
        set {
            if let old = entries[key], old.member != newValue?.member {
                byMember[old.member]?.remove(key)
                if byMember[old.member]?.isEmpty == true { byMember[old.member] = nil }
            }
            entries[key] = newValue
            if let newValue { byMember[newValue.member, default: []].insert(key) }
            touched.insert(key)
        }
    }

    /// `member`'s chains.
    func chains(of member: SigningPublicKey) -> Set<Key> { byMember[member] ?? [] }

    mutating func removeAll(where shouldRemove: (Key, Entry) -> Bool) {
        for (key, entry) in entries where shouldRemove(key, entry) { self[key] = nil }
    }

    /// Removes every chain of `members`; returns their keys.
    mutating func removeAll(of members: Set<SigningPublicKey>) -> [Key] {
        let keys = members.flatMap { chains(of: $0) }
        for key in keys { self[key] = nil }
        return keys
    }

    /// The table is what the store holds under `tag`: changes count from here.
    mutating func markStored(_ tag: UInt64) {
        touched = []
        base = tag
    }
}
