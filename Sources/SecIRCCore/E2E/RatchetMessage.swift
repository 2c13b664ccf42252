import SecIRCCrypto

/// One Double Ratchet message on the wire:
/// ```
/// header (40: ratchet key 32 | PN 4 | N 4) | XChaCha20-Poly1305 ciphertext || tag (≥ 16)
/// ```
/// The header travels in the clear (this is the Double Ratchet without header encryption);
/// it is authenticated as part of the AEAD associated data.
public struct RatchetMessage: Hashable, Sendable {
    /// The smallest message: a header and the tag of an empty plaintext.
    public static let minimumLength = RatchetHeader.encodedLength + XChaCha20Poly1305.tagByteCount

    public var header: RatchetHeader
    /// Ciphertext followed by the 16-byte Poly1305 tag.
    public var ciphertext: [UInt8]

    public init(header: RatchetHeader, ciphertext: [UInt8]) {
        self.header = header
        self.ciphertext = ciphertext
    }

    /// header || ciphertext || tag.
    public var encoded: [UInt8] { header.encoded + ciphertext }

    /// Splits wire bytes into header and ciphertext. Throws `incomplete` for input shorter than
    /// `minimumLength`; it never traps.
    public static func decode(_ bytes: [UInt8]) throws(DecodeError) -> RatchetMessage {
        guard bytes.count >= minimumLength else { throw .incomplete(deficit: minimumLength - bytes.count) }
        let header = try RatchetHeader.decode(bytes[..<RatchetHeader.encodedLength])
        return RatchetMessage(header: header, ciphertext: Array(bytes[RatchetHeader.encodedLength...]))
    }
}
