/// Why a message could not be fragmented or sealed, a mailbox body could not be opened, or a
/// fragment was refused by the `Reassembler`.
public enum SealedPacketError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A message of `length` bytes needs more fragments, or more buffer, than `maximum` bytes allow.
    case tooLarge(length: Int, maximum: Int)
    /// The geometry's body has no room for a sealed fragment.
    case geometryTooSmall(bodyLength: Int)
    /// A fragment handed to `seal` is outside what the format can carry.
    case invalidFragment(String)
    /// The recipient's key is a low-order point (no shared secret).
    case invalidRecipientKey
    /// A body of `Int` bytes, not the geometry's body length.
    case wrongLength(Int)
    /// Authentication failed: the packet is for someone else, corrupted, or cover traffic.
    case notForUs
    /// The packet authenticated but its fragment header is not valid.
    case malformed(String)
    /// A fragment disagrees with earlier fragments of its transfer; the transfer was dropped.
    case inconsistentTransfer(MessageID)

    public var description: String {
        switch self {
        case let .tooLarge(length, maximum): "message of \(length) bytes is over the limit of \(maximum)"
        case let .geometryTooSmall(bodyLength): "a body of \(bodyLength) bytes cannot hold a sealed fragment"
        case let .invalidFragment(text): "invalid fragment: \(text)"
        case .invalidRecipientKey: "recipient key is of low order"
        case let .wrongLength(length): "sealed packet of \(length) bytes has the wrong length"
        case .notForUs: "sealed packet does not open with this key"
        case let .malformed(text): "malformed sealed packet: \(text)"
        case let .inconsistentTransfer(id): "fragment of transfer \(id) disagrees with earlier ones"
        }
    }
}
