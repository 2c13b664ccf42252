/// Why a contact card was refused, or could not be made. `ContactCard.decode` checks in the
/// order of the cases below and verifies the signature before it trusts any field.
public enum ContactCardError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The bytes end before the fields they announce.
    case truncated
    /// `count` bytes follow a complete card body.
    case trailingBytes(count: Int)
    /// The identity key's signature over the card does not verify.
    case badSignature
    /// The version byte is not one this code reads (checked after the signature).
    case unsupportedVersion(UInt8)
    /// A signed field holds a value the format does not allow (making: a value out of range).
    case invalidField(String)

    public var description: String {
        switch self {
        case .truncated: "contact card is truncated"
        case let .trailingBytes(count): "\(count) unexpected bytes after the contact card"
        case .badSignature: "contact card signature does not verify"
        case let .unsupportedVersion(version): "contact card version \(version) is not supported"
        case let .invalidField(text): "invalid contact card field: \(text)"
        }
    }
}
