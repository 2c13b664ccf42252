internal import CSodium

/// Incremental BLAKE2b (`crypto_generichash_init/update/final`) over state that lives on the
/// stack for the duration of `with(outputLength:_:)` and is wiped afterwards. Internal: the
/// building block of `HMACBLAKE2b`.
struct BLAKE2bStream {
    private let state: OpaquePointer
    private let outputLength: Int

    private init(state: OpaquePointer, outputLength: Int) {
        self.state = state
        self.outputLength = outputLength
    }

    /// Runs `body` with a fresh unkeyed stream whose digest is `outputLength` bytes (16...64).
    static func with<R>(outputLength: Int, _ body: (BLAKE2bStream) throws -> R) rethrows -> R {
        Sodium.ensureReady()
        precondition((BLAKE2b.minOutputLength...BLAKE2b.maxOutputLength).contains(outputLength), "BLAKE2b output length out of range")
        // libsodium's state type is declared 64-byte aligned, which Swift does not import (the
        // functions take an opaque pointer); allocate it aligned by hand.
        return try withUnsafeTemporaryAllocation(byteCount: crypto_generichash_statebytes(), alignment: 64) { raw in
            defer { sodium_memzero(raw.baseAddress, raw.count) }
            let state = OpaquePointer(raw.baseAddress!)
            let rc = crypto_generichash_init(state, nil, 0, outputLength)
            precondition(rc == 0, "crypto_generichash_init failed")
            return try body(BLAKE2bStream(state: state, outputLength: outputLength))
        }
    }

    /// Absorbs `data`.
    func update(_ data: UnsafeRawBufferPointer) {
        guard let base = data.baseAddress, data.count > 0 else { return }
        _ = crypto_generichash_update(state, base.assumingMemoryBound(to: UInt8.self), UInt64(data.count))
    }

    /// Absorbs one byte.
    func update(byte: UInt8) {
        withUnsafeBytes(of: byte) { update($0) }
    }

    /// Writes the digest (exactly `outputLength` bytes) to the front of `output`.
    func finish(into output: UnsafeMutableRawBufferPointer) {
        precondition(output.count >= outputLength, "BLAKE2b digest buffer too small")
        let rc = crypto_generichash_final(state, output.baseAddress!.assumingMemoryBound(to: UInt8.self), outputLength)
        precondition(rc == 0, "crypto_generichash_final failed")
    }
}
