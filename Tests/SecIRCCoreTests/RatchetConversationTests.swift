import SecIRCCore
import SecIRCCrypto
import Testing

@Suite struct RatchetConversationTests {
    @Test func conversationBothWaysWithRatchetTurns() throws {
        var pair = RatchetPair()
        #expect(!pair.bob.canSend)
        var rng = SeededRandom(seed: "bob first")
        #expect(throws: RatchetError.noSendingChain) { _ = try pair.bob.encrypt([1], associatedData: [], rng: &rng) }

        var aliceKeys: Set<AgreementPublicKey> = []
        var bobKeys: Set<AgreementPublicKey> = []
        for turn in 0..<6 {
            for i in 0..<3 {
                let m = try pair.aliceSends("a\(turn).\(i)")
                aliceKeys.insert(m.header.ratchetKey)
                #expect(m.header.messageNumber == UInt32(i))
                #expect(try pair.bobReceives(m) == "a\(turn).\(i)")
            }
            for i in 0..<2 {
                let m = try pair.bobSends("b\(turn).\(i)")
                bobKeys.insert(m.header.ratchetKey)
                #expect(m.header.messageNumber == UInt32(i))
                #expect(try pair.aliceReceives(m) == "b\(turn).\(i)")
            }
        }
        #expect(aliceKeys.count == 6)
        #expect(bobKeys.count == 6)
        #expect(pair.alice.skippedKeyCount == 0 && pair.bob.skippedKeyCount == 0)
    }

    @Test func previousChainLengthIsCarried() throws {
        var pair = RatchetPair()
        for i in 0..<4 { _ = try pair.bobReceives(try pair.aliceSends("\(i)")) }
        _ = try pair.aliceReceives(try pair.bobSends("reply"))
        let m = try pair.aliceSends("next chain")
        #expect(m.header.previousChainLength == 4)
        #expect(m.header.messageNumber == 0)
    }

    @Test func emptyPlaintextAndLargePlaintext() throws {
        var pair = RatchetPair()
        let empty = try pair.alice.encrypt([], associatedData: [], rng: &pair.rng)
        #expect(empty.encoded.count == RatchetMessage.minimumLength)
        #expect(try pair.bob.decrypt(empty, associatedData: []) == [])
        let big = [UInt8](repeating: 0xAB, count: 70_000)
        let m = try pair.alice.encrypt(big, associatedData: [], rng: &pair.rng)
        #expect(try pair.bob.decrypt(m.encoded, associatedData: []) == big)
    }

    @Test func outOfOrderWithinAChain() throws {
        var pair = RatchetPair()
        let messages = try (0..<6).map { try pair.aliceSends("m\($0)") }
        for i in [4, 1, 5, 0, 3, 2] {
            #expect(try pair.bobReceives(messages[i]) == "m\(i)")
        }
        #expect(pair.bob.skippedKeyCount == 0)
        try pair.roundTrip("after")
    }

    @Test func outOfOrderAcrossChains() throws {
        var pair = RatchetPair()
        let a0 = try pair.aliceSends("a0")
        let a1 = try pair.aliceSends("a1")
        let a2 = try pair.aliceSends("a2")
        #expect(try pair.bobReceives(a0) == "a0")
        let b0 = try pair.bobSends("b0")
        let b1 = try pair.bobSends("b1")
        #expect(try pair.aliceReceives(b1) == "b1") // b0 still in flight
        let c0 = try pair.aliceSends("c0")           // new chain; a1, a2 in flight
        #expect(c0.header.previousChainLength == 3)
        #expect(try pair.bobReceives(c0) == "c0")
        #expect(pair.bob.skippedKeyCount == 2)
        #expect(try pair.bobReceives(a2) == "a2")
        #expect(try pair.aliceReceives(b0) == "b0")
        #expect(try pair.bobReceives(a1) == "a1")
        #expect(pair.alice.skippedKeyCount == 0 && pair.bob.skippedKeyCount == 0)
        try pair.roundTrip("after")
    }

    @Test func droppedMessagesThenLaterOnesDecrypt() throws {
        var pair = RatchetPair()
        let messages = try (0..<10).map { try pair.aliceSends("m\($0)") }
        #expect(try pair.bobReceives(messages[7]) == "m7")
        #expect(try pair.bobReceives(messages[9]) == "m9")
        #expect(pair.bob.skippedKeyCount == 8)
        // Whole chains can be lost too.
        _ = try pair.bobSends("lost")
        let b = try pair.bobSends("arrives")
        #expect(try pair.aliceReceives(b) == "arrives")
        try pair.roundTrip("later")
        #expect(try pair.bobReceives(messages[3]) == "m3")
    }

    @Test func duplicatesAreRejectedWithoutCorruptingState() throws {
        var pair = RatchetPair()
        let m0 = try pair.aliceSends("m0")
        let m1 = try pair.aliceSends("m1")
        let m2 = try pair.aliceSends("m2")
        #expect(try pair.bobReceives(m0) == "m0")
        #expect(throws: RatchetError.duplicate) { _ = try pair.bob.decrypt(m0, associatedData: RatchetPair.associatedData) }
        expectUnchanged(&pair.bob) { _ = try $0.decrypt(m0, associatedData: RatchetPair.associatedData) }

        // A skipped key is consumed once.
        #expect(try pair.bobReceives(m2) == "m2")
        #expect(try pair.bobReceives(m1) == "m1")
        expectUnchanged(&pair.bob) { _ = try $0.decrypt(m1, associatedData: RatchetPair.associatedData) }
        expectUnchanged(&pair.bob) { _ = try $0.decrypt(m2, associatedData: RatchetPair.associatedData) }

        // A replay from a chain the receiver has moved past.
        try pair.roundTrip("turn")
        expectUnchanged(&pair.bob) { _ = try $0.decrypt(m0, associatedData: RatchetPair.associatedData) }
        expectUnchanged(&pair.bob) { _ = try $0.decrypt(m2, associatedData: RatchetPair.associatedData) }

        let m3 = try pair.aliceSends("m3")
        #expect(try pair.bobReceives(m3) == "m3")
        try pair.roundTrip("still fine")
    }

