import SecIRCCore
import SecIRCCrypto
import Testing

@Suite("Messaging: SealedPacket")
struct MessagingSealedPacketTests {
    static let bob = MessagingFixture.identity("sealed bob").agreement
    static let carol = MessagingFixture.identity("sealed carol").agreement
    static let transfer = MessagingFixture.messageID("sealed transfer")

    /// The spec's construction written out independently of `SealedPacket`, so the tests check
    /// the documented bytes, and can seal plaintexts that `seal` would refuse to make.
    static func sealRaw(_ plaintext: [UInt8], to recipient: AgreementPublicKey, ephemeral: AgreementPrivateKey? = nil,
                        rng: inout SeededRandom) throws -> [UInt8] {
        let e = ephemeral ?? AgreementPrivateKey(using: &rng)
        let dh = try e.sharedSecret(with: recipient)
        let key = try SymmetricKey(bytes: BLAKE2b.hash(Array("secIRC sealed v1".utf8) + dh.unsafeCopy()
                                                       + e.publicKey.bytes + recipient.bytes))
        let nonce = rng.bytes(24)
        return try e.publicKey.bytes + nonce
            + XChaCha20Poly1305.seal(plaintext, key: key, nonce: nonce, associatedData: e.publicKey.bytes + recipient.bytes)
    }

    /// A fragment plaintext with the given header fields, padded to 742 bytes (or `padding`).
    static func plaintext(version: UInt8 = 1, index: UInt16 = 0, count: UInt16 = 1, total: UInt32, dataLength: UInt16? = nil,
                          data: [UInt8], padding: [UInt8]? = nil) -> [UInt8] {
        var w = ByteWriter()
        w.write(version)
        w.write(transfer.bytes)
        w.write(index)
        w.write(count)
        w.write(total)
        w.write(dataLength ?? UInt16(data.count))
        w.write(data)
        w.write(padding ?? [UInt8](repeating: 0, count: 742 - w.bytes.count))
        return w.bytes
    }

    @Test func standardGeometryLengths() {
        #expect(PacketGeometry.standard.bodyLength == 814)
        #expect(PacketGeometry.standard.sealedPlaintextLength == 742)
        #expect(PacketGeometry.standard.fragmentCapacity == 715)
        #expect(SealedPacket.overheadLength == 72)
        #expect(SealedPacket.fragmentHeaderLength == 27)
    }

    @Test(arguments: [0, 1, 714, 715, 716, 2000, 128 * 715])
    func fragmentsAreCanonical(_ length: Int) throws {
        let message = MessagingFixture.bytes(length, seed: "fragments \(length)")
        let fragments = try SealedPacket.fragments(of: message, transferID: Self.transfer)
        #expect(fragments.count == max(1, (length + 714) / 715))
        #expect(fragments.flatMap(\.data) == message)
        for (index, fragment) in fragments.enumerated() {
            #expect(fragment.index == index)
            #expect(fragment.count == fragments.count)
            #expect(fragment.totalLength == length)
            #expect(fragment.transferID == Self.transfer)
            if index < fragments.count - 1 { #expect(fragment.data.count == 715) }
        }
    }

    @Test func tooLargeForMaximumFragments() {
        let message = [UInt8](repeating: 0, count: 128 * 715 + 1)
        #expect(throws: SealedPacketError.tooLarge(length: 128 * 715 + 1, maximum: 128 * 715)) {
            try SealedPacket.fragments(of: message, transferID: Self.transfer)
        }
    }

    @Test func sealOpenRoundTrip() throws {
        var rng = SeededRandom(seed: "seal round trip")
        let message = MessagingFixture.bytes(2000, seed: "sealed message")
        for fragment in try SealedPacket.fragments(of: message, transferID: Self.transfer) {
            let body = try SealedPacket.seal(fragment, to: Self.bob.publicKey, rng: &rng)
            #expect(body.count == 814)
            #expect(try SealedPacket.open(body, with: Self.bob) == fragment)
            #expect(throws: SealedPacketError.notForUs) { try SealedPacket.open(body, with: Self.carol) }
        }
    }

