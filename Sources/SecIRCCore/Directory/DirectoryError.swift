/// Why a descriptor or directory was refused.
public enum DirectoryError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Not a well-formed document (the text says where).
    case malformed(String)
    /// The envelope's document type is not the one expected.
    case wrongType(expected: String, found: String)
    /// A descriptor's own signature (by the key it names) does not verify.
    case badSelfSignature
    /// Fewer than `required` distinct trusted roster members signed.
    case insufficientSignatures(valid: Int, required: Int)
    /// `now` is outside valid-after ..< valid-until.
    case notValidAt(now: Int64, validAfter: Int64, validUntil: Int64)
    /// A field breaks a rule (threshold, geometry, duplicates...).
    case invalid(String)
    /// The next directory does not extend this one (hash or serial).
    case brokenChain(String)

    public var description: String {
        switch self {
        case let .malformed(text): "malformed document: \(text)"
        case let .wrongType(expected, found): "expected a \(expected) document, got \(found)"
        case .badSelfSignature: "descriptor signature does not verify"
        case let .insufficientSignatures(valid, required): "\(valid) valid roster signatures, \(required) required"
        case let .notValidAt(now, after, until): "not valid at \(now) (valid \(after)..<\(until))"
        case let .invalid(text): "invalid: \(text)"
        case let .brokenChain(text): "does not extend the previous directory: \(text)"
        }
    }
}
