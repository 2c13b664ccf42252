import SecIRCCrypto
import Testing

/// SeededRandom (repeatable) and SystemRandom (the OS CSPRNG).
@Suite("Random sources")
struct RandomTests {
    @Test("the same seed gives the same bytes")
    func sameSeed() {
        var a = SeededRandom(seed: "relay-42")
        var b = SeededRandom(seed: "relay-42")
        #expect(a.bytes(64) == b.bytes(64))
        #expect(a.bytes(1000) == b.bytes(1000))
        #expect(a.next() == b.next())
    }

    @Test("text seeds equal their UTF-8 byte seeds")
    func textSeed() {
        var text = SeededRandom(seed: "séed")
        var bytes = SeededRandom(seed: Array("séed".utf8))
        #expect(text.bytes(32) == bytes.bytes(32))
    }

    @Test("different seeds give different bytes")
    func differentSeeds() {
        var streams = ["a", "b", "relay-42", "relay-43", ""].map { SeededRandom(seed: $0) }
        var outputs: Set<[UInt8]> = []
        for i in streams.indices { outputs.insert(streams[i].bytes(32)) }
        #expect(outputs.count == streams.count)
    }

    @Test("successive draws from one stream differ")
    func successiveDraws() {
        var rng = SeededRandom(seed: "stream")
        let first = rng.bytes(32)
        let second = rng.bytes(32)
        #expect(first != second)
        #expect(first != [UInt8](repeating: 0, count: 32))
    }

    @Test("SeededRandom drives the standard library's random APIs repeatably")
    func standardLibrary() {
        var a = SeededRandom(seed: "shuffle")
        var b = SeededRandom(seed: "shuffle")
        let x = (0..<20).map { _ in Int.random(in: 0..<1_000_000, using: &a) }
        let y = (0..<20).map { _ in Int.random(in: 0..<1_000_000, using: &b) }
        #expect(x == y)
        #expect(Set(x).count > 1)
        #expect(Array(0..<50).shuffled(using: &a) == Array(0..<50).shuffled(using: &b))
    }

    @Test("bytes(0) is empty")
    func zeroBytes() {
        var seeded = SeededRandom(seed: "zero")
        #expect(seeded.bytes(0).isEmpty)
        var system = SystemRandom()
        #expect(system.bytes(0).isEmpty)
    }

    @Test("SystemRandom gives different outputs each time")
    func systemRandom() {
        var rng = SystemRandom()
        let outputs = (0..<8).map { _ in rng.bytes(32) }
        #expect(Set(outputs).count == outputs.count)
        #expect(!outputs.contains([UInt8](repeating: 0, count: 32)))
        var other = SystemRandom()
        #expect(other.bytes(32) != rng.bytes(32))
        #expect(rng.next() != rng.next())
    }

    @Test("SystemRandom bytes look uniform (every byte value appears in 64 KiB)")
    func systemRandomSpread() {
        var rng = SystemRandom()
        let sample = rng.bytes(1 << 16)
        #expect(Set(sample).count == 256)
    }
}
