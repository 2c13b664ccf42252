import SecIRCCore
import SecIRCCrypto
import Testing

@Suite("Messaging: MessageID and Envelope")
struct MessagingEnvelopeTests {
    static let id = MessagingFixture.messageID("envelope id")

    // MARK: MessageID

    @Test func messageIDRoundTripsThroughBytesAndHex() throws {
        let bytes = Array(0..<16 as Range<UInt8>)
        let id = try MessageID(bytes: bytes)
        #expect(id.bytes == bytes)
        #expect(id.hex == "000102030405060708090a0b0c0d0e0f")
        #expect(id.description == id.hex)
        #expect(try MessageID(hex: id.hex) == id)
        #expect(try MessageID(hex: id.hex.uppercased()) == id)
        #expect(try MessageID(bytes: Self.id.bytes) == Self.id)
    }

    @Test func messageIDRefusesOtherLengthsAndText() {
        #expect(throws: DecodeError.incomplete(deficit: 1)) { try MessageID(bytes: [UInt8](repeating: 0, count: 15)) }
        #expect(throws: DecodeError.trailingBytes(count: 1)) { try MessageID(bytes: [UInt8](repeating: 0, count: 17)) }
        #expect(throws: DecodeError.incomplete(deficit: 16)) { try MessageID(bytes: []) }
        for text in ["", "00", String(repeating: "0", count: 33), String(repeating: "0", count: 34), String(repeating: "g", count: 32)] {
            #expect(throws: DecodeError.self) { try MessageID(hex: text) }
        }
    }

    @Test func freshMessageIDsDiffer() {
        var rng = SeededRandom(seed: "fresh ids")
        let ids = Set((0..<100).map { _ in MessageID(using: &rng) })
        #expect(ids.count == 100)
    }

    // MARK: EnvelopeKind

    @Test func everyKindByteRoundTrips() {
        for byte in UInt8.min...UInt8.max {
            #expect(EnvelopeKind(rawValue: byte).rawValue == byte)
        }
        #expect(EnvelopeKind(rawValue: 1) == .text)
        #expect(EnvelopeKind(rawValue: 6) == .groupControl)
        #expect(EnvelopeKind(rawValue: 0) == .unknown(0))
        #expect(EnvelopeKind.unknown(2) == .receipt)
        #expect(Set([EnvelopeKind.unknown(3), .fileManifest]).count == 1)
    }

    // MARK: Envelope

    @Test(arguments: [EnvelopeKind.text, .receipt, .fileManifest, .fileChunk, .voice, .groupControl, .unknown(0), .unknown(200)])
    func roundTripsEveryKind(_ kind: EnvelopeKind) throws {
        let envelope = Envelope(id: Self.id, kind: kind, timestampMs: 1_800_000_000_123, body: Array("body".utf8))
        let wire = envelope.encoded
        #expect(wire.count == Envelope.headerLength + 4)
        #expect(wire[0] == 1)
        #expect(wire[17] == kind.rawValue)
        #expect(try Envelope.decode(wire) == envelope)
    }

    @Test func roundTripsEmptyAndLargestBody() throws {
        for body in [[], [UInt8](repeating: 0xAB, count: Envelope.maximumBodyLength)] {
            let envelope = Envelope(id: Self.id, kind: .fileChunk, timestampMs: .max, body: body)
            #expect(try Envelope.decode(envelope.encoded) == envelope)
        }
    }

    @Test func textHelper() throws {
        let envelope = Envelope.text("héllo 👋", id: Self.id, timestampMs: 42)
        #expect(envelope.kind == .text)
        #expect(envelope.text == "héllo 👋")
        #expect(try Envelope.decode(envelope.encoded).text == "héllo 👋")
        #expect(Envelope(id: Self.id, kind: .text, timestampMs: 0, body: [0xff, 0xfe]).text == nil)
        #expect(Envelope(id: Self.id, kind: .voice, timestampMs: 0, body: Array("hi".utf8)).text == nil)
    }

    @Test func truncatedAtEveryLengthIsIncomplete() {
        let wire = Envelope.text("truncate me", id: Self.id, timestampMs: 7).encoded
        for length in 0..<wire.count {
            expectIncomplete { () throws(DecodeError) in try Envelope.decode(Array(wire[..<length])) }
        }
    }

    @Test func trailingBytesAreRefused() {
        let wire = Envelope.text("x", id: Self.id, timestampMs: 7).encoded
        for extra in 1...3 {
            #expect(throws: DecodeError.trailingBytes(count: extra)) {
                try Envelope.decode(wire + [UInt8](repeating: 0, count: extra))
            }
        }
    }

    @Test func refusesOtherVersionsAndOversizedBodies() {
        var wire = Envelope.text("x", id: Self.id, timestampMs: 7).encoded
        wire[0] = 2
        #expect(throws: DecodeError.invalidValue("envelope version 2")) { try Envelope.decode(wire) }

        var w = ByteWriter()
        w.write(UInt8(1))
        w.write(Self.id.bytes)
        w.write(EnvelopeKind.text.rawValue)
        w.write(UInt64(0))
        w.write(UInt32(Envelope.maximumBodyLength + 1))
        // The length is refused before the (absent) body is looked for.
        #expect(throws: DecodeError.self) { try Envelope.decode(w.bytes) }
        do {
            _ = try Envelope.decode(w.bytes)
        } catch {
            guard case .invalidValue = error else { Issue.record("expected invalidValue, got \(error)"); return }
        }
    }

    // MARK: Receipts

    @Test(arguments: [0, 1, 3, Envelope.maximumReceiptCount])
    func receiptRoundTrips(_ count: Int) throws {
        var rng = SeededRandom(seed: "receipt \(count)")
        let ids = (0..<count).map { _ in MessageID(using: &rng) }
        let receipt = Envelope.receipt(for: ids, id: Self.id, timestampMs: 9)
        #expect(receipt.kind == .receipt)
        #expect(receipt.body.count == 2 + 16 * count)
        #expect(try receipt.receiptIDs() == ids)
        #expect(try Envelope.decode(receipt.encoded).receiptIDs() == ids)
    }

    @Test func receiptIDsRefusesBadBodies() throws {
        let text = Envelope.text("not a receipt", id: Self.id, timestampMs: 0)
        #expect(throws: DecodeError.self) { try text.receiptIDs() }

        let good = Envelope.receipt(for: [Self.id, Self.id], id: Self.id, timestampMs: 0)
        for length in 0..<good.body.count {
            var cut = good
            cut.body = Array(good.body[..<length])
            expectIncomplete { () throws(DecodeError) in try cut.receiptIDs() }
        }
        var long = good
        long.body += [0]
        #expect(throws: DecodeError.trailingBytes(count: 1)) { try long.receiptIDs() }

        var tooMany = good
        tooMany.body = [0x04, 0x01] + [UInt8](repeating: 0, count: 1025 * 16)
        #expect(throws: DecodeError.invalidValue("receipt of 1025 IDs, at most 1024")) { try tooMany.receiptIDs() }
    }
}
