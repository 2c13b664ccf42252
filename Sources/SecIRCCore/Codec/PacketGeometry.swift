/// Every length of the wire format, derived from two numbers: the datagram size and the
/// maximum number of hops. No other code hard-codes a packet length; it asks this value.
///
/// Every link transport datagram has the same size; it carries one frame, a kind byte and a
/// body padded to the full length (a Sphinx packet, or a control message):
/// ```
/// link:   type(1) | receiver index(4) | counter(8) | AEAD( frame kind(1) | frame body ) | tag(16)
/// sphinx: epoch(4) | α(32) | β(maxHops × 64) | γ(16) | payload      (= one frame body)
/// payload (after the last peel): zero tag(16) | body
/// ```
public struct PacketGeometry: Hashable, Sendable {
    // Specification constants (the same for every geometry).
    /// Link header: type, receiver index, counter (defined by the link format).
    public static let linkHeaderLength = LinkWireFormat.transportHeaderLength
    /// Poly1305 tag of the link AEAD.
    public static let linkTagLength = LinkWireFormat.tagLength
    /// The frame kind inside the link encryption (Sphinx packet, control message, padding).
    public static let frameKindLength = 1
    /// Onion-key epoch in front of the Sphinx header.
    public static let epochLength = 4
    /// α: an X25519 public value.
    public static let alphaLength = 32
    /// γ: the header MAC (truncated keyed BLAKE2b).
    public static let gammaLength = 16
    /// One hop's slot in β: command(1) | address(32) | delay ms(4) | next epoch(4) | reserved(7) | γ of next hop(16).
    public static let routingSlotLength = 64
    /// Zero bytes at the front of the payload that the last hop checks (end-to-end tamper check).
    public static let payloadTagLength = 16

    /// Bytes per UDP datagram (1232: no IPv6 fragmentation on any path that meets the minimum MTU).
    public let datagramSize: Int
    /// The most relays a Sphinx packet can pass.
    public let maxHops: Int

    /// The network's geometry: 1232-byte datagrams, up to 5 hops.
    public static let standard = PacketGeometry(uncheckedDatagramSize: 1232, maxHops: 5)

    private init(uncheckedDatagramSize: Int, maxHops: Int) {
        datagramSize = uncheckedDatagramSize
        self.maxHops = maxHops
    }

    /// A geometry for other sizes; throws if the payload would not fit.
    public init(datagramSize: Int, maxHops: Int) throws {
        self.init(uncheckedDatagramSize: datagramSize, maxHops: maxHops)
        guard (1...16).contains(maxHops), (576...65_507).contains(datagramSize),
              payloadLength >= Self.payloadTagLength + 33
        else { throw DecodeError.invalidValue("geometry \(datagramSize) bytes / \(maxHops) hops leaves no payload") }
    }

    /// β: routing information for `maxHops` hops.
    public var betaLength: Int { maxHops * Self.routingSlotLength }
    /// epoch | α | β | γ.
    public var sphinxHeaderLength: Int { Self.epochLength + Self.alphaLength + betaLength + Self.gammaLength }
    /// The plaintext of every link transport packet: frame kind and frame body.
    public var linkFrameLength: Int { datagramSize - Self.linkHeaderLength - Self.linkTagLength }
    /// A frame body: a whole Sphinx packet, or a control message padded to this length.
    public var frameBodyLength: Int { linkFrameLength - Self.frameKindLength }
    /// A whole Sphinx packet (one frame body).
    public var sphinxPacketLength: Int { frameBodyLength }
    /// The Lioness-encrypted payload of a Sphinx packet.
    public var payloadLength: Int { sphinxPacketLength - sphinxHeaderLength }
    /// What a sender can put in one packet: the payload less its zero tag.
    public var bodyLength: Int { payloadLength - Self.payloadTagLength }

    // Offsets inside a Sphinx packet.
    public var alphaOffset: Int { Self.epochLength }
    public var betaOffset: Int { alphaOffset + Self.alphaLength }
    public var gammaOffset: Int { betaOffset + betaLength }
    public var payloadOffset: Int { sphinxHeaderLength }
}
