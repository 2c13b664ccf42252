public import SecIRCCrypto

/// An admin's answer to a member that fell two or more epochs behind (§7.10, catching up), sent
/// inside their pairwise session (a group control message): the admin's current epoch and the
/// one before it, and the roster serial and hash it holds. A member still in the roster is owed
/// those epochs anyway (the rekeys that made them were for it); the roster itself comes through
/// the channel (a forced resend request in the new mailbox), checked against the hash.
///
/// ```
/// catch-up = version (1) = 1 | group key (32) | flags (1)
///          | epoch number (4) | epoch secret (32)
///          | [previous epoch number (4) | its secret (32)]        flag bit 0
///          | roster serial (8) | roster hash (32)
/// ```
/// flags: bit 0 a previous epoch, bit 1 the admin awaits a rekey, bit 2 after a member was lost
/// (§7.10: the member then posts nothing until it comes); other bits zero. 114 or 150 bytes.
public struct GroupCatchUp: Sendable {
    public static let version: UInt8 = 1
    public static let maxLength = 1 + 32 + 1 + 36 + 36 + 8 + 32

    public let groupKey: SigningPublicKey
    public let epoch: GroupEpoch
    public let previousEpoch: GroupEpoch?
    public let rosterSerial: UInt64
    public let rosterHash: Bytes32
    public let awaitingRekey: Bool
    public let awaitingRekeyAfterLoss: Bool

    public var groupID: ID { ID(rawValue: SHA256.hash(groupKey.rawValue.bytes)) }

    private enum Flag {
        static let previousEpoch: UInt8 = 1 << 0
        static let awaitingRekey: UInt8 = 1 << 1
        static let awaitingRekeyAfterLoss: UInt8 = 1 << 2
        static let all: UInt8 = 0x07
    }

    public init(groupKey: SigningPublicKey, epoch: GroupEpoch, previousEpoch: GroupEpoch?, rosterSerial: UInt64, rosterHash: Bytes32,
                awaitingRekey: Bool, awaitingRekeyAfterLoss: Bool) {
        self.groupKey = groupKey
        self.epoch = epoch
        self.previousEpoch = previousEpoch
        self.rosterSerial = rosterSerial
        self.rosterHash = rosterHash
        self.awaitingRekey = awaitingRekey
        self.awaitingRekeyAfterLoss = awaitingRekeyAfterLoss && awaitingRekey
    }

    public var encoded: [UInt8] {
        var w = ByteWriter(capacity: Self.maxLength)
        w.write(Self.version)
        w.write(groupKey.rawValue)
        var flags: UInt8 = 0
        if previousEpoch != nil { flags |= Flag.previousEpoch }
        if awaitingRekey { flags |= Flag.awaitingRekey }
        if awaitingRekeyAfterLoss { flags |= Flag.awaitingRekeyAfterLoss }
        w.write(flags)
        for held in [epoch] + (previousEpoch.map { [$0] } ?? []) {
            w.write(held.number)
            held.secret.withUnsafeBytes { w.write($0) }
        }
        w.write(rosterSerial)
        w.write(rosterHash)
        return w.bytes
    }

    /// Parses a catch-up (untrusted): each field checked, nothing left over. The previous epoch's
    /// number must be below the current one's.
    public static func decode(_ bytes: [UInt8]) throws(DecodeError) -> GroupCatchUp {
        var r = ByteReader(bytes)
        do {
            let version = try r.readUInt8()
            guard version == Self.version else { throw DecodeError.invalidValue("group catch-up version \(version)") }
            let key = SigningPublicKey(rawValue: try r.readBytes32())
            let flags = try r.readUInt8()
            guard flags & ~Flag.all == 0, flags & Flag.awaitingRekeyAfterLoss == 0 || flags & Flag.awaitingRekey != 0 else {
                throw DecodeError.invalidValue("group catch-up flags \(flags)")
            }
            let epoch = try readEpoch(&r)
            let previous = flags & Flag.previousEpoch != 0 ? try readEpoch(&r) : nil
            if let previous, previous.number >= epoch.number {
                throw DecodeError.invalidValue("group catch-up previous epoch \(previous.number) not below \(epoch.number)")
            }
            let serial = try r.readUInt64()
            let hash = try r.readBytes32()
            guard r.remaining == 0 else { throw DecodeError.trailingBytes(count: r.remaining) }
            return GroupCatchUp(groupKey: key, epoch: epoch, previousEpoch: previous, rosterSerial: serial, rosterHash: hash,
                                awaitingRekey: flags & Flag.awaitingRekey != 0, awaitingRekeyAfterLoss: flags & Flag.awaitingRekeyAfterLoss != 0)
        } catch let error as DecodeError {
            throw error
        } catch {
            throw .invalidValue("group catch-up: \(error)")
        }
    }

    private static func readEpoch(_ r: inout ByteReader) throws -> GroupEpoch {
        let number = try r.readUInt32()
        let secret = try SymmetricKey(secret: SecureBytes(r.readBytes(32)))
        return GroupEpoch(number: number, secret: secret)
    }
}
