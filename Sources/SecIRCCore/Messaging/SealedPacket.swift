public import SecIRCCrypto

/// Sealed sender: one fragment encrypted to the recipient's X25519 identity agreement key R,
/// filling exactly one mailbox body (`PacketGeometry.bodyLength`, 814 bytes). Nothing outside
/// tells who sent it; a relay cannot tell it from cover traffic of random bytes.
///
/// ```
/// E 32 (fresh X25519 public key) | nonce 24 (random) | XChaCha20-Poly1305(key, nonce, plaintext, ad = E || R)
/// key = BLAKE2b-256("secIRC sealed v1" || X25519(e, R) || E || R)
/// plaintext = version u8 (= 1) | transfer ID 16 | index u16 | count u16 | total length u32
///             | data length u16 | data | zeros to the end
/// ```
/// Fragmentation is canonical: every fragment but the last is full (`fragmentCapacity` bytes),
/// so `(index, count, total length)` fix the data length, and `open` refuses anything else.
public enum SealedPacket {
    public static let currentVersion: UInt8 = 1
    /// Prefix of the key derivation input (16 ASCII bytes, no terminator).
    public static let keyLabel = Array("secIRC sealed v1".utf8)
    /// E, nonce and tag: what sealing adds to the plaintext.
    public static let overheadLength = AgreementPublicKey.byteCount + XChaCha20Poly1305.nonceByteCount
        + XChaCha20Poly1305.tagByteCount
    /// version | transfer ID | index | count | total length | data length.
    public static let fragmentHeaderLength = 1 + MessageID.byteCount + 2 + 2 + 4 + 2
    /// The most fragments of one transfer (91,520 message bytes at the standard geometry).
    public static let maximumFragments = 128

    /// The transfer ID of a session message that is sent more than once (retries): the first 16
    /// bytes of BLAKE2b-256("secirc transfer" ‖ message). Every attempt of the same bytes is the
    /// same transfer, so the receiver completes it from the fragments of any attempts (each
    /// fragment lost on its own, under loss a several-fragment message would otherwise need all
    /// of one attempt's fragments); other bytes (re-encrypted under a new session) are another.
    /// Only the recipient sees it (inside the sealed packet), and it can hash the bytes itself.
    public static func transferID(of message: [UInt8]) -> MessageID {
        let digest = BLAKE2b.hash(transferIDLabel + message, outputLength: 32)
        return try! MessageID(bytes: Array(digest.prefix(MessageID.byteCount)))
    }

    private static let transferIDLabel = Array("secirc transfer".utf8)

    /// Cuts `message` into canonical fragments (at least one, even for an empty message).
    /// Throws `tooLarge` when it needs more than `maximumFragments`.
    public static func fragments(of message: [UInt8], transferID: MessageID,
                                 geometry: PacketGeometry = .standard) throws(SealedPacketError) -> [Fragment] {
        let capacity = geometry.fragmentCapacity
        guard capacity > 0 else { throw .geometryTooSmall(bodyLength: geometry.bodyLength) }
        let maximum = maximumFragments * capacity
        guard message.count <= maximum else { throw .tooLarge(length: message.count, maximum: maximum) }
        let count = max(1, (message.count + capacity - 1) / capacity)
        return (0..<count).map { index in
            let start = index * capacity
            let end = min(start + capacity, message.count)
            return Fragment(transferID: transferID, index: index, count: count, totalLength: message.count,
                            data: Array(message[start..<end]))
        }
    }

    /// Seals `fragment` to `recipient`; the result is exactly `geometry.bodyLength` bytes.
    /// `rng` gives the ephemeral key and the nonce. Throws `invalidFragment` for a fragment that
    /// `fragments(of:transferID:geometry:)` would not make, `invalidRecipientKey` for a low-order key.
    public static func seal(_ fragment: Fragment, to recipient: AgreementPublicKey, geometry: PacketGeometry = .standard,
                            rng: inout some RandomSource) throws(SealedPacketError) -> [UInt8] {
        let capacity = geometry.fragmentCapacity
        guard capacity > 0 else { throw .geometryTooSmall(bodyLength: geometry.bodyLength) }
        if let problem = problem(index: fragment.index, count: fragment.count, totalLength: fragment.totalLength,
                                 dataLength: fragment.data.count, capacity: capacity) {
            throw .invalidFragment(problem)
        }
        var plaintext = ByteWriter(capacity: geometry.sealedPlaintextLength)
        plaintext.write(currentVersion)
        plaintext.write(fragment.transferID.bytes)
        plaintext.write(UInt16(fragment.index))
        plaintext.write(UInt16(fragment.count))
        plaintext.write(UInt32(fragment.totalLength))
        plaintext.write(UInt16(fragment.data.count))
        plaintext.write(fragment.data)
        plaintext.writeZeros(geometry.sealedPlaintextLength - plaintext.bytes.count)

        let ephemeral = AgreementPrivateKey(using: &rng)
        let sharedSecret: SecureBytes
        do { sharedSecret = try ephemeral.sharedSecret(with: recipient) } catch { throw .invalidRecipientKey }
        let key = packetKey(sharedSecret: sharedSecret, ephemeral: ephemeral.publicKey, recipient: recipient)
        let nonce = rng.bytes(XChaCha20Poly1305.nonceByteCount)
        let associatedData = ephemeral.publicKey.bytes + recipient.bytes
        // The nonce is 24 bytes by construction, the only way this seal can throw.
        let ciphertext = try! XChaCha20Poly1305.seal(plaintext.bytes, key: key, nonce: nonce, associatedData: associatedData)

        var body = ByteWriter(capacity: geometry.bodyLength)
        body.write(ephemeral.publicKey.rawValue)
        body.write(nonce)
        body.write(ciphertext)
        return body.bytes
    }