    @Test func sealIsDeterministicForASeedAndFreshPerPacket() throws {
        let fragment = try #require(try SealedPacket.fragments(of: [1, 2, 3], transferID: Self.transfer).first)
        var a = SeededRandom(seed: "same")
        var b = SeededRandom(seed: "same")
        let first = try SealedPacket.seal(fragment, to: Self.bob.publicKey, rng: &a)
        #expect(first == (try SealedPacket.seal(fragment, to: Self.bob.publicKey, rng: &b)))
        let second = try SealedPacket.seal(fragment, to: Self.bob.publicKey, rng: &a)
        #expect(first != second)
        #expect(first[0..<56] != second[0..<56])
    }

    @Test func matchesTheDocumentedConstruction() throws {
        var rng = SeededRandom(seed: "independent")
        let data = Array("independent construction".utf8)
        let body = try Self.sealRaw(Self.plaintext(total: UInt32(data.count), data: data), to: Self.bob.publicKey, rng: &rng)
        #expect(body.count == 814)
        let fragment = try SealedPacket.open(body, with: Self.bob)
        #expect(fragment == Fragment(transferID: Self.transfer, index: 0, count: 1, totalLength: data.count, data: data))

        // And the other way: `seal` with a known ephemeral key gives what the formula gives.
        var sealRNG = SeededRandom(seed: "known ephemeral")
        let sealed = try SealedPacket.seal(fragment, to: Self.bob.publicKey, rng: &sealRNG)
        var rawRNG = SeededRandom(seed: "known ephemeral")
        let ephemeral = AgreementPrivateKey(using: &rawRNG)
        let raw = try Self.sealRaw(Self.plaintext(total: UInt32(data.count), data: data), to: Self.bob.publicKey,
                                   ephemeral: ephemeral, rng: &rawRNG)
        #expect(sealed == raw)
    }

    @Test func everyTamperedByteFailsAuthentication() throws {
        var rng = SeededRandom(seed: "tamper")
        let fragment = try #require(try SealedPacket.fragments(of: [9, 9, 9], transferID: Self.transfer).first)
        let body = try SealedPacket.seal(fragment, to: Self.bob.publicKey, rng: &rng)
        for offset in Array(stride(from: 0, to: body.count, by: 7)) + [body.count - 1] {
            var tampered = body
            tampered[offset] ^= 0x80
            #expect(throws: SealedPacketError.notForUs, "offset \(offset)") { try SealedPacket.open(tampered, with: Self.bob) }
        }
    }

