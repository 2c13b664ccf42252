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

    /// Decodes `bytes` (one whole datagram). A handshake message (initiation, response, cookie
    /// reply) is its fields padded with zeros to exactly `geometry.datagramSize` bytes; a
    /// transport packet must hold at least a header and a tag and at most
    /// `geometry.datagramSize` bytes. Throws `DecodeError.incomplete` (too short, or empty),
    /// `.trailingBytes` (too long), `.invalidValue` (padding that is not all zeros); an unknown
    /// type byte is `.unknown(type:)`, not an error. Never traps, whatever the input.
    public static func decode(_ bytes: [UInt8], geometry: PacketGeometry = .standard) throws(DecodeError) -> LinkPacket {
        guard let first = bytes.first else { throw DecodeError.incomplete(deficit: 1) }
        let type = LinkMessageType(rawValue: first)
        switch type {
        case .initiationIK:
            return .initiationIK(LinkInitiation(checked: try unpadded(bytes, LinkWireFormat.initiationIKLength, geometry), kind: .ik))
        case .initiationNK:
            return .initiationNK(LinkInitiation(checked: try unpadded(bytes, LinkWireFormat.initiationNKLength, geometry), kind: .nk))
        case .response:
            return .response(LinkResponse(checked: try unpadded(bytes, LinkWireFormat.responseLength, geometry)))
        case .cookieReply:
            return .cookieReply(LinkCookieReply(checked: try unpadded(bytes, LinkWireFormat.cookieReplyLength, geometry)))
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
            guard bytes.count == geometry.datagramSize else { return nil }
            return LinkWireFormat.readUInt32(bytes, at: LinkResponse.receiverIndexOffset)
        case .cookieReply?:
            guard bytes.count == geometry.datagramSize else { return nil }
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

    /// The first `length` bytes of a handshake datagram, which must be exactly
    /// `geometry.datagramSize` bytes with zeros after them.
    private static func unpadded(_ bytes: [UInt8], _ length: Int, _ geometry: PacketGeometry) throws(DecodeError) -> [UInt8] {
        let size = geometry.datagramSize
        if bytes.count < size { throw DecodeError.incomplete(deficit: size - bytes.count) }
        if bytes.count > size { throw DecodeError.trailingBytes(count: bytes.count - size) }
        guard bytes[length...].allSatisfy({ $0 == 0 }) else {
            throw DecodeError.invalidValue("padding after the handshake message is not all zeros")
        }
        return Array(bytes[..<length])
    }

    static func requireTransportLength(_ bytes: [UInt8], geometry: PacketGeometry) throws(DecodeError) {
        if bytes.count < LinkWireFormat.transportMinimumLength {
            throw DecodeError.incomplete(deficit: LinkWireFormat.transportMinimumLength - bytes.count)
        }
        if bytes.count > geometry.datagramSize { throw DecodeError.trailingBytes(count: bytes.count - geometry.datagramSize) }
    }
}
