import Foundation
import SecIRCCore
import SecIRCCrypto
import Testing

/// Keys and documents made from a fixed seed.
struct DirectoryFixture {
    var ring: [SigningPrivateKey] = []
    var relays: [SigningPrivateKey] = []
    var rng: SeededRandom

    init(ringSize: Int = 3, relayCount: Int = 3, seed: String = "directory fixture") {
        rng = SeededRandom(seed: seed)
        ring = (0..<ringSize).map { _ in SigningPrivateKey(using: &rng) }
        relays = (0..<relayCount).map { _ in SigningPrivateKey(using: &rng) }
    }

    var roster: Roster {
        Roster(members: ring.enumerated().map { i, key in
            Roster.Member(identityKey: key.publicKey, udp: "127.0.0.1:\(7000 + i)", http: "http://127.0.0.1:\(8000 + i)")
        })
    }

    mutating func descriptor(_ key: SigningPrivateKey, port: Int) -> RelayDescriptor {
        RelayDescriptor(
            identityKey: key.publicKey, linkKey: AgreementPrivateKey(using: &rng).publicKey,
            udp: "127.0.0.1:\(port)", http: "http://127.0.0.1:\(port + 1)",
            onionKeys: [
                .init(epoch: 1, key: AgreementPrivateKey(using: &rng).publicKey, validAfter: 1_000, validUntil: 2_000),
                .init(epoch: 2, key: AgreementPrivateKey(using: &rng).publicKey, validAfter: 2_000, validUntil: 3_000),
            ],
            capacity: 10_000, flags: ["mailbox"], published: 1_000)
    }

    mutating func directory(serial: UInt64 = 1, previous: Bytes32 = .zero) throws -> RelayDirectory {
        var documents: [SignedDocument] = []
        for (i, key) in relays.enumerated() {
            documents.append(try descriptor(key, port: 9000 + 10 * i).signed(by: key))
        }
        return RelayDirectory(serial: serial, previous: previous, validAfter: 1_000, validUntil: 4_600,
                              network: NetworkParameters(coverRate: 2, meanDelayMs: 50), roster: roster, relays: documents)
    }

    /// The directory signed by the ring members at `signers`.
    func sign(_ directory: RelayDirectory, by signers: [Int]) -> SignedDocument {
        var document = directory.unsignedDocument()
        for i in signers { document.sign(with: ring[i]) }
        return document
    }
}

@Suite struct DescriptorTests {
    /// `loop_rate` (λ_L) is written when set and read as 0 when absent (directories signed
    /// before it existed, and the vectors, keep their bytes).
    @Test func theLoopRateIsOptional() throws {
        let with = NetworkParameters(coverRate: 6, loopRate: 0.5, meanDelayMs: 50)
        let json = try JSONEncoder().encode(with)
        #expect(String(decoding: json, as: UTF8.self).contains("\"loop_rate\":0.5"))
        #expect(try JSONDecoder().decode(NetworkParameters.self, from: json) == with)
        let without = NetworkParameters(coverRate: 2, meanDelayMs: 50)
        let old = try JSONEncoder().encode(without)
        #expect(!String(decoding: old, as: UTF8.self).contains("loop_rate"))
        #expect(try JSONDecoder().decode(NetworkParameters.self, from: old).loopRate == 0)
    }

    /// `relay_cover_rate` likewise: written when set, 0 when absent.
    @Test func theRelayCoverRateIsOptional() throws {
        let with = NetworkParameters(coverRate: 2, loopRate: 0.5, relayCoverRate: 0.25, meanDelayMs: 50)
        let json = try JSONEncoder().encode(with)
        #expect(String(decoding: json, as: UTF8.self).contains("\"relay_cover_rate\":0.25"))
        #expect(try JSONDecoder().decode(NetworkParameters.self, from: json) == with)
        let old = try JSONEncoder().encode(NetworkParameters(coverRate: 2, loopRate: 0.5, meanDelayMs: 50))
        #expect(!String(decoding: old, as: UTF8.self).contains("relay_cover_rate"))
        #expect(try JSONDecoder().decode(NetworkParameters.self, from: old).relayCoverRate == 0)
    }

    @Test func signedDescriptorVerifiesFromItsJSON() throws {
        var f = DirectoryFixture()
        let key = f.relays[0]
        let descriptor = f.descriptor(key, port: 6690)
        let json = try descriptor.signed(by: key).jsonBytes()
        let verified = try Unverified<RelayDescriptor>(json: json).verified()
        #expect(verified == descriptor)
        #expect(verified.id == key.publicKey.id)
        #expect(verified.onionKey(epoch: 2)?.validAfter == 2_000)
    }

