/// HMAC (RFC 2104) over BLAKE2b-512: block length 128 bytes, output 64 bytes. This is Noise's
/// `HMAC-HASH` for `BLAKE2b` (Noise §4.3); not to be confused with BLAKE2b's own keyed mode
/// (`BLAKE2b.hash(_:key:)`), which Noise does not use.
///
/// A key longer than the block is first hashed with BLAKE2b-512, a shorter one is zero-padded,
/// as RFC 2104 says.
public enum HMACBLAKE2b {
    /// BLAKE2b's block length: the HMAC pad length.
    public static let blockLength = 128
    /// HMAC-BLAKE2b output: a full BLAKE2b-512 digest.
    public static let outputLength = 64

    /// Writes HMAC(key, message) into `output` (at least 64 bytes), without heap allocation.
    public static func authenticate(_ message: UnsafeRawBufferPointer, key: UnsafeRawBufferPointer,
                                    into output: UnsafeMutableRawBufferPointer) {
        authenticate(key: key, into: output) { $0.update(message) }
    }

    /// HMAC(key, message) in zero-on-free memory.
    public static func authenticate(_ message: [UInt8], key: SecureBytes) -> SecureBytes {
        SecureBytes(count: outputLength) { out in
            message.withUnsafeBytes { m in key.withUnsafeBytes { k in authenticate(m, key: k, into: out) } }
        }
    }

    /// HMAC(key, whatever `feed` absorbs): lets callers hash several parts without joining them.
    static func authenticate(key: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer,
                             message feed: (BLAKE2bStream) -> Void) {
        precondition(output.count >= outputLength, "HMAC-BLAKE2b output buffer too small")
        withUnsafeTemporaryAllocation(byteCount: blockLength + outputLength, alignment: 16) { scratch in
            defer { ConstantTime.wipe(scratch) }
            let pad = UnsafeMutableRawBufferPointer(rebasing: scratch[0..<blockLength])
            let inner = UnsafeMutableRawBufferPointer(rebasing: scratch[blockLength...])
            pad.initializeMemory(as: UInt8.self, repeating: 0)
            if key.count > blockLength {
                BLAKE2b.hash(key, key: nil, into: UnsafeMutableRawBufferPointer(rebasing: pad[0..<outputLength]))
            } else if key.count > 0 {
                UnsafeMutableRawBufferPointer(rebasing: pad[0..<key.count]).copyMemory(from: key)
            }
            for i in 0..<blockLength { pad[i] ^= 0x36 }
            BLAKE2bStream.with(outputLength: outputLength) { stream in
                stream.update(UnsafeRawBufferPointer(pad))
                feed(stream)
                stream.finish(into: inner)
            }
            for i in 0..<blockLength { pad[i] ^= 0x36 ^ 0x5c }
            BLAKE2bStream.with(outputLength: outputLength) { stream in
                stream.update(UnsafeRawBufferPointer(pad))
                stream.update(UnsafeRawBufferPointer(inner))
                stream.finish(into: output)
            }
        }
    }
}