    /// Opens a mailbox body with our identity agreement key. Checks, in this order: length
    /// (`wrongLength`), authentication (`notForUs`: someone else's packet, a corrupted one, a
    /// low-order E, or cover traffic), then the fragment header and zero padding (`malformed`).
    /// Never traps on any input.
    public static func open(_ body: [UInt8], with key: AgreementPrivateKey,
                            geometry: PacketGeometry = .standard) throws(SealedPacketError) -> Fragment {
        guard body.count == geometry.bodyLength else { throw .wrongLength(body.count) }
        let capacity = geometry.fragmentCapacity
        guard capacity > 0 else { throw .geometryTooSmall(bodyLength: geometry.bodyLength) }

        var r = ByteReader(body)
        let ephemeral: AgreementPublicKey, nonce: [UInt8], ciphertext: [UInt8]
        do {
            ephemeral = AgreementPublicKey(rawValue: try r.readBytes32())
            nonce = try r.readBytes(XChaCha20Poly1305.nonceByteCount)
            ciphertext = r.readRest()
        } catch { throw .wrongLength(body.count) }
        let sharedSecret: SecureBytes
        do { sharedSecret = try key.sharedSecret(with: ephemeral) } catch { throw .notForUs }
        let packetKey = packetKey(sharedSecret: sharedSecret, ephemeral: ephemeral, recipient: key.publicKey)
        let plaintext: [UInt8]
        do {
            plaintext = try XChaCha20Poly1305.open(ciphertext, key: packetKey, nonce: nonce,
                                                   associatedData: ephemeral.bytes + key.publicKey.bytes)
        } catch { throw .notForUs }
        return try fragment(from: plaintext, capacity: capacity)
    }

    /// Reads the authenticated plaintext's fragment header, data and padding.
    private static func fragment(from plaintext: [UInt8], capacity: Int) throws(SealedPacketError) -> Fragment {
        var r = ByteReader(plaintext)
        do {
            let version = try r.readUInt8()
            guard version == currentVersion else { throw SealedPacketError.malformed("version \(version)") }
            let transferID = try MessageID(bytes: r.readBytes(MessageID.byteCount))
            let index = Int(try r.readUInt16())
            let count = Int(try r.readUInt16())
            let totalLength = Int(try r.readUInt32())
            let dataLength = Int(try r.readUInt16())
            if let problem = problem(index: index, count: count, totalLength: totalLength,
                                     dataLength: dataLength, capacity: capacity) {
                throw SealedPacketError.malformed(problem)
            }
            let data = try r.readBytes(dataLength)
            guard r.readRest().allSatisfy({ $0 == 0 }) else { throw SealedPacketError.malformed("non-zero padding") }
            return Fragment(transferID: transferID, index: index, count: count, totalLength: totalLength, data: data)
        } catch let error as SealedPacketError {
            throw error
        } catch {
            throw .malformed("\(error)")
        }
    }

    /// What is wrong with a fragment header, or nil when it is canonical: count in
    /// 1...maximumFragments, index < count, total length within what `count` fragments hold
    /// (more than `count − 1` full ones), and the data length the total length implies.
    private static func problem(index: Int, count: Int, totalLength: Int, dataLength: Int, capacity: Int) -> String? {
        guard (1...maximumFragments).contains(count) else { return "fragment count \(count)" }
        guard (0..<count).contains(index) else { return "fragment index \(index) of \(count)" }
        let least = count == 1 ? 0 : (count - 1) * capacity + 1
        guard (least...(count * capacity)).contains(totalLength) else {
            return "total length \(totalLength) does not take \(count) fragments"
        }
        let expected = min(capacity, totalLength - index * capacity)
        guard dataLength == expected else { return "fragment \(index) holds \(dataLength) bytes, expected \(expected)" }
        return nil
    }

    /// BLAKE2b-256(label || X25519(e, R) || E || R), computed in zero-on-free memory.
    private static func packetKey(sharedSecret: SecureBytes, ephemeral: AgreementPublicKey,
                                  recipient: AgreementPublicKey) -> SymmetricKey {
        let keyLength = AgreementPublicKey.byteCount
        let input = SecureBytes(count: keyLabel.count + sharedSecret.count + 2 * keyLength) { out in
            var offset = 0
            func append(_ bytes: UnsafeRawBufferPointer) {
                UnsafeMutableRawBufferPointer(rebasing: out[offset..<(offset + bytes.count)]).copyMemory(from: bytes)
                offset += bytes.count
            }
            keyLabel.withUnsafeBytes { append($0) }
            sharedSecret.withUnsafeBytes { append($0) }
            ephemeral.rawValue.withUnsafeBytes { append($0) }
            recipient.rawValue.withUnsafeBytes { append($0) }
        }
        let derived = SecureBytes(count: SymmetricKey.byteCount) { out in
            input.withUnsafeBytes { BLAKE2b.hash($0, key: nil, into: out) }
        }
        // 32 bytes by construction, the only way this can throw.
        return try! SymmetricKey(secret: derived)
    }
}
