/// Why an invite URI was refused, or an invite could not be made. `Invite.parse` checks in the
/// order of the cases below, and verifies the signature before it trusts any field.
public enum InviteError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The text does not start with `secirc:`.
    case notSecircURI
    /// The URI is longer than `Invite.maximumURILength` characters.
    case tooLong(length: Int)
    /// The payload is not canonical unpadded base64url.
    case badEncoding
    /// The payload ends before the fields it announces.
    case truncated
    /// `count` bytes follow a complete body.
    case trailingBytes(count: Int)
    /// The identity key's signature over the body does not verify.
    case badSignature
    /// The invite expired at `at` (unix seconds).
    case expired(at: UInt64)
    /// The body's version byte is not one this code reads.
    case unsupportedVersion(UInt8)
    /// A signed field holds a value the format does not allow (making: a value out of range).
    case invalidField(String)

    public var description: String {
        switch self {
        case .notSecircURI: "not a secirc: URI"
        case let .tooLong(length): "invite URI is \(length) characters, more than \(Invite.maximumURILength)"
        case .badEncoding: "invite payload is not base64url"
        case .truncated: "invite is truncated"
        case let .trailingBytes(count): "\(count) unexpected bytes after the invite"
        case .badSignature: "invite signature does not verify"
        case let .expired(at): "invite expired at \(at) (unix seconds)"
        case let .unsupportedVersion(version): "invite version \(version) is not supported"
        case let .invalidField(text): "invalid invite field: \(text)"
        }
    }
}
