import SecIRCCore
import SecIRCCrypto
import Testing

/// Behaviour of the generic Noise core beyond the published vectors.
@Suite("Noise core")
struct LinkNoiseTests {
    static let responderKey = LinkTestSupport.agreementKey("noise responder")
    static let initiatorKey = LinkTestSupport.agreementKey("noise initiator")

    @Test("missing keys are refused up front", arguments: [NoisePattern.ik, NoisePattern.nk])
    func missingKeys(_ pattern: NoisePattern) {
        #expect(throws: NoiseError.self) {
            _ = try NoiseHandshakeState(pattern: pattern, role: .initiator, prologue: [], localStatic: Self.initiatorKey)
        }
        #expect(throws: NoiseError.missingKey("local static key")) {
            _ = try NoiseHandshakeState(pattern: pattern, role: .responder, prologue: [])
        }
        if pattern == .ik {
            #expect(throws: NoiseError.missingKey("local static key")) {
                _ = try NoiseHandshakeState(pattern: pattern, role: .initiator, prologue: [],
                                            remoteStatic: Self.responderKey.publicKey)
            }
        }
    }

    @Test("turns are enforced and split needs a complete handshake")
    func turns() throws {
        var rng = SeededRandom(seed: "noise turns")
        var initiator = try NoiseHandshakeState(pattern: .nk, role: .initiator, prologue: [], remoteStatic: Self.responderKey.publicKey)
        var responder = try NoiseHandshakeState(pattern: .nk, role: .responder, prologue: [], localStatic: Self.responderKey)
        #expect(throws: NoiseError.outOfTurn) { _ = try responder.writeMessage(payload: [], using: &rng) }
        #expect(throws: NoiseError.outOfTurn) { _ = try initiator.readMessage([UInt8](repeating: 0, count: 48)) }
        #expect(throws: NoiseError.handshakeIncomplete) { _ = try initiator.split() }
        let first = try initiator.writeMessage(payload: [1, 2, 3], using: &rng)
        #expect(throws: NoiseError.outOfTurn) { _ = try initiator.writeMessage(payload: [], using: &rng) }
        #expect(try responder.readMessage(first) == [1, 2, 3])
        let second = try responder.writeMessage(payload: [], using: &rng)
        #expect(try initiator.readMessage(second) == [])
        #expect(initiator.isComplete && responder.isComplete)
        #expect(throws: NoiseError.outOfTurn) { _ = try initiator.readMessage(second) }
        #expect(initiator.handshakeHash == responder.handshakeHash)
    }

    @Test("a failed read leaves the state unchanged: the genuine message still verifies")
    func failedReadIsHarmless() throws {
        var rng = SeededRandom(seed: "noise failed read")
        var initiator = try NoiseHandshakeState(pattern: .ik, role: .initiator, prologue: [9], localStatic: Self.initiatorKey,
                                                remoteStatic: Self.responderKey.publicKey)
        var responder = try NoiseHandshakeState(pattern: .ik, role: .responder, prologue: [9], localStatic: Self.responderKey)
        let message = try initiator.writeMessage(payload: [], using: &rng)
        #expect(throws: NoiseError.messageTooShort) { _ = try responder.readMessage(Array(message.prefix(40))) }
        #expect(throws: NoiseError.decryptFailed) { _ = try responder.readMessage(LinkTestSupport.flippingBit(300, of: message)) }
        #expect(try responder.readMessage(message) == [])
        #expect(responder.remoteStatic == Self.initiatorKey.publicKey)
    }

    @Test("a different prologue makes the first encrypted field fail")
    func prologueBinding() throws {
        var rng = SeededRandom(seed: "noise prologue")
        var initiator = try NoiseHandshakeState(pattern: .nk, role: .initiator, prologue: Array("a".utf8),
                                                remoteStatic: Self.responderKey.publicKey)
        var responder = try NoiseHandshakeState(pattern: .nk, role: .responder, prologue: Array("b".utf8), localStatic: Self.responderKey)
        let message = try initiator.writeMessage(payload: [], using: &rng)
        #expect(throws: NoiseError.decryptFailed) { _ = try responder.readMessage(message) }
    }

    @Test("a low-order ephemeral is refused as weakPublicKey")
    func lowOrderPoint() throws {
        var responder = try NoiseHandshakeState(pattern: .nk, role: .responder, prologue: [], localStatic: Self.responderKey)
        // The all-zero u-coordinate is a point of small order: X25519 with it gives zero.
        let message = [UInt8](repeating: 0, count: 32) + [UInt8](repeating: 0, count: 16)
        #expect(throws: NoiseError.weakPublicKey) { _ = try responder.readMessage(message) }
    }

    @Test("the cipher state refuses the reserved nonce")
    func reservedNonce() throws {
        var cipher = NoiseCipherState(key: try SymmetricKey(bytes: [UInt8](repeating: 7, count: 32)))
        cipher.setNonce(NoiseCipherState.reservedNonce)
        #expect(throws: NoiseError.nonceExhausted) { _ = try cipher.encrypt([1], associatedData: []) }
        var empty = NoiseCipherState()
        #expect(try empty.encrypt([1, 2], associatedData: [3]) == [1, 2])
    }
}
