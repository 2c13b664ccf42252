internal import CSodium

/// BLAKE2b (`crypto_generichash`), plain or keyed. Output 16...64 bytes, key 16...64 bytes.
public enum BLAKE2b {
    public static let minOutputLength = 16
    public static let maxOutputLength = 64

    /// Plain BLAKE2b of `data`.
    public static func hash(_ data: [UInt8], outputLength: Int = 32) -> [UInt8] {
        data.withUnsafeBytes { hash($0, outputLength: outputLength, key: nil) }
    }

    /// Keyed BLAKE2b (a MAC / PRF) of `data` under `key`.
    public static func hash(_ data: [UInt8], key: SymmetricKey, outputLength: Int = 32) -> [UInt8] {
        data.withUnsafeBytes { d in key.withUnsafeBytes { k in hash(d, outputLength: outputLength, key: k) } }
    }

    /// Core entry point over raw buffers; `key` may be nil. Lengths outside BLAKE2b's range trap
    /// (they are programming errors, never input-dependent).
    public static func hash(_ data: UnsafeRawBufferPointer, outputLength: Int, key: UnsafeRawBufferPointer?) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: outputLength)
        out.withUnsafeMutableBytes { hash(data, key: key, into: $0) }
        return out
    }

    /// Writes `output.count` bytes of BLAKE2b(data) into `output`, without allocating.
    @inline(__always)
    public static func hash(_ data: UnsafeRawBufferPointer, key: UnsafeRawBufferPointer?, into output: UnsafeMutableRawBufferPointer) {
        Sodium.ensureReady()
        precondition((minOutputLength...maxOutputLength).contains(output.count), "BLAKE2b output length out of range")
        if let key { precondition((16...64).contains(key.count), "BLAKE2b key length out of range") }
        let rc = crypto_generichash(
            output.baseAddress!.assumingMemoryBound(to: UInt8.self), output.count,
            data.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(data.count),
            key?.baseAddress?.assumingMemoryBound(to: UInt8.self), key?.count ?? 0)
        precondition(rc == 0, "crypto_generichash failed")
    }
}

/// SHA-256 (FIPS 180-4).
public enum SHA256 {
    public static let outputLength = 32

    public static func hash(_ data: [UInt8]) -> Bytes32 {
        Sodium.ensureReady()
        return data.withUnsafeBytes { d in
            Bytes32 { out in
                _ = crypto_hash_sha256(out.baseAddress!.assumingMemoryBound(to: UInt8.self),
                                       d.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(d.count))
            }
        }
    }
}
