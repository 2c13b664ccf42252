/// What an `Envelope`'s body holds. Open: a kind this code does not know is kept as
/// `.unknown(byte)`, never refused, so newer clients can add kinds. Two kinds are equal when
/// their wire bytes are (`.unknown(1) == .text`).
public enum EnvelopeKind: Hashable, Sendable, CustomStringConvertible {
    /// 1: UTF-8 text.
    case text
    /// 2: acknowledgement of received messages (`Envelope.receiptIDs()`).
    case receipt
    /// 3: describes a file sent in chunks.
    case fileManifest
    /// 4: one chunk of a file.
    case fileChunk
    /// 5: a voice message.
    case voice
    /// 6: group membership and settings.
    case groupControl
    /// Any other byte.
    case unknown(UInt8)

    /// The kind for a wire byte; unknown values become `.unknown`.
    public init(rawValue: UInt8) {
        switch rawValue {
        case 1: self = .text
        case 2: self = .receipt
        case 3: self = .fileManifest
        case 4: self = .fileChunk
        case 5: self = .voice
        case 6: self = .groupControl
        default: self = .unknown(rawValue)
        }
    }

    /// The wire byte.
    public var rawValue: UInt8 {
        switch self {
        case .text: 1
        case .receipt: 2
        case .fileManifest: 3
        case .fileChunk: 4
        case .voice: 5
        case .groupControl: 6
        case let .unknown(value): value
        }
    }

    public static func == (lhs: EnvelopeKind, rhs: EnvelopeKind) -> Bool { lhs.rawValue == rhs.rawValue }

    public func hash(into hasher: inout Hasher) { hasher.combine(rawValue) }

    public var description: String {
        switch EnvelopeKind(rawValue: rawValue) {
        case .text: "text"
        case .receipt: "receipt"
        case .fileManifest: "fileManifest"
        case .fileChunk: "fileChunk"
        case .voice: "voice"
        case .groupControl: "groupControl"
        case let .unknown(value): "unknown(\(value))"
        }
    }
}
