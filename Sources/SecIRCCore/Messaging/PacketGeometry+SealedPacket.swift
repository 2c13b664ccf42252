extension PacketGeometry {
    /// The plaintext of a sealed packet: the body less ephemeral key, nonce and tag
    /// (742 at the standard geometry).
    public var sealedPlaintextLength: Int { bodyLength - SealedPacket.overheadLength }

    /// Message bytes per fragment: the sealed plaintext less the fragment header
    /// (715 at the standard geometry). Not positive for a geometry too small for sealed packets.
    public var fragmentCapacity: Int { sealedPlaintextLength - SealedPacket.fragmentHeaderLength }
}
