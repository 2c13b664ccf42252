/// One piece of a transfer (an encoded `SessionMessage`), small enough for one sealed packet.
/// Fragments of one transfer share `transferID`, `count` and `totalLength`; fragment `index`
/// holds bytes `index × capacity ..< min((index + 1) × capacity, totalLength)` of the message,
/// where capacity is `PacketGeometry.fragmentCapacity`.
public struct Fragment: Hashable, Sendable {
    /// Names the transfer; the sender picks a fresh random value for each transfer.
    public var transferID: MessageID
    /// 0 ..< count.
    public var index: Int
    /// Fragments in the transfer, 1...`SealedPacket.maximumFragments`.
    public var count: Int
    /// Length of the whole message.
    public var totalLength: Int
    public var data: [UInt8]

    public init(transferID: MessageID, index: Int, count: Int, totalLength: Int, data: [UInt8]) {
        self.transferID = transferID
        self.index = index
        self.count = count
        self.totalLength = totalLength
        self.data = data
    }
}
