import SecIRCCrypto
import Testing

/// SecureBytes, ConstantTime, Redacted and SymmetricKey: equality and never printing secrets.
@Suite("Secrets")
struct SecretsTests {
    static let secretBytes: [UInt8] = [0xde, 0xad, 0xbe, 0xef, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef]

    @Test("SecureBytes keeps its bytes and count")
    func contents() {
        let secret = SecureBytes(Self.secretBytes)
        #expect(secret.count == Self.secretBytes.count)
        #expect(secret.unsafeCopy() == Self.secretBytes)
        #expect(secret.withUnsafeBytes { Array($0) } == Self.secretBytes)

        let filled = SecureBytes(count: 4) { $0.copyBytes(from: [1, 2, 3, 4]) }
        #expect(filled.unsafeCopy() == [1, 2, 3, 4])

        let empty = SecureBytes([])
        #expect(empty.count == 0)
        #expect(empty.unsafeCopy() == [])
    }

    @Test("SecureBytes equality compares contents; lengths must match")
    func equality() {
        let a = SecureBytes(Self.secretBytes)
        #expect(a == SecureBytes(Self.secretBytes))
        #expect(a == a)
        // Same length, differing only in the first or the last byte.
        #expect(a != SecureBytes(flippingBit(0, of: Self.secretBytes)))
        #expect(a != SecureBytes(flippingBit(Self.secretBytes.count * 8 - 1, of: Self.secretBytes)))
        // A prefix is not equal.
        #expect(a != SecureBytes(Array(Self.secretBytes.dropLast())))
        #expect(SecureBytes(Array(Self.secretBytes.dropLast())) != a)
        #expect(SecureBytes([]) == SecureBytes([]))
        #expect(SecureBytes([]) != SecureBytes([0]))
    }

    @Test("a throwing initializer passes its error through")
    func throwingInitializer() {
        struct Refused: Error, Equatable {}
        #expect(throws: Refused()) { try SecureBytes(count: 16) { _ in throw Refused() } }
    }

    @Test("random SecureBytes follow the generator")
    func randomFill() {
        var a = SeededRandom(seed: "secure bytes")
        var b = SeededRandom(seed: "secure bytes")
        #expect(SecureBytes(randomCount: 48, using: &a) == SecureBytes(randomCount: 48, using: &b))
        var system = SystemRandom()
        #expect(SecureBytes(randomCount: 32, using: &system) != SecureBytes(randomCount: 32, using: &system))
    }

