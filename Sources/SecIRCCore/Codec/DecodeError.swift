/// Why bytes from outside could not be decoded. Decoders never trap on bad input: they throw this.
public enum DecodeError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The input ended `deficit` bytes too early.
    case incomplete(deficit: Int)
    /// `count` bytes were left over after a complete message.
    case trailingBytes(count: Int)
    /// A field held a value the format does not allow.
    case invalidValue(String)

    public var description: String {
        switch self {
        case let .incomplete(deficit): "input ends \(deficit) bytes early"
        case let .trailingBytes(count): "\(count) unexpected bytes after the message"
        case let .invalidValue(text): "invalid value: \(text)"
        }
    }
}
