public import SecIRCCrypto

/// A link frame that arrived: its plaintext, the session it came on (answer on the same one with
/// `LinkManager.reply`), and the relay at the other end when the session belongs to a known
/// relay (nil for anonymous client sessions).
public struct LinkDelivery: Sendable {
    public var frame: [UInt8]
    public var session: UInt32
    public var peer: ID?
}