    @Test func tamperingIsRejectedAndStateUnchanged() throws {
        var pair = RatchetPair()
        _ = try pair.bobReceives(try pair.aliceSends("first"))
        let m0 = try pair.aliceSends("secret 0")
        let m1 = try pair.aliceSends("secret 1")
        let ad = RatchetPair.associatedData

        for i in m0.ciphertext.indices {
            var t = m0
            t.ciphertext[i] ^= 0x01
            expectUnchanged(&pair.bob) { _ = try $0.decrypt(t, associatedData: ad) }
        }
        var truncated = m0
        truncated.ciphertext.removeLast()
        expectUnchanged(&pair.bob) { _ = try $0.decrypt(truncated, associatedData: ad) }

        var headers: [RatchetHeader] = []
        for bit in [0, 7, 100, 255] {
            var key = m0.header.ratchetKey.bytes
            key[bit / 8] ^= 1 << (bit % 8)
            headers.append(RatchetHeader(ratchetKey: try AgreementPublicKey(bytes: key),
                                         previousChainLength: m0.header.previousChainLength, messageNumber: m0.header.messageNumber))
        }
        headers.append(RatchetHeader(ratchetKey: m0.header.ratchetKey, previousChainLength: 1, messageNumber: m0.header.messageNumber))
        headers.append(RatchetHeader(ratchetKey: m0.header.ratchetKey, previousChainLength: 0, messageNumber: m0.header.messageNumber + 1))
        headers.append(RatchetHeader(ratchetKey: m0.header.ratchetKey, previousChainLength: 0, messageNumber: 5))
        for header in headers {
            let t = RatchetMessage(header: header, ciphertext: m0.ciphertext)
            expectUnchanged(&pair.bob) { _ = try $0.decrypt(t, associatedData: ad) }
        }

        expectUnchanged(&pair.bob) { _ = try $0.decrypt(m0, associatedData: ad + [0]) }
        expectUnchanged(&pair.bob) { _ = try $0.decrypt(m0, associatedData: []) }
        var otherAD = ad
        otherAD[0] ^= 0x80
        expectUnchanged(&pair.bob) { _ = try $0.decrypt(m0, associatedData: otherAD) }

        // A swapped ciphertext under m1's header (the wrong message key).
        expectUnchanged(&pair.bob) { _ = try $0.decrypt(RatchetMessage(header: m1.header, ciphertext: m0.ciphertext), associatedData: ad) }

        #expect(try pair.bobReceives(m1) == "secret 1")
        #expect(try pair.bobReceives(m0) == "secret 0")
        try pair.roundTrip("after tampering")
    }

    @Test func lowOrderRatchetKeysAreRejected() throws {
        var rng = SeededRandom(seed: "low order")
        let secret = SymmetricKey(using: &rng)
        let zero = AgreementPublicKey(rawValue: .zero)
        #expect(throws: RatchetError.invalidRatchetKey) {
            _ = try DoubleRatchet(initiatorWith: secret, remoteRatchetKey: zero, rng: &rng)
        }
        var pair = RatchetPair()
        let m = try pair.aliceSends("x")
        let forged = RatchetMessage(header: RatchetHeader(ratchetKey: zero, previousChainLength: 0, messageNumber: 0),
                                    ciphertext: m.ciphertext)
        #expect(throws: RatchetError.invalidRatchetKey) { _ = try pair.bob.decrypt(forged, associatedData: RatchetPair.associatedData) }
        #expect(try pair.bobReceives(m) == "x")
    }

    @Test func headerAndMessageCodec() throws {
        var pair = RatchetPair()
        let m = try pair.aliceSends("codec")
        #expect(m.encoded.count == RatchetHeader.encodedLength + 5 + XChaCha20Poly1305.tagByteCount)
        #expect(try RatchetMessage.decode(m.encoded) == m)
        #expect(Array(m.encoded[0..<32]) == m.header.ratchetKey.bytes)
        let header = RatchetHeader(ratchetKey: m.header.ratchetKey, previousChainLength: 0x0102_0304, messageNumber: 0xA0B0_C0D0)
        #expect(Array(header.encoded[32...]) == [1, 2, 3, 4, 0xA0, 0xB0, 0xC0, 0xD0])
        #expect(try RatchetHeader.decode(header.encoded) == header)
        #expect(throws: DecodeError.trailingBytes(count: 1)) { try RatchetHeader.decode(header.encoded + [0]) }
        #expect(throws: DecodeError.incomplete(deficit: 1)) { try RatchetHeader.decode(header.encoded.dropLast()) }
        #expect(throws: DecodeError.incomplete(deficit: 1)) { try RatchetMessage.decode(Array(m.encoded.prefix(RatchetMessage.minimumLength - 1))) }
    }
}
