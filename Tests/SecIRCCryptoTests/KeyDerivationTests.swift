import SecIRCCrypto
import Testing

/// `KDF` (crypto_kdf, BLAKE2b) and `Argon2id` (crypto_pwhash).
@Suite("Key derivation")
struct KeyDerivationTests {
    static let master = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

    struct KDFVector: Sendable, CustomTestStringConvertible {
        let id: UInt64
        let context: String
        let output: String
        var testDescription: String { "id \(id), context \(context)" }
    }

    /// crypto_kdf is BLAKE2b-256(key: master, salt: LE64(id) || 0^8, personal: context || 0^8, message: empty).
    /// Computed independently with Python's hashlib.blake2b(salt:person:).
    static let kdfVectors: [KDFVector] = [
        KDFVector(id: 1, context: "secIRC01", output: "f828256e1d3d8a4b8e177b1829938041c2f5b845408c5280d4d9355f1ccc0783"),
        KDFVector(id: 2, context: "secIRC01", output: "c1a025958952c807e1566ba6b349acd301ea83f8b0c606c4d868bbec4f952e01"),
        KDFVector(id: 1, context: "secIRC02", output: "deb10d824f083bfc55c0f9bb53be4f0b3989c567e52e5d2d230569cc79dd9156"),
    ]

    @Test("KDF known answers (BLAKE2b with salt and personalisation)", arguments: kdfVectors)
    func kdfKnownAnswer(_ vector: KDFVector) throws {
        let master = try SymmetricKey(bytes: hexBytes(Self.master))
        let derived = try KDF.derive(from: master, id: vector.id, context: vector.context)
        #expect(Hex.encode(derived.unsafeCopy()) == vector.output)
        let asKey = try KDF.deriveKey(from: master, id: vector.id, context: vector.context)
        #expect(asKey.withUnsafeBytes { Hex.encode($0) } == vector.output)
    }

    @Test("KDF is deterministic")
    func kdfDeterministic() throws {
        let master = seededKey("kdf master")
        let a = try KDF.derive(from: master, id: 42, context: "secIRC__")
        let b = try KDF.derive(from: master, id: 42, context: "secIRC__")
        #expect(a == b)
        #expect(try KDF.deriveKey(from: master, id: 42, context: "secIRC__") == KDF.deriveKey(from: master, id: 42, context: "secIRC__"))
    }

    @Test("distinct ids, contexts and master keys give distinct sub-keys")
    func kdfDistinct() throws {
        let master = seededKey("kdf master")
        var seen: [[UInt8]] = []
        for context in ["secIRCaa", "secIRCab", "SECIRCaa"] {
            for id: UInt64 in [0, 1, 2, 1 << 32, .max] {
                seen.append(try KDF.derive(from: master, id: id, context: context).unsafeCopy())
            }
        }
        seen.append(try KDF.derive(from: seededKey("other master"), id: 0, context: "secIRCaa").unsafeCopy())
        #expect(Set(seen.map { Hex.encode($0) }).count == seen.count)
    }

    @Test("sub-key lengths 16...64 are honoured; others throw", arguments: [16, 24, 32, 64])
    func kdfLengths(_ length: Int) throws {
        let master = seededKey("kdf master")
        #expect(try KDF.derive(from: master, id: 7, context: "lengths!", length: length).count == length)
    }

