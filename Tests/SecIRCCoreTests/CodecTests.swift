import SecIRCCore
import SecIRCCrypto
import Testing

@Suite struct ByteReaderWriterTests {
    @Test func roundTrip() throws {
        var writer = ByteWriter()
        writer.write(UInt8(0xAB))
        writer.write(UInt16(0x1234))
        writer.write(UInt32(0xDEAD_BEEF))
        writer.write(UInt64(0x0102_0304_0506_0708))
        let key = try Bytes32(Array(0..<32))
        writer.write(key)
        writer.write([9, 9])
        writer.writeZeros(3)
        #expect(writer.bytes.count == 1 + 2 + 4 + 8 + 32 + 2 + 3)
        #expect(Array(writer.bytes[1..<3]) == [0x12, 0x34], "big-endian")

        var reader = ByteReader(writer.bytes)
        #expect(try reader.readUInt8() == 0xAB)
        #expect(try reader.readUInt16() == 0x1234)
        #expect(try reader.readUInt32() == 0xDEAD_BEEF)
        #expect(try reader.readUInt64() == 0x0102_0304_0506_0708)
        #expect(try reader.readBytes32() == key)
        #expect(try reader.readBytes(2) == [9, 9])
        #expect(reader.remaining == 3)
        #expect(throws: DecodeError.trailingBytes(count: 3)) { try reader.finish() }
        #expect(reader.readRest() == [0, 0, 0])
        try reader.finish()
    }

    @Test(arguments: 0..<8)
    func truncatedInputReportsDeficit(available: Int) {
        var reader = ByteReader([UInt8](repeating: 1, count: available))
        #expect(throws: DecodeError.incomplete(deficit: 8 - available)) { try reader.readUInt64() }
        #expect(reader.offset == 0, "a failed read consumes nothing")
    }

    @Test func readsPastTheEndNeverTrap() {
        var reader = ByteReader([1, 2, 3])
        #expect(throws: DecodeError.incomplete(deficit: 29)) { try reader.readBytes32() }
        #expect(throws: DecodeError.incomplete(deficit: 97)) { try reader.readBytes(100) }
        #expect(throws: Never.self) { try reader.readBytes(3) }
        #expect(throws: DecodeError.incomplete(deficit: 1)) { try reader.readUInt8() }
    }

    @Test func errorsDescribeThemselves() {
        #expect(DecodeError.incomplete(deficit: 4).description == "input ends 4 bytes early")
        #expect(DecodeError.trailingBytes(count: 2).description == "2 unexpected bytes after the message")
    }
}

/// Random and mutated inputs through every decoder of outside input in this module; the link
/// layer's own suite adds its decoders. None may trap; all must answer with an error or a reject.
@Suite struct RandomInputTests {
    @Test func randomReaderProgramsNeverTrap() {
        var rng = SeededRandom(seed: "reader fuzz")
        for _ in 0..<40_000 {
            var reader = ByteReader(rng.bytes(Int.random(in: 0...40, using: &rng)))
            for _ in 0..<6 {
                switch Int.random(in: 0..<6, using: &rng) {
                case 0: _ = try? reader.readUInt8()
                case 1: _ = try? reader.readUInt16()
                case 2: _ = try? reader.readUInt32()
                case 3: _ = try? reader.readUInt64()
                case 4: _ = try? reader.readBytes32()
                default: _ = try? reader.readBytes(Int.random(in: 0...50, using: &rng))
                }
            }
            _ = try? reader.finish()
        }
    }

    @Test func randomSphinxPacketsAreRejected() {
        var rng = SeededRandom(seed: "sphinx fuzz")
        let key = OnionKey(epoch: 3, privateKey: AgreementPrivateKey(using: &rng))
        var processor = SphinxProcessor(replayCapacity: 1024)
        processor.install(key)
        let length = PacketGeometry.standard.sphinxPacketLength
        var counts: [SphinxRejectReason: Int] = [:]
        for i in 0..<30_000 {
            var packet: [UInt8]
            switch i % 3 {
            case 0: packet = rng.bytes(Int.random(in: 0...(length + 64), using: &rng)) // any length
            case 1: packet = rng.bytes(length) // right length, random epoch
            default: // right length and epoch: reaches X25519 and the MAC
                packet = rng.bytes(length)
                packet.replaceSubrange(0..<4, with: [0, 0, 0, 3])
            }
            guard case let .reject(reason) = processor.peel(&packet) else {
                Issue.record("random packet accepted")
                continue
            }
            counts[reason, default: 0] += 1
        }
        #expect(counts[.badMAC, default: 0] + counts[.badAlpha, default: 0] >= 9_000)
        #expect(counts[.unknownEpoch, default: 0] > 0 && counts[.badLength, default: 0] > 0)
    }

    @Test func randomDocumentsAreRefused() {
        var rng = SeededRandom(seed: "document fuzz")
        let roster = Roster(members: [Roster.Member(identityKey: SigningPrivateKey(using: &rng).publicKey, udp: "127.0.0.1:1",
                                                    http: "http://127.0.0.1:2")])
        let pieces = ["{", "}", "[", "]", "\"type\"", "\"body\"", "\"signatures\"", ":", ",", "\"secirc-directory-v1\"",
                      "\"AAAA\"", "null", "1", "\"key\"", "\"sig\"", "\"00\"", "true", " "]
        for i in 0..<30_000 {
            let bytes: [UInt8] = i % 2 == 0
                ? rng.bytes(Int.random(in: 0...200, using: &rng))
                : Array((0..<Int.random(in: 0...24, using: &rng)).map { _ in pieces.randomElement(using: &rng)! }.joined().utf8)
            // Never a trap, and never accepted: nothing random carries a valid signature.
            #expect(throws: (any Error).self, "input \(i) of seed 'document fuzz'") {
                try Unverified<RelayDirectory>(json: bytes).verifiedAtAnyTime(trusting: roster)
            }
            #expect(throws: (any Error).self, "input \(i) of seed 'document fuzz'") {
                try Unverified<RelayDescriptor>(json: bytes).verified()
            }
        }
    }
}
