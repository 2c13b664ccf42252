import SecIRCCore
import SecIRCCrypto
import Testing

@Suite struct RatchetBoundsTests {
    @Test func skipBoundIsEnforcedPerChainStep() throws {
        var pair = RatchetPair()
        let messages = try (0...(DoubleRatchet.maxSkip + 1)).map { try pair.aliceSends("m\($0)") }
        expectUnchanged(&pair.bob) { _ = try $0.decrypt(messages[DoubleRatchet.maxSkip + 1], associatedData: RatchetPair.associatedData) }
        #expect(throws: RatchetError.tooManySkipped) {
            _ = try pair.bob.decrypt(messages[DoubleRatchet.maxSkip + 1], associatedData: RatchetPair.associatedData)
        }
        // Exactly maxSkip is allowed.
        #expect(try pair.bobReceives(messages[DoubleRatchet.maxSkip]) == "m\(DoubleRatchet.maxSkip)")
        #expect(pair.bob.skippedKeyCount == DoubleRatchet.maxSkip)
        #expect(try pair.bobReceives(messages[DoubleRatchet.maxSkip + 1]) == "m\(DoubleRatchet.maxSkip + 1)")
        #expect(try pair.bobReceives(messages[0]) == "m0")
        #expect(pair.bob.skippedKeyCount == DoubleRatchet.maxSkip - 1)
    }

    @Test func previousChainSkipIsBoundedToo() throws {
        var pair = RatchetPair()
        _ = try pair.bobReceives(try pair.aliceSends("first"))
        _ = try pair.aliceReceives(try pair.bobSends("reply"))
        let next = try pair.aliceSends("next chain")
        let forged = RatchetHeader(ratchetKey: next.header.ratchetKey, previousChainLength: UInt32(DoubleRatchet.maxSkip + 2),
                                   messageNumber: 0)
        expectUnchanged(&pair.bob) { _ = try $0.decrypt(RatchetMessage(header: forged, ciphertext: next.ciphertext),
                                                         associatedData: RatchetPair.associatedData) }
        #expect(throws: RatchetError.tooManySkipped) {
            _ = try pair.bob.decrypt(RatchetMessage(header: forged, ciphertext: next.ciphertext), associatedData: RatchetPair.associatedData)
        }
        #expect(try pair.bobReceives(next) == "next chain")
    }

    @Test func extremeCountersNeverTrap() throws {
        var pair = RatchetPair()
        let m = try pair.aliceSends("x")
        for (pn, n) in [(UInt32.max, UInt32.max), (0, UInt32.max), (UInt32.max, 0), (0, UInt32.max - 1)] {
            let forged = RatchetMessage(header: RatchetHeader(ratchetKey: m.header.ratchetKey, previousChainLength: pn, messageNumber: n),
                                        ciphertext: m.ciphertext)
            expectUnchanged(&pair.bob) { _ = try $0.decrypt(forged, associatedData: RatchetPair.associatedData) }
        }
        #expect(try pair.bobReceives(m) == "x")
    }

    @Test func globalSkippedKeyCapEvictsOldest() throws {
        var pair = RatchetPair()
        let skip = DoubleRatchet.maxSkip
        // Chain 1 and chain 2: skip maxSkip each; chain 3 skips 500 more.
        var chains: [[RatchetMessage]] = []
        for (index, count) in [skip, skip, 500].enumerated() {
            let chain = try (0...count).map { try pair.aliceSends("c\(index).\($0)") }
            chains.append(chain)
            #expect(try pair.bobReceives(chain[count]) == "c\(index).\(count)")
            _ = try pair.aliceReceives(try pair.bobSends("turn \(index)"))
        }
        #expect(pair.bob.skippedKeyCount == DoubleRatchet.maxStoredSkippedKeys)
        // The 500 oldest keys (chain 1, messages 0..<500) were evicted.
        for i in [0, 1, 250, 499] {
            expectUnchanged(&pair.bob) { _ = try $0.decrypt(chains[0][i], associatedData: RatchetPair.associatedData) }
        }
        #expect(try pair.bobReceives(chains[0][500]) == "c0.500")
        #expect(try pair.bobReceives(chains[1][0]) == "c1.0")
        #expect(try pair.bobReceives(chains[2][499]) == "c2.499")
        #expect(pair.bob.skippedKeyCount == DoubleRatchet.maxStoredSkippedKeys - 3)
        try pair.roundTrip("after the cap")
    }

    @Test func skippedKeyStoreEvictsInInsertionOrder() {
        var rng = SeededRandom(seed: "store")
        var store = SkippedMessageKeys(capacity: 3)
        let key = AgreementPrivateKey(using: &rng).publicKey
        for n in 0..<5 { store.insert(SecureBytes([UInt8(n)]), for: .init(ratchetKey: key, messageNumber: UInt32(n))) }
        #expect(store.count == 3)
        #expect(!store.contains(.init(ratchetKey: key, messageNumber: 1)))
        #expect(store.remove(.init(ratchetKey: key, messageNumber: 2)) == SecureBytes([2]))
        #expect(store.remove(.init(ratchetKey: key, messageNumber: 2)) == nil)
        #expect(store.count == 2)
    }
}