    @Test func wrongLengthIsCheckedFirst() throws {
        for length in [0, 1, 813, 815, 1232] {
            #expect(throws: SealedPacketError.wrongLength(length)) {
                try SealedPacket.open([UInt8](repeating: 0, count: length), with: Self.bob)
            }
        }
    }

    @Test func lowOrderKeysAreRefused() throws {
        // All zeros: a low-order point; X25519 with it gives all zeros.
        let zero = AgreementPublicKey(rawValue: .zero)
        #expect(throws: SealedPacketError.notForUs) {
            try SealedPacket.open(zero.bytes + [UInt8](repeating: 0, count: 814 - 32), with: Self.bob)
        }
        var rng = SeededRandom(seed: "low order")
        let fragment = try #require(try SealedPacket.fragments(of: [], transferID: Self.transfer).first)
        #expect(throws: SealedPacketError.invalidRecipientKey) { try SealedPacket.seal(fragment, to: zero, rng: &rng) }
    }

    @Test func invalidFragmentsAreNotSealed() {
        var rng = SeededRandom(seed: "invalid fragments")
        let bad = [
            Fragment(transferID: Self.transfer, index: 0, count: 0, totalLength: 0, data: []),
            Fragment(transferID: Self.transfer, index: 1, count: 1, totalLength: 0, data: []),
            Fragment(transferID: Self.transfer, index: 0, count: 129, totalLength: 129 * 715, data: [UInt8](repeating: 0, count: 715)),
            Fragment(transferID: Self.transfer, index: -1, count: 2, totalLength: 716, data: []),
            Fragment(transferID: Self.transfer, index: 0, count: 1, totalLength: 716, data: [UInt8](repeating: 0, count: 716)),
            Fragment(transferID: Self.transfer, index: 0, count: 1, totalLength: 3, data: [1, 2]),
            Fragment(transferID: Self.transfer, index: 0, count: 2, totalLength: 715, data: [UInt8](repeating: 0, count: 715)),
            Fragment(transferID: Self.transfer, index: 0, count: 2, totalLength: 800, data: [UInt8](repeating: 0, count: 100)),
        ]
        for fragment in bad {
            #expect(throws: SealedPacketError.self) { try SealedPacket.seal(fragment, to: Self.bob.publicKey, rng: &rng) }
            do {
                _ = try SealedPacket.seal(fragment, to: Self.bob.publicKey, rng: &rng)
            } catch {
                guard case .invalidFragment = error else { Issue.record("\(fragment): \(error)"); continue }
            }
        }
    }

    static let malformedPlaintexts: [String: [UInt8]] = [
        "version": plaintext(version: 2, total: 1, data: [1]),
        "count 0": plaintext(count: 0, total: 0, data: []),
        "count 129": plaintext(count: 129, total: 129 * 715, dataLength: 715, data: []),
        "index = count": plaintext(index: 1, count: 1, total: 1, data: [1]),
        "data over capacity": plaintext(total: 716, dataLength: 716, data: []),
        "data length vs total": plaintext(total: 5, data: [1, 2, 3]),
        "short middle fragment": plaintext(index: 0, count: 2, total: 800, data: [1]),
        "total too small for count": plaintext(index: 1, count: 2, total: 715, dataLength: 0, data: []),
        "non-zero padding": plaintext(total: 1, data: [1], padding: [UInt8](repeating: 0, count: 713) + [1]),
    ]

    @Test(arguments: malformedPlaintexts.keys.sorted())
    func authenticatedButMalformedHeaders(_ name: String) throws {
        let plaintext = try #require(Self.malformedPlaintexts[name])
        #expect(plaintext.count == 742, "\(name)")
        var rng = SeededRandom(seed: "malformed \(name)")
        let body = try Self.sealRaw(plaintext, to: Self.bob.publicKey, rng: &rng)
        do {
            let fragment = try SealedPacket.open(body, with: Self.bob)
            Issue.record("\(name): opened as \(fragment)")
        } catch {
            guard case .malformed = error else { Issue.record("\(name): \(error)"); return }
        }
    }

    @Test func otherGeometries() throws {
        let larger = try PacketGeometry(datagramSize: 1500, maxHops: 3)
        var rng = SeededRandom(seed: "geometry")
        let message = MessagingFixture.bytes(3000, seed: "geometry message")
        let fragments = try SealedPacket.fragments(of: message, transferID: Self.transfer, geometry: larger)
        #expect(fragments.first?.data.count == larger.fragmentCapacity)
        var opened: [UInt8] = []
        for fragment in fragments {
            let body = try SealedPacket.seal(fragment, to: Self.bob.publicKey, geometry: larger, rng: &rng)
            #expect(body.count == larger.bodyLength)
            #expect(throws: SealedPacketError.wrongLength(larger.bodyLength)) { try SealedPacket.open(body, with: Self.bob) }
            opened += try SealedPacket.open(body, with: Self.bob, geometry: larger).data
        }
        #expect(opened == message)

        let tiny = try PacketGeometry(datagramSize: 576, maxHops: 6)
        #expect(tiny.fragmentCapacity <= 0)
        #expect(throws: SealedPacketError.geometryTooSmall(bodyLength: tiny.bodyLength)) {
            try SealedPacket.fragments(of: [], transferID: Self.transfer, geometry: tiny)
        }
        #expect(throws: SealedPacketError.self) {
            try SealedPacket.open([UInt8](repeating: 0, count: tiny.bodyLength), with: Self.bob, geometry: tiny)
        }
    }
}