    @Test func signingWithAnotherKeyIsRefused() throws {
        var f = DirectoryFixture()
        let descriptor = f.descriptor(f.relays[0], port: 6690)
        #expect(throws: DirectoryError.self) { try descriptor.signed(by: f.relays[1]) }
        // A signature by another key over the same body does not count.
        var document = SignedDocument(type: RelayDescriptor.documentType, body: try descriptor.signed(by: f.relays[0]).body)
        document.sign(with: f.relays[1])
        #expect(throws: DirectoryError.badSelfSignature) { try Unverified<RelayDescriptor>(document).verified() }
    }

    /// The signature covers the exact bytes: re-encoding the same content differently (here, a
    /// space added to the JSON) is a different body, and the old signature does not cover it.
    @Test func signatureCoversExactBytes() throws {
        var f = DirectoryFixture()
        var document = try f.descriptor(f.relays[0], port: 6690).signed(by: f.relays[0])
        document.body = Array(" ".utf8) + document.body
        #expect(throws: DirectoryError.badSelfSignature) { try Unverified<RelayDescriptor>(document).verified() }
    }

    @Test func everyBodyBitFlipIsRejected() throws {
        var f = DirectoryFixture()
        let document = try f.descriptor(f.relays[0], port: 6690).signed(by: f.relays[0])
        for bit in stride(from: 0, to: document.body.count * 8, by: 3) {
            var tampered = document
            tampered.body[bit / 8] ^= 1 << UInt8(bit % 8)
            #expect(throws: DirectoryError.self) { try Unverified<RelayDescriptor>(tampered).verified() }
        }
    }

    @Test func wrongDocumentTypeIsRefused() throws {
        var f = DirectoryFixture()
        var document = try f.descriptor(f.relays[0], port: 6690).signed(by: f.relays[0])
        document.type = RelayDirectory.documentType
        #expect(throws: DirectoryError.wrongType(expected: RelayDescriptor.documentType, found: RelayDirectory.documentType)) {
            try Unverified<RelayDescriptor>(document)
        }
    }

    @Test func invalidFieldsAreRefused() throws {
        var f = DirectoryFixture()
        let key = f.relays[0]
        var noKeys = f.descriptor(key, port: 1)
        noKeys.onionKeys = []
        var repeated = f.descriptor(key, port: 1)
        repeated.onionKeys[1].epoch = repeated.onionKeys[0].epoch
        var future = f.descriptor(key, port: 1)
        future.version = 2
        for bad in [noKeys, repeated, future] {
            #expect(throws: DirectoryError.self) { try Unverified<RelayDescriptor>(bad.signed(by: key)).verified() }
        }
    }

    /// `udp`, `http`, flags and capacity have strict syntax and lengths (docs/PROTOCOL.md §3.2):
    /// a descriptor stays a few KiB, so the directory's byte limit holds thousands.
    @Test(arguments: [
        ("udp", "127.0.0.1:6690", true), ("udp", "[2001:db8::1]:65535", true), ("udp", "[::ffff:192.0.2.1]:1", true),
        ("udp", "relay.example:6690", false), ("udp", "127.0.0.1", false), ("udp", "127.0.0.1:0", false), ("udp", "127.0.0.1:065", false),
        ("udp", "127.0.0.1:65536", false), ("udp", "[::1:6690", false), ("udp", "[]:1", false), ("udp", ":1", false), ("udp", "", false),
        ("udp", "[fe80::1%eth0]:1", false), ("udp", "[" + String(repeating: "0:", count: 30) + "1]:1", false),
        ("http", "http://127.0.0.1:6691", true), ("http", "https://relay.example:6691/#spki=AbC+/=", true),
        ("http", "https://" + String(repeating: "a", count: 248), true), ("http", "https://" + String(repeating: "a", count: 249), false),
        ("http", "ftp://relay.example", false), ("http", "http://", false), ("http", "http:///x", false), ("http", "HTTP://a", false),
        ("http", "http://a b", false), ("http", "http://a\"b", false), ("http", "http://a\u{0}", false), ("http", "http://é", false),
        ("flag", "first_ring", true), ("flag", "bench-sink", true), ("flag", "Mailbox", false), ("flag", "", false),
        ("flag", String(repeating: "x", count: 33), false), ("flag", "a b", false),
    ])
    func fieldsHaveStrictSyntax(field: String, value: String, valid: Bool) throws {
        var f = DirectoryFixture()
        let key = f.relays[0]
        var descriptor = f.descriptor(key, port: 1)
        switch field {
        case "udp": descriptor.udp = value
        case "http": descriptor.http = value
        default: descriptor.flags = [value]
        }
        let verified = Result { try Unverified<RelayDescriptor>(descriptor.signed(by: key)).verified() }
        #expect(((try? verified.get()) != nil) == valid, "\(field) \(value)")
    }

    @Test func capacityAndFlagCountAreBounded() throws {
        var f = DirectoryFixture()
        let key = f.relays[0]
        var descriptor = f.descriptor(key, port: 1)
        for (capacity, flags, valid) in [(0, 16, true), (RelayDescriptor.maximumCapacity, 0, true), (-1, 0, false),
                                         (RelayDescriptor.maximumCapacity + 1, 0, false), (1, 17, false)] {
            descriptor.capacity = capacity
            descriptor.flags = (0..<flags).map { "f\($0)" }
            #expect(((try? Unverified<RelayDescriptor>(descriptor.signed(by: key)).verified()) != nil) == valid, "\(capacity) \(flags)")
        }
    }
}

