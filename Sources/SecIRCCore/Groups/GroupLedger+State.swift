import SecIRCCrypto

/// Storage form of a ``GroupLedger``, inside a ``GroupSession``'s state:
/// ```
/// ledger = roster count (1, 1…16) | snapshot length (4) | oldest roster's snapshot (§7.7)
///          | (update length (4) | update (§7.7)) × (count − 1), oldest first
/// ```
/// The later rosters are not stored: each is the one before with its update applied, which
/// gives back exactly the rosters kept (and checks every update's signature and chain again).
extension GroupLedger {
    func writeState(to w: inout ByteWriter) {
        w.write(UInt8(rosters.count))
        w.writeLengthPrefixed(rosters[0].snapshot)
        for update in updates { w.writeLengthPrefixed(update.encoded) }
    }

    init(state r: inout ByteReader) throws {
        let count = try r.readCount(UInt8.self, max: Self.depth, of: "ledger rosters")
        guard count >= 1 else { throw DecodeError.invalidValue("a ledger without a roster") }
        let oldest = try GroupRoster(snapshot: r.readLengthPrefixed(max: GroupRoster.maxSnapshotLength, of: "roster snapshot"))
        self.init(oldest)
        for _ in 1..<count {
            let update = try GroupUpdate.decode(r.readLengthPrefixed(max: GroupUpdate.maxEncodedLength, of: "roster update"))
            let next: GroupRoster
            do { next = try current.applying(update) } catch {
                throw DecodeError.invalidValue("ledger update \(update.serial) does not apply: \(error)")
            }
            rosters.append(next)
            updates.append(update)
        }
    }
}

extension GroupRoster {
    /// The longest snapshot: a full group with the longest name.
    public static let maxSnapshotLength = 1 + 32 + 8 + 32 + 1 + maxNameBytes + 2 + 2 + 65 * Int(maxMembers)
}
