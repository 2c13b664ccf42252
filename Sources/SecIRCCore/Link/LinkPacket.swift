/// One link datagram, decoded by type and checked for its exact length before any crypto is
/// spent on it. Decoding verifies nothing cryptographic: the state machines do that.
public enum LinkPacket: Sendable, Hashable {
    case initiationIK(LinkInitiation)
    case initiationNK(LinkInitiation)
    case response(LinkResponse)
    case cookieReply(LinkCookieReply)
    case transport(LinkTransportPacket)
    /// A type this version does not know: data for a counter, not an error.
    case unknown(type: LinkMessageType)

    /// Decodes `bytes` (one whole datagram). Handshake messages must have their exact length;
    /// a transport packet must hold at least a header and a tag and at most
    /// `geometry.datagramSize` bytes. Throws `DecodeError.incomplete` (too short, or empty),
    /// `.trailingBytes` (too long); an unknown type byte is `.unknown(type:)`, not an error.
    /// Never traps, whatever the input.
    public static func decode(_ bytes: [UInt8], geometry: PacketGeometry = .standard) throws(DecodeError) -> LinkPacket {
        guard let first = bytes.first else { throw DecodeError.incomplete(deficit: 1) }
        let type = LinkMessageType(rawValue: first)
        switch type {
        case .initiationIK:
            try requireLength(bytes, LinkWireFormat.initiationIKLength)
            return .initiationIK(LinkInitiation(checked: bytes, kind: .ik))
        case .initiationNK:
            try requireLength(bytes, LinkWireFormat.initiationNKLength)
            return .initiationNK(LinkInitiation(checked: bytes, kind: .nk))
        case .response:
            try requireLength(bytes, LinkWireFormat.responseLength)
            return .response(LinkResponse(checked: bytes))
        case .cookieReply:
            try requireLength(bytes, LinkWireFormat.cookieReplyLength)
            return .cookieReply(LinkCookieReply(checked: bytes))
        case .transport:
            try requireTransportLength(bytes, geometry: geometry)
            return .transport(LinkTransportPacket(checked: bytes))
        default:
            return .unknown(type: type)
        }
    }

    /// The message type of a datagram, without decoding it (nil for an empty one).
    public static func messageType(of bytes: [UInt8]) -> LinkMessageType? {
        bytes.first.map(LinkMessageType.init(rawValue:))
    }

    /// The receiver index of a transport packet, response or cookie reply, read from the header
    /// without decoding or copying the body: what a caller routes on. Nil for other types or a
    /// datagram too short for its type.
    public static func receiverIndex(of bytes: [UInt8], geometry: PacketGeometry = .standard) -> UInt32? {
        switch messageType(of: bytes) {
        case .transport?:
            guard (try? requireTransportLength(bytes, geometry: geometry)) != nil else { return nil }
            return LinkWireFormat.readUInt32(bytes, at: LinkTransportPacket.receiverIndexOffset)
        case .response?:
            guard bytes.count == LinkWireFormat.responseLength else { return nil }
            return LinkWireFormat.readUInt32(bytes, at: LinkResponse.receiverIndexOffset)
        case .cookieReply?:
            guard bytes.count == LinkWireFormat.cookieReplyLength else { return nil }
            return LinkWireFormat.readUInt32(bytes, at: LinkCookieReply.receiverIndexOffset)
        default:
            return nil
        }
    }

    /// The type of this packet.
    public var type: LinkMessageType {
        switch self {
        case .initiationIK: .initiationIK
        case .initiationNK: .initiationNK
        case .response: .response
        case .cookieReply: .cookieReply
        case .transport: .transport
        case let .unknown(type): type
        }
    }

    private static func requireLength(_ bytes: [UInt8], _ expected: Int) throws(DecodeError) {
        if bytes.count < expected { throw DecodeError.incomplete(deficit: expected - bytes.count) }
        if bytes.count > expected { throw DecodeError.trailingBytes(count: bytes.count - expected) }
    }

    static func requireTransportLength(_ bytes: [UInt8], geometry: PacketGeometry) throws(DecodeError) {
        if bytes.count < LinkWireFormat.transportMinimumLength {
            throw DecodeError.incomplete(deficit: LinkWireFormat.transportMinimumLength - bytes.count)
        }
        if bytes.count > geometry.datagramSize { throw DecodeError.trailingBytes(count: bytes.count - geometry.datagramSize) }
    }
}
