import SecIRCCrypto
import Testing

/// Hex text and Bytes32.
@Suite("Hex and Bytes32")
struct EncodingTests {
    @Test("hex round trip over every byte value")
    func roundTrip() throws {
        let all = (0...255).map { UInt8($0) }
        let text = Hex.encode(all)
        #expect(text.count == 512)
        #expect(text.hasPrefix("000102"))
        #expect(text.hasSuffix("fdfeff"))
        #expect(try Hex.decode(text) == all)
        #expect(Hex.encode([]) == "")
        #expect(try Hex.decode("") == [])
    }

    @Test("hex output is lowercase; uppercase and mixed case are accepted")
    func cases() throws {
        #expect(Hex.encode([0xab, 0xcd, 0xef, 0x09]) == "abcdef09")
        #expect(try Hex.decode("ABCDEF09") == [0xab, 0xcd, 0xef, 0x09])
        #expect(try Hex.decode("aBcDeF09") == [0xab, 0xcd, 0xef, 0x09])
        #expect(try Hex.decode("DEADbeef") == [0xde, 0xad, 0xbe, 0xef])
    }

    @Test("odd-length hex throws invalidEncoding", arguments: ["0", "abc", "00112", "f"])
    func oddLength(_ text: String) {
        #expect(throws: CryptoError.invalidEncoding("hex text has an odd length")) { try Hex.decode(text) }
    }

    @Test("non-hex characters throw invalidEncoding", arguments: ["zz", "0g", "g0", "12 4", "0x12", "-1", "é0", "1\u{0}"])
    func nonHex(_ text: String) {
        let error = #expect(throws: CryptoError.self) { try Hex.decode(text) }
        if case .invalidEncoding = error {} else { Issue.record("expected invalidEncoding, got \(String(describing: error))") }
    }

    @Test("Bytes32 round-trips through bytes and hex")
    func bytes32() throws {
        let bytes = (0..<32).map { UInt8($0 * 3) }
        let value = try Bytes32(bytes)
        #expect(value.bytes == bytes)
        #expect(value.hex == Hex.encode(bytes))
        #expect(value.description == value.hex)
        #expect(try Bytes32(hex: value.hex) == value)
        #expect(try Bytes32(hex: value.hex.uppercased()) == value)
        #expect(try Bytes32(bytes[...]) == value) // any collection
        #expect(bytes.withUnsafeBytes { Bytes32(copying: $0) } == value)
        #expect(value.withUnsafeBytes { Array($0) } == bytes)
        let filled = Bytes32 { $0.copyBytes(from: bytes) }
        #expect(filled == value)
    }

    @Test("Bytes32 equality and hashing follow the bytes")
    func bytes32Hashable() throws {
        let a = try Bytes32([UInt8](repeating: 1, count: 32))
        let b = try Bytes32(flippingBit(255, of: [UInt8](repeating: 1, count: 32)))
        #expect(a != b)
        #expect(Set([a, a, b, Bytes32.zero]).count == 3)
        #expect(Bytes32.zero.bytes == [UInt8](repeating: 0, count: 32))
        #expect(Bytes32.zero.hex == String(repeating: "0", count: 64))
    }

    @Test("Bytes32 of the wrong length throws invalidLength", arguments: [0, 1, 31, 33, 64])
    func bytes32WrongLength(_ count: Int) {
        #expect(throws: CryptoError.invalidLength(what: "value", expected: 32, actual: count)) {
            try Bytes32([UInt8](repeating: 0, count: count))
        }
        #expect(throws: CryptoError.invalidLength(what: "thing", expected: 32, actual: count)) {
            try Bytes32(hex: String(repeating: "ab", count: count), what: "thing")
        }
    }

    @Test("Bytes32(hex:) rejects malformed hex")
    func bytes32BadHex() {
        #expect(throws: CryptoError.invalidEncoding("hex text has an odd length")) {
            try Bytes32(hex: String(repeating: "a", count: 63))
        }
        let error = #expect(throws: CryptoError.self) { try Bytes32(hex: String(repeating: "zz", count: 32)) }
        if case .invalidEncoding = error {} else { Issue.record("expected invalidEncoding, got \(String(describing: error))") }
    }

    @Test("Bytes32 order is the bytes' lexicographic order")
    func bytes32Order() throws {
        var rng = SystemRandom()
        var samples = (0..<200).map { _ in try! Bytes32(rng.bytes(32)) }
        // Pairs that differ only late, and equal ones.
        let base = rng.bytes(32)
        for i in 0..<32 {
            var other = base
            other[i] ^= 0x80
            samples += [try Bytes32(base), try Bytes32(other)]
        }
        for a in samples {
            for b in samples.prefix(60) {
                #expect(a.lexicographicallyPrecedes(b) == a.bytes.lexicographicallyPrecedes(b.bytes))
            }
        }
    }
}