    @Test("sub-key lengths outside 16...64 throw invalidParameter", arguments: [0, 15, 65])
    func kdfBadLengths(_ length: Int) {
        let master = seededKey("kdf master")
        let error = #expect(throws: CryptoError.self) {
            try KDF.derive(from: master, id: 7, context: "lengths!", length: length)
        }
        if case .invalidParameter = error {} else { Issue.record("expected invalidParameter, got \(String(describing: error))") }
    }

    @Test("a context that is not exactly 8 bytes throws invalidLength", arguments: ["", "short", "secIRC0", "secIRC001", "sécIRC01"])
    func kdfBadContext(_ context: String) {
        let master = seededKey("kdf master")
        let expected = CryptoError.invalidLength(what: "KDF context", expected: 8, actual: context.utf8.count)
        #expect(throws: expected) { try KDF.derive(from: master, id: 1, context: context) }
        #expect(throws: expected) { try KDF.deriveKey(from: master, id: 1, context: context) }
    }

    @Test("the context length is counted in UTF-8 bytes")
    func kdfContextBytes() throws {
        let master = seededKey("kdf master")
        // "é" is two bytes, so this 7-character context is 8 bytes long.
        #expect(try KDF.derive(from: master, id: 1, context: "sécIRC0").count == 32)
    }

    // MARK: Argon2id

    /// libsodium's Argon2id minimum is 1 pass and 8 KiB; 64 KiB keeps the tests fast.
    static let fastCost = Argon2id.Cost(operations: 1, memoryBytes: 64 << 10)
    static let passphrase = Array("correct horse battery staple".utf8)

    @Test("Argon2id known answer (1 pass, 64 KiB), cross-checked with Python cryptography and PyNaCl")
    func argon2KnownAnswer() throws {
        let key = try Argon2id.deriveKey(passphrase: Self.passphrase, salt: Array(0..<16), cost: Self.fastCost)
        #expect(key.withUnsafeBytes { Hex.encode($0) } == "92dc5d67019623868bde079275e522f4b7e8213d3414ed85cbc2ac8a41117288")
    }

    @Test("Argon2id is deterministic for the same salt and differs for another salt, passphrase or cost")
    func argon2Determinism() throws {
        let salt = [UInt8](repeating: 0x5a, count: 16)
        let a = try Argon2id.deriveKey(passphrase: Self.passphrase, salt: salt, cost: Self.fastCost)
        let b = try Argon2id.deriveKey(passphrase: Self.passphrase, salt: salt, cost: Self.fastCost)
        #expect(a == b)

        let otherSalt = try Argon2id.deriveKey(passphrase: Self.passphrase, salt: flippingBit(0, of: salt), cost: Self.fastCost)
        #expect(otherSalt != a)
        let otherPassphrase = try Argon2id.deriveKey(passphrase: Array("correct horse battery stapler".utf8), salt: salt,
                                                     cost: Self.fastCost)
        #expect(otherPassphrase != a)
        let otherCost = try Argon2id.deriveKey(passphrase: Self.passphrase, salt: salt,
                                               cost: Argon2id.Cost(operations: 2, memoryBytes: 64 << 10))
        #expect(otherCost != a)
    }

    @Test("a salt that is not 16 bytes throws invalidLength", arguments: [0, 8, 15, 17, 32])
    func argon2BadSalt(_ length: Int) {
        #expect(throws: CryptoError.invalidLength(what: "Argon2id salt", expected: 16, actual: length)) {
            try Argon2id.deriveKey(passphrase: Self.passphrase, salt: [UInt8](repeating: 1, count: length), cost: Self.fastCost)
        }
    }

    @Test("an empty passphrase throws invalidParameter")
    func argon2EmptyPassphrase() {
        #expect(throws: CryptoError.invalidParameter("empty passphrase")) {
            try Argon2id.deriveKey(passphrase: [], salt: [UInt8](repeating: 1, count: 16), cost: Self.fastCost)
        }
    }

    @Test("a cost below libsodium's minimum throws invalidParameter",
          arguments: [Argon2id.Cost(operations: 0, memoryBytes: 64 << 10), Argon2id.Cost(operations: 1, memoryBytes: 4096)])
    func argon2BelowMinimum(_ cost: Argon2id.Cost) {
        #expect(throws: CryptoError.invalidParameter("Argon2id cost below libsodium's minimum")) {
            try Argon2id.deriveKey(passphrase: Self.passphrase, salt: [UInt8](repeating: 1, count: 16), cost: cost)
        }
    }

    @Test("libsodium's exact minimum cost (1 pass, 8 KiB) is accepted")
    func argon2Minimum() throws {
        let key = try Argon2id.deriveKey(passphrase: Self.passphrase, salt: [UInt8](repeating: 2, count: 16),
                                         cost: Argon2id.Cost(operations: 1, memoryBytes: 8 << 10))
        #expect(key != (try SymmetricKey(bytes: [UInt8](repeating: 0, count: 32))))
    }

    @Test("the named costs are ordered")
    func namedCosts() {
        #expect(Argon2id.Cost.interactive.operations <= Argon2id.Cost.moderate.operations)
        #expect(Argon2id.Cost.interactive.memoryBytes < Argon2id.Cost.moderate.memoryBytes)
    }
}
