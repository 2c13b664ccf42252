/// Noise's `HKDF(chaining_key, input_key_material, num_outputs)` (Noise §4.3) over
/// `HMACBLAKE2b`, with `HASHLEN` = 64:
/// ```
/// temp_key = HMAC-HASH(chaining_key, input_key_material)
/// output1  = HMAC-HASH(temp_key, 0x01)
/// output2  = HMAC-HASH(temp_key, output1 || 0x02)
/// output3  = HMAC-HASH(temp_key, output2 || 0x03)
/// ```
/// This is RFC 5869 HKDF with the chaining key as salt and empty info. Every output is 64 bytes
/// of zero-on-free memory; callers truncate to a cipher key themselves (Noise's `MixKey` and
/// `Split` take the first 32 bytes).
public enum NoiseHKDF {
    /// `HASHLEN` for BLAKE2b.
    public static let hashLength = HMACBLAKE2b.outputLength

    /// Two outputs (`MixKey`, `Split`). `inputKeyMaterial` is 0 or 32 bytes in Noise, but any
    /// length works.
    public static func derive2(chainingKey: SecureBytes, inputKeyMaterial: UnsafeRawBufferPointer) -> (SecureBytes, SecureBytes) {
        let outputs = derive(chainingKey: chainingKey, inputKeyMaterial: inputKeyMaterial, outputCount: 2)
        return (outputs[0], outputs[1])
    }

    /// Three outputs (`MixKeyAndHash`, used by PSK patterns).
    public static func derive3(chainingKey: SecureBytes, inputKeyMaterial: UnsafeRawBufferPointer) -> (SecureBytes, SecureBytes, SecureBytes) {
        let outputs = derive(chainingKey: chainingKey, inputKeyMaterial: inputKeyMaterial, outputCount: 3)
        return (outputs[0], outputs[1], outputs[2])
    }

    /// Array forms, for tests and callers that hold plain bytes (e.g. an empty input).
    public static func derive2(chainingKey: SecureBytes, inputKeyMaterial: [UInt8]) -> (SecureBytes, SecureBytes) {
        inputKeyMaterial.withUnsafeBytes { derive2(chainingKey: chainingKey, inputKeyMaterial: $0) }
    }

    public static func derive3(chainingKey: SecureBytes, inputKeyMaterial: [UInt8]) -> (SecureBytes, SecureBytes, SecureBytes) {
        inputKeyMaterial.withUnsafeBytes { derive3(chainingKey: chainingKey, inputKeyMaterial: $0) }
    }

    private static func derive(chainingKey: SecureBytes, inputKeyMaterial: UnsafeRawBufferPointer, outputCount: Int) -> [SecureBytes] {
        precondition((2...3).contains(outputCount), "Noise HKDF gives 2 or 3 outputs")
        let tempKey = chainingKey.withUnsafeBytes { ck in
            SecureBytes(count: hashLength) { HMACBLAKE2b.authenticate(inputKeyMaterial, key: ck, into: $0) }
        }
        var outputs: [SecureBytes] = []
        outputs.reserveCapacity(outputCount)
        tempKey.withUnsafeBytes { tk in
            for index in 1...outputCount {
                let previous = outputs.last
                outputs.append(SecureBytes(count: hashLength) { out in
                    HMACBLAKE2b.authenticate(key: tk, into: out) { stream in
                        previous?.withUnsafeBytes { stream.update($0) }
                        stream.update(byte: UInt8(index))
                    }
                })
            }
        }
        return outputs
    }
}