    @Test("ConstantTime.equal has the semantics of ==")
    func constantTimeEqual() {
        let bytes = Self.secretBytes
        #expect(ConstantTime.equal(bytes, bytes))
        #expect(ConstantTime.equal([], []))
        #expect(!ConstantTime.equal(bytes, []))
        #expect(!ConstantTime.equal(bytes, Array(bytes.dropLast())))
        #expect(!ConstantTime.equal(bytes, bytes + [0]))
        for bit in 0..<(bytes.count * 8) {
            #expect(!ConstantTime.equal(bytes, flippingBit(bit, of: bytes)))
        }
        bytes.withUnsafeBytes { a in
            let copy = bytes
            copy.withUnsafeBytes { b in #expect(ConstantTime.equal(a, b)) }
        }
    }

    @Test("ConstantTime.wipe zeroes arrays and buffers")
    func wipe() {
        var bytes = Self.secretBytes
        ConstantTime.wipe(&bytes)
        #expect(bytes == [UInt8](repeating: 0, count: Self.secretBytes.count))

        var other = Self.secretBytes
        other.withUnsafeMutableBytes { ConstantTime.wipe($0) }
        #expect(other.allSatisfy { $0 == 0 })

        var empty: [UInt8] = []
        ConstantTime.wipe(&empty)
        #expect(empty.isEmpty)
    }

    @Test("SecureBytes never shows its contents in descriptions")
    func secureBytesRedacted() {
        let secret = SecureBytes(Self.secretBytes)
        let hex = Hex.encode(Self.secretBytes)
        for text in [secret.description, secret.debugDescription, "\(secret)", String(describing: secret), String(reflecting: secret)] {
            #expect(!text.lowercased().contains(hex))
            #expect(!text.lowercased().contains("deadbeef"))
            #expect(!text.contains("222")) // 0xde in decimal
        }
        #expect(secret.description == "<redacted 12 bytes>")
        #expect(String(reflecting: secret) == "<redacted 12 bytes>")
    }

    @Test("Redacted<String> prints <redacted> and keeps its value")
    func redactedString() {
        let token = Redacted("hunter2-secret-token")
        #expect(token.description == "<redacted>")
        #expect(token.debugDescription == "<redacted>")
        #expect("\(token)" == "<redacted>")
        #expect(String(describing: token) == "<redacted>")
        #expect(String(reflecting: token) == "<redacted>")
        #expect(!"token=\(token)".contains("hunter2"))
        #expect(token.value == "hunter2-secret-token")
        #expect(token == Redacted("hunter2-secret-token"))
        #expect(token != Redacted("other"))

        var mutable = token
        mutable.value = "changed"
        #expect(mutable.description == "<redacted>")
        #expect(mutable.value == "changed")
    }

    @Test("Redacted hides values of other types, also inside collections")
    func redactedOther() {
        let port = Redacted(6697)
        #expect("\(port)" == "<redacted>")
        let list = [Redacted("alpha-secret"), Redacted("beta-secret")]
        let text = "\(list)"
        #expect(!text.contains("alpha-secret"))
        #expect(!text.contains("beta-secret"))
    }

    @Test("SymmetricKey descriptions are redacted")
    func symmetricKeyRedacted() throws {
        let bytes = (0..<32).map { UInt8($0 * 7 + 3) }
        let key = try SymmetricKey(bytes: bytes)
        let hex = Hex.encode(bytes)
        #expect(key.description == "SymmetricKey(<redacted>)")
        for text in ["\(key)", String(describing: key), String(reflecting: key)] {
            #expect(!text.lowercased().contains(hex))
            #expect(!text.lowercased().contains(String(hex.prefix(8))))
        }
        #expect(key.withUnsafeBytes { Array($0) } == bytes)
    }

    @Test("SymmetricKey equality and construction")
    func symmetricKeyEquality() throws {
        let bytes = [UInt8](repeating: 0x42, count: 32)
        #expect(try SymmetricKey(bytes: bytes) == SymmetricKey(bytes: bytes))
        #expect(try SymmetricKey(bytes: bytes) != SymmetricKey(bytes: flippingBit(255, of: bytes)))
        #expect(try SymmetricKey(secret: SecureBytes(bytes)) == SymmetricKey(bytes: bytes))
        #expect(seededKey("same") == seededKey("same"))
        #expect(seededKey("same") != seededKey("different"))
        var system = SystemRandom()
        #expect(SymmetricKey(using: &system) != SymmetricKey(using: &system))
    }

    @Test("SymmetricKey of the wrong length throws invalidLength", arguments: [0, 16, 31, 33, 64])
    func symmetricKeyWrongLength(_ count: Int) {
        let expected = CryptoError.invalidLength(what: "symmetric key", expected: 32, actual: count)
        #expect(throws: expected) { try SymmetricKey(bytes: [UInt8](repeating: 1, count: count)) }
        #expect(throws: expected) { try SymmetricKey(secret: SecureBytes([UInt8](repeating: 1, count: count))) }
    }

    @Test("CryptoError descriptions name the problem")
    func errorDescriptions() {
        #expect(CryptoError.invalidLength(what: "nonce", expected: 24, actual: 12).description == "nonce must be 24 bytes, got 12")
        #expect(CryptoError.authenticationFailed.description == "authentication failed")
        #expect(CryptoError.keyFile(path: "/k", reason: "missing").description == "/k: missing")
    }
}
