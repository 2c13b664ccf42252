import SecIRCCore
import SecIRCCrypto
import Testing

@Suite struct RatchetSerializationTests {
    /// A conversation paused with skipped keys on both sides and a DH step pending at Bob.
    static func midConversation() throws -> (pair: RatchetPair, inFlight: [RatchetMessage], toAlice: [RatchetMessage]) {
        var pair = RatchetPair(seed: "serialisation")
        try pair.roundTrip("warm up")
        let a = try (0..<5).map { try pair.aliceSends("a\($0)") }
        #expect(try pair.bobReceives(a[4]) == "a4")          // Bob holds 4 skipped keys, step pending
        let b = try (0..<3).map { try pair.bobSends("b\($0)") }
        #expect(try pair.aliceReceives(b[2]) == "b2")        // Alice holds 2 skipped keys
        return (pair, Array(a[0..<4]), Array(b[0..<2]))
    }

    @Test func roundTripMidConversation() throws {
        var (pair, inFlight, toAlice) = try Self.midConversation()
        for state in [pair.alice, pair.bob, DoubleRatchet(responderWith: SymmetricKey(using: &pair.rng),
                                                           ratchetKeyPair: AgreementPrivateKey(using: &pair.rng))] {
            let bytes = state.serialized()
            let restored = try DoubleRatchet(serialized: bytes)
            #expect(restored.serialized() == bytes)
            #expect(restored.skippedKeyCount == state.skippedKeyCount)
            #expect(restored.ratchetPublicKey == state.ratchetPublicKey)
        }
        // Continue with restored copies only.
        pair.alice = try DoubleRatchet(serialized: pair.alice.serialized())
        pair.bob = try DoubleRatchet(serialized: pair.bob.serialized())
        for (i, m) in inFlight.enumerated().reversed() { #expect(try pair.bobReceives(m) == "a\(i)") }
        for (i, m) in toAlice.enumerated() { #expect(try pair.aliceReceives(m) == "b\(i)") }
        try pair.roundTrip("after restore")
        try pair.roundTrip("and again")
    }

    @Test func restoredAndOriginalBehaveIdentically() throws {
        var (pair, _, _) = try Self.midConversation()
        var copy = try DoubleRatchet(serialized: pair.bob.serialized())
        var rng1 = SeededRandom(seed: "same")
        var rng2 = SeededRandom(seed: "same")
        let m1 = try pair.bob.encrypt([1, 2, 3], associatedData: [9], rng: &rng1)
        let m2 = try copy.encrypt([1, 2, 3], associatedData: [9], rng: &rng2)
        #expect(m1 == m2)
        #expect(pair.bob.serialized() == copy.serialized())
    }

    @Test func rejectsMalformedState() throws {
        let (pair, _, _) = try Self.midConversation()
        let good = pair.bob.serialized().unsafeCopy()
        func decode(_ bytes: [UInt8]) throws -> DoubleRatchet { try DoubleRatchet(serialized: SecureBytes(bytes)) }

        #expect(throws: DecodeError.self) { _ = try decode([]) }
        for length in 0..<good.count {
            #expect(throws: DecodeError.self) { _ = try decode(Array(good.prefix(length))) }
        }
        #expect(throws: DecodeError.trailingBytes(count: 1)) { _ = try decode(good + [0]) }

        var wrongVersion = good
        wrongVersion[0] = 2
        #expect(throws: DecodeError.self) { _ = try decode(wrongVersion) }
        var unknownFlag = good
        unknownFlag[1] |= 0x80
        #expect(throws: DecodeError.self) { _ = try decode(unknownFlag) }
        var chainWithoutKey = good
        chainWithoutKey[1] &= ~0x01
        #expect(throws: DecodeError.self) { _ = try decode(chainWithoutKey) }

        // The skipped count is the 4 bytes in front of the entries.
        let countOffset = good.count - pair.bob.skippedKeyCount * 100 - 4
        var tooMany = good
        tooMany.replaceSubrange(countOffset..<(countOffset + 4), with: [0, 0, 0x07, 0xD1]) // 2001
        #expect(throws: DecodeError.self) { _ = try decode(tooMany) }
        var huge = good
        huge.replaceSubrange(countOffset..<(countOffset + 4), with: [0xFF, 0xFF, 0xFF, 0xFF])
        #expect(throws: DecodeError.self) { _ = try decode(huge) }
        var repeated = good
        let first = countOffset + 4
        repeated.replaceSubrange((first + 100)..<(first + 136), with: good[first..<(first + 36)])
        #expect(throws: DecodeError.invalidValue("repeated skipped message key")) { _ = try decode(repeated) }
        #expect(try decode(good).serialized() == pair.bob.serialized())
    }

    @Test func randomStateBytesNeverTrap() {
        var rng = SeededRandom(seed: "random state")
        for _ in 0..<2_000 {
            var bytes = rng.bytes(Int.random(in: 0...400, using: &rng))
            if !bytes.isEmpty { bytes[0] = DoubleRatchet.serializationVersion }
            if bytes.count > 1 { bytes[1] &= 0x0F }
            _ = try? DoubleRatchet(serialized: SecureBytes(bytes))
        }
    }
}
