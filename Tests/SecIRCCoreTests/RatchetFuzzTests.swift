import SecIRCCore
import SecIRCCrypto
import Testing

@Suite struct RatchetFuzzTests {
    /// 10,000 hostile inputs to `RatchetMessage.decode` and `decrypt`: random bytes, truncations
    /// and bit flips of real messages, and real headers with random counters. None may trap, none
    /// may decrypt, and Bob's state must stay exactly as it was.
    @Test func hostileInputsNeverTrapOrChangeState() throws {
        var pair = RatchetPair(seed: "fuzz")
        try pair.roundTrip("setup")
        let valid = try pair.aliceSends("the real one")
        let encoded = valid.encoded
        let before = pair.bob.serialized()
        var rng = SeededRandom(seed: "fuzz inputs")
        var decoded = 0
        for i in 0..<10_000 {
            var input: [UInt8]
            switch i % 4 {
            case 0: input = rng.bytes(Int.random(in: 0...120, using: &rng))
            case 1: input = Array(encoded.prefix(Int.random(in: 0..<encoded.count, using: &rng)))
            case 2:
                input = encoded
                for _ in 0..<Int.random(in: 1...4, using: &rng) {
                    input[Int.random(in: 0..<input.count, using: &rng)] ^= UInt8.random(in: 1...255, using: &rng)
                }
            default:
                input = encoded
                let field = Int.random(in: 32..<40, using: &rng)
                input[field] = UInt8.random(in: 0...255, using: &rng)
            }
            // Random flips can cancel out; the genuine message is not hostile input.
            if input == encoded { continue }
            if let message = try? RatchetMessage.decode(input) {
                decoded += 1
                #expect(message.encoded == input)
            }
            let result = try? pair.bob.decrypt(input, associatedData: RatchetPair.associatedData)
            #expect(result == nil)
            if i % 500 == 0 { #expect(pair.bob.serialized() == before) }
        }
        #expect(pair.bob.serialized() == before)
        #expect(decoded > 0)
        #expect(try pair.bobReceives(valid) == "the real one")
    }
}
