import SecIRCCore
import SecIRCCrypto
import Testing

/// The generic Noise core against the published cacophony vectors for the two protocols secIRC
/// uses (Tests/SecIRCCoreTests/Vectors/noise-cacophony.json).
@Suite("Noise: cacophony vectors")
struct LinkNoiseVectorTests {
    struct Message: Codable {
        let payload: String
        let ciphertext: String
    }

    struct Vector: Codable, CustomTestStringConvertible {
        let name: String
        let init_prologue: String
        let init_static: String?
        let init_ephemeral: String
        let init_remote_static: String?
        let resp_prologue: String
        let resp_static: String
        let resp_ephemeral: String
        let messages: [Message]
        var testDescription: String { name }
    }

    struct File: Codable {
        let source: String
        let vectors: [Vector]
    }

    static func vectors() throws -> [Vector] {
        try LinkTestSupport.loadVectors("noise-cacophony.json", as: File.self).vectors
    }

    @Test("the file holds exactly the IK and NK BLAKE2b vectors")
    func fileContents() throws {
        let names = try Self.vectors().map(\.name)
        #expect(names == ["Noise_IK_25519_ChaChaPoly_BLAKE2b", "Noise_NK_25519_ChaChaPoly_BLAKE2b"])
        #expect(names == [NoisePattern.ik.protocolName, NoisePattern.nk.protocolName])
    }

    @Test("handshake and transport reproduce every ciphertext", arguments: try LinkNoiseVectorTests.vectors())
    func reproduce(_ vector: Vector) throws {
        let hex = LinkTestSupport.hex
        let pattern: NoisePattern = vector.name.contains("_IK_") ? .ik : .nk
        #expect(pattern.protocolName == vector.name)
        let initiatorStatic = try vector.init_static.map { try AgreementPrivateKey(bytes: hex($0)) }
        let responderStatic = try AgreementPrivateKey(bytes: hex(vector.resp_static))
        if let remote = vector.init_remote_static {
            #expect(responderStatic.publicKey.bytes == hex(remote))
        }

        var initiator = try NoiseHandshakeState(pattern: pattern, role: .initiator, prologue: hex(vector.init_prologue),
                                                localStatic: initiatorStatic, remoteStatic: responderStatic.publicKey)
        var responder = try NoiseHandshakeState(pattern: pattern, role: .responder, prologue: hex(vector.resp_prologue),
                                                localStatic: responderStatic)
        var initiatorRandom = QueuedRandom([hex(vector.init_ephemeral)])
        var responderRandom = QueuedRandom([hex(vector.resp_ephemeral)])

        // Handshake: message 0 from the initiator, message 1 from the responder.
        let handshakeCount = pattern.messages.count
        #expect(vector.messages.count > handshakeCount)
        for (index, message) in vector.messages.prefix(handshakeCount).enumerated() {
            let fromInitiator = index % 2 == 0
            let ciphertext = fromInitiator
                ? try initiator.writeMessage(payload: hex(message.payload), using: &initiatorRandom)
                : try responder.writeMessage(payload: hex(message.payload), using: &responderRandom)
            #expect(Hex.encode(ciphertext) == message.ciphertext, "handshake message \(index)")
            let payload = fromInitiator ? try responder.readMessage(ciphertext) : try initiator.readMessage(ciphertext)
            #expect(payload == hex(message.payload))
        }
        #expect(initiatorRandom.remaining == 0 && responderRandom.remaining == 0)
        #expect(initiator.isComplete && responder.isComplete)
        #expect(initiator.handshakeHash == responder.handshakeHash)
        if let initiatorStatic {
            #expect(responder.remoteStatic == initiatorStatic.publicKey)
        } else {
            #expect(responder.remoteStatic == nil)
        }

        // Transport: the messages keep alternating, under the split cipher states.
        var (iSend, iReceive) = try initiator.split()
        var (rReceive, rSend) = try responder.split()
        for (index, message) in vector.messages.enumerated().dropFirst(handshakeCount) {
            let fromInitiator = index % 2 == 0
            let ciphertext = fromInitiator
                ? try iSend.encrypt(hex(message.payload), associatedData: [])
                : try rSend.encrypt(hex(message.payload), associatedData: [])
            #expect(Hex.encode(ciphertext) == message.ciphertext, "transport message \(index)")
            let payload = fromInitiator
                ? try rReceive.decrypt(ciphertext, associatedData: [])
                : try iReceive.decrypt(ciphertext, associatedData: [])
            #expect(payload == hex(message.payload))
        }
    }
}
