import SecIRCCore
import SecIRCCrypto
import Testing

/// Random and mutated input into every Messaging decoder: each must throw or decode, never trap.
@Suite("Messaging: fuzz")
struct MessagingFuzzTests {
    static let iterations = 10_000

    /// Random bytes of random length up to `maxLength`, or (every other time) `valid` with a few
    /// bytes changed and maybe cut, so the fuzz also reaches the checks behind the length checks.
    static func inputs(seed: String, maxLength: Int, valid: [UInt8]) -> [[UInt8]] {
        var rng = SeededRandom(seed: seed)
        return (0..<iterations).map { i in
            if i % 2 == 0 || valid.isEmpty {
                return rng.bytes(Int.random(in: 0...maxLength, using: &rng))
            }
            var mutated = valid
            for _ in 0..<Int.random(in: 1...3, using: &rng) {
                mutated[Int.random(in: 0..<mutated.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            }
            if Bool.random(using: &rng) { mutated = Array(mutated[..<Int.random(in: 0...mutated.count, using: &rng)]) }
            return mutated
        }
    }

    @Test func messageID() {
        for input in Self.inputs(seed: "fuzz id", maxLength: 40, valid: []) {
            if let id = try? MessageID(bytes: input) { #expect(id.bytes == input) }
            _ = try? MessageID(hex: String(decoding: input, as: UTF8.self))
        }
    }

    @Test func envelope() {
        let valid = Envelope.receipt(for: [MessagingFixture.messageID("a"), MessagingFixture.messageID("b")],
                                     id: MessagingFixture.messageID("fuzz"), timestampMs: 1).encoded
        var decoded = 0
        for input in Self.inputs(seed: "fuzz envelope", maxLength: 200, valid: valid) {
            guard let envelope = try? Envelope.decode(input) else { continue }
            decoded += 1
            #expect(envelope.encoded == input)
            _ = envelope.text
            _ = try? envelope.receiptIDs()
        }
        #expect(decoded > 0)
    }

    @Test func receiptBodies() {
        for input in Self.inputs(seed: "fuzz receipt", maxLength: 100, valid: [0, 2] + [UInt8](repeating: 7, count: 32)) {
            let envelope = Envelope(id: MessagingFixture.messageID("r"), kind: .receipt, timestampMs: 0, body: input)
            if let ids = try? envelope.receiptIDs() { #expect(input.count == 2 + 16 * ids.count) }
        }
    }

    @Test func contactCard() throws {
        let valid = try MessagingFixture.card().encoded
        for input in Self.inputs(seed: "fuzz card", maxLength: 600, valid: valid) {
            if let card = try? ContactCard.decode(input) { #expect(card.encoded == input) }
        }
    }

    @Test func sessionMessage() throws {
        var conversation = try MessagingConversation()
        let valid = try conversation.aliceFirstMessage("fuzz").encoded
        for input in Self.inputs(seed: "fuzz session", maxLength: 1600, valid: valid) {
            if let message = try? SessionMessage.decode(input) { #expect(message.encoded == input) }
        }
    }

    @Test func randomBodiesAreNotForUs() {
        let key = MessagingFixture.identity("fuzz recipient").agreement
        var rng = SeededRandom(seed: "fuzz sealed")
        for _ in 0..<Self.iterations {
            let body = rng.bytes(PacketGeometry.standard.bodyLength)
            #expect(throws: SealedPacketError.notForUs) { try SealedPacket.open(body, with: key) }
        }
    }

    @Test func sealedPacketOfAnyLength() {
        let key = MessagingFixture.identity("fuzz recipient").agreement
        for input in Self.inputs(seed: "fuzz sealed length", maxLength: 1000, valid: []) {
            #expect(throws: SealedPacketError.self) { try SealedPacket.open(input, with: key) }
        }
    }

    @Test func reassemblerWithRandomFragments() {
        var rng = SeededRandom(seed: "fuzz reassembler")
        var reassembler = Reassembler(maxTransfers: 8, maxBytes: 4096, timeout: .seconds(5))
        let ids = (0..<4).map { MessagingFixture.messageID("fuzz transfer \($0)") }
        for step in 0..<Self.iterations {
            let count = Int.random(in: -1...5, using: &rng)
            let fragment = Fragment(transferID: ids[Int.random(in: 0..<ids.count, using: &rng)],
                                    index: Int.random(in: -1...5, using: &rng), count: count,
                                    totalLength: Int.random(in: -1...3000, using: &rng),
                                    data: rng.bytes(Int.random(in: 0...1000, using: &rng)))
            let now = MessagingFixture.now.adding(.milliseconds(step))
            if let message = try? reassembler.add(fragment, now: now) { #expect(message.count == fragment.totalLength) }
            if step % 100 == 0 { _ = reassembler.expire(now: now) }
            #expect(reassembler.pendingTransfers <= 8)
            #expect(reassembler.bufferedBytes <= 4096)
        }
    }
}
