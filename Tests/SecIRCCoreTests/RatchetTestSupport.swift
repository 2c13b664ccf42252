import SecIRCCore
import SecIRCCrypto
import Testing

/// Alice and Bob after session setup, with a seeded random source for every ratchet step.
struct RatchetPair {
    var alice: DoubleRatchet
    var bob: DoubleRatchet
    var rng: SeededRandom
    static let associatedData = Array("secIRC test session".utf8)

    init(seed: String = "ratchet pair") {
        rng = SeededRandom(seed: seed)
        let sharedSecret = SymmetricKey(using: &rng)
        let bobKey = AgreementPrivateKey(using: &rng)
        alice = try! DoubleRatchet(initiatorWith: sharedSecret, remoteRatchetKey: bobKey.publicKey, rng: &rng)
        bob = DoubleRatchet(responderWith: sharedSecret, ratchetKeyPair: bobKey)
    }

    mutating func aliceSends(_ text: String) throws -> RatchetMessage {
        try alice.encrypt(Array(text.utf8), associatedData: Self.associatedData, rng: &rng)
    }

    mutating func bobSends(_ text: String) throws -> RatchetMessage {
        try bob.encrypt(Array(text.utf8), associatedData: Self.associatedData, rng: &rng)
    }

    mutating func bobReceives(_ message: RatchetMessage) throws -> String {
        String(decoding: try bob.decrypt(message, associatedData: Self.associatedData), as: UTF8.self)
    }

    mutating func aliceReceives(_ message: RatchetMessage) throws -> String {
        String(decoding: try alice.decrypt(message, associatedData: Self.associatedData), as: UTF8.self)
    }

    /// One full turn each way, so both sides step their DH ratchets.
    mutating func roundTrip(_ label: String) throws {
        let n = try aliceSends("\(label) from alice")
        #expect(try bobReceives(n) == "\(label) from alice")
        let m = try bobSends("\(label) from bob")
        #expect(try aliceReceives(m) == "\(label) from bob")
    }
}

/// Expects `body` to throw and `state` to be byte-for-byte what it was before.
func expectUnchanged(_ state: inout DoubleRatchet, sourceLocation: SourceLocation = #_sourceLocation,
                     _ body: (inout DoubleRatchet) throws -> Void) {
    let before = state.serialized()
    #expect(throws: (any Error).self, sourceLocation: sourceLocation) { try body(&state) }
    #expect(state.serialized() == before, "state changed by a failed operation", sourceLocation: sourceLocation)
}