@Suite struct DirectoryTests {
    @Test func thresholdOfRosterSignaturesVerifies() throws {
        var f = DirectoryFixture()
        let directory = try f.directory()
        let json = f.sign(directory, by: [0, 2]).jsonBytes()
        let verified = try Unverified<RelayDirectory>(json: json).verified(trusting: f.roster, now: 1_500)
        #expect(verified == directory)
        #expect(try verified.descriptors().map(\.id) == f.relays.map(\.publicKey.id))
        #expect(verified.network.packetSize == 1232)
        #expect(verified.roster.threshold == 2)
    }

    /// Table: which signers make a 2-of-3 directory valid.
    @Test(arguments: [
        ([Int](), false), ([0], false), ([1], false), ([0, 0], false),
        ([0, 1], true), ([1, 2], true), ([0, 1, 2], true),
    ])
    func onlyThresholdManyDistinctMembersCount(signers: [Int], valid: Bool) throws {
        var f = DirectoryFixture()
        let document = f.sign(try f.directory(), by: signers)
        let result = Result { try Unverified<RelayDirectory>(document).verified(trusting: f.roster, now: 1_500) }
        let accepted = (try? result.get()) != nil
        #expect(accepted == valid)
    }

    /// One member's signature entry pasted twice (not signed twice: `sign` would replace it)
    /// still counts once, whether it reaches the verifier as a value or as JSON.
    @Test func aPastedSignatureEntryCountsOnce() throws {
        var f = DirectoryFixture()
        var document = f.sign(try f.directory(), by: [0])
        document.signatures.append(document.signatures[0])
        #expect(document.signatures.count == 2)
        #expect(throws: DirectoryError.insufficientSignatures(valid: 1, required: 2)) {
            try Unverified<RelayDirectory>(document).verified(trusting: f.roster, now: 1_500)
        }
        #expect(throws: (any Error).self) {
            try Unverified<RelayDirectory>(json: document.jsonBytes()).verified(trusting: f.roster, now: 1_500)
        }
    }

    @Test func signaturesByOutsidersDoNotCount() throws {
        var f = DirectoryFixture()
        var document = f.sign(try f.directory(), by: [0])
        document.sign(with: f.relays[0])
        document.sign(with: f.relays[1])
        #expect(throws: DirectoryError.insufficientSignatures(valid: 1, required: 2)) {
            try Unverified<RelayDirectory>(document).verified(trusting: f.roster, now: 1_500)
        }
    }

    @Test func validityWindowIsEnforced() throws {
        var f = DirectoryFixture()
        let document = f.sign(try f.directory(), by: [0, 1])
        for now: Int64 in [999, 4_600, 10_000] {
            #expect(throws: DirectoryError.notValidAt(now: now, validAfter: 1_000, validUntil: 4_600)) {
                try Unverified<RelayDirectory>(document).verified(trusting: f.roster, now: now)
            }
        }
    }

    @Test func aDescriptorWithABadSignatureSpoilsTheDirectory() throws {
        var f = DirectoryFixture()
        var directory = try f.directory()
        directory.relays[1].body[3] ^= 1
        #expect(throws: DirectoryError.self) {
            try Unverified<RelayDirectory>(f.sign(directory, by: [0, 1])).verified(trusting: f.roster, now: 1_500)
        }
    }

    @Test func chainLinksByHashAndSerial() throws {
        var f = DirectoryFixture()
        let first = try f.directory(serial: 1)
        let firstDocument = f.sign(first, by: [0, 1])
        let second = try f.directory(serial: 2, previous: firstDocument.bodyHash)
        try second.checkFollows(first, document: firstDocument)

        let skipped = try f.directory(serial: 3, previous: firstDocument.bodyHash)
        #expect(throws: DirectoryError.self) { try skipped.checkFollows(first, document: firstDocument) }
        let forked = try f.directory(serial: 2, previous: .zero)
        #expect(throws: DirectoryError.brokenChain("previous hash differs")) { try forked.checkFollows(first, document: firstDocument) }
    }

    /// `earlier` links a directory to those before `previous`: a verifier that skipped some
    /// still checks the chain; the list is bounded and absent from the body when empty.
    @Test func earlierHashesLinkSkippedDirectories() throws {
        var f = DirectoryFixture()
        let first = try f.directory(serial: 1)
        let firstDocument = f.sign(first, by: [0, 1])
        let hashes = try (2...3).map { try Bytes32(Array(repeating: UInt8($0), count: 32)) }
        var fourth = try f.directory(serial: 4, previous: hashes[1])
        fourth.earlier = [hashes[0], firstDocument.bodyHash]
        let decoded = try Unverified<RelayDirectory>(f.sign(fourth, by: [0, 1])).verified(trusting: f.roster, now: 1_500)
        #expect(decoded.earlier == fourth.earlier)
        try decoded.checkFollows(first, document: firstDocument)
        #expect(decoded.linkedHash(serial: 3) == hashes[1] && decoded.linkedHash(serial: 2) == hashes[0])
        #expect(decoded.earlierForNext() == [hashes[1], hashes[0], firstDocument.bodyHash])

        var wrong = fourth
        wrong.earlier = [hashes[0], hashes[1]]
        #expect(throws: DirectoryError.brokenChain("previous hash differs")) { try wrong.checkFollows(first, document: firstDocument) }

        var tooLong = try f.directory(serial: 100, previous: hashes[0])
        tooLong.earlier = Array(repeating: hashes[0], count: RelayDirectory.maximumEarlier + 1)
        #expect(throws: DirectoryError.self) { try tooLong.validate() }
        var beforeTheFirst = try f.directory(serial: 3, previous: hashes[0])
        beforeTheFirst.earlier = [hashes[0], hashes[1]]
        #expect(throws: DirectoryError.self) { try beforeTheFirst.validate() }
        let plain = try f.directory(serial: 2, previous: hashes[0])
        #expect(!String(decoding: plain.unsignedDocument().body, as: UTF8.self).contains("earlier"))
    }

    @Test func rosterRules() {
        let f = DirectoryFixture(ringSize: 4)
        var roster = f.roster
        #expect(roster.threshold == 3)
        roster.threshold = 2
        #expect(throws: DirectoryError.self) { try roster.validate() }
        roster.threshold = 5
        #expect(throws: DirectoryError.self) { try roster.validate() }
        roster = Roster(members: [f.roster.members[0], f.roster.members[0]])
        #expect(throws: DirectoryError.self) { try roster.validate() }
    }

    @Test func malformedEnvelopesGiveClearErrors() {
        let cases: [String] = [
            "", "{", "[]", "null", "{\"type\":\"secirc-directory-v1\"}",
            "{\"type\":\"secirc-directory-v1\",\"body\":\"@@@\",\"signatures\":[]}",
            "{\"type\":\"secirc-directory-v1\",\"body\":\"\",\"signatures\":[{\"key\":\"00\",\"sig\":\"00\"}]}",
        ]
        for text in cases {
            #expect(throws: DirectoryError.self) { try Unverified<RelayDirectory>(json: Array(text.utf8)) }
        }
        let oversized = [UInt8](repeating: UInt8(ascii: " "), count: SignedDocument.maximumEncodedLength + 1)
        #expect(throws: DirectoryError.malformed("larger than \(SignedDocument.maximumEncodedLength) bytes")) {
            try SignedDocument.decode(json: oversized)
        }
    }

    @Test func truncatedAndRandomInputsNeverTrap() throws {
        var f = DirectoryFixture(relayCount: 1)
        let json = f.sign(try f.directory(), by: [0, 1]).jsonBytes()
        var rng = SeededRandom(seed: "directory fuzz")
        var accepted = 0
        for cut in stride(from: 0, to: json.count, by: 7) {
            if (try? Unverified<RelayDirectory>(json: Array(json[..<cut])).verified(trusting: f.roster, now: 1_500)) != nil { accepted += 1 }
        }
        for _ in 0..<3_000 {
            var mutated = json
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                mutated[Int.random(in: 0..<mutated.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            }
            _ = try? Unverified<RelayDirectory>(json: mutated).verified(trusting: f.roster, now: 1_500)
            _ = try? Unverified<RelayDescriptor>(json: rng.bytes(Int.random(in: 0...300, using: &rng))).verified()
        }
        #expect(accepted == 0)
    }
}
