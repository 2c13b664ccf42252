/// The first byte of every link datagram. An open set: a value this version does not know is
/// data (`LinkPacket.unknown(type:)`), never an error that stops anything.
public struct LinkMessageType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt8

    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// Relay-to-relay handshake initiation (Noise IK, first message).
    public static let initiationIK = LinkMessageType(rawValue: 1)
    /// Client-to-relay handshake initiation (Noise NK, first message; the client is anonymous).
    public static let initiationNK = LinkMessageType(rawValue: 2)
    /// Handshake response (second Noise message, IK or NK).
    public static let response = LinkMessageType(rawValue: 3)
    /// Stateless cookie reply from a responder under load.
    public static let cookieReply = LinkMessageType(rawValue: 4)
    /// Transport data under an established session.
    public static let transport = LinkMessageType(rawValue: 5)

    public var description: String {
        switch self {
        case .initiationIK: "initiation-ik"
        case .initiationNK: "initiation-nk"
        case .response: "response"
        case .cookieReply: "cookie-reply"
        case .transport: "transport"
        default: "unknown(\(rawValue))"
        }
    }
}
