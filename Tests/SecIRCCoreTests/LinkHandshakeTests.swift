import SecIRCCore
import SecIRCCrypto
import Testing

/// Whole IK and NK handshakes, transport both ways, wrong keys, tampering, cookies, replays.
@Suite("Link handshake")
struct LinkHandshakeTests {
    @Test("handshake then transport both ways", arguments: LinkHandshakeKind.allCases)
    func fullHandshake(_ kind: LinkHandshakeKind) throws {
        var scenario = LinkScenario(kind)
        let established = scenario.establish()
        // Every datagram is one size: handshake messages padded with zeros (PROTOCOL §4.1).
        #expect(established.initiation.count == PacketGeometry.standard.datagramSize)
        #expect(established.initiation[kind.initiationLength...].allSatisfy { $0 == 0 })
        #expect(established.initiation.first == kind.initiationType.rawValue)
        #expect(established.response.count == PacketGeometry.standard.datagramSize)
        #expect(established.response[LinkWireFormat.responseLength...].allSatisfy { $0 == 0 })
        #expect(established.confirmation.count == PacketGeometry.standard.datagramSize)
        #expect(scenario.initiator.pendingIndex == nil)

        var initiator = established.initiatorSession
        var responder = established.responderSession
        #expect(initiator.kind == kind && responder.kind == kind)
        #expect(initiator.role == .initiator && responder.role == .responder)
        #expect(initiator.remoteIndex == responder.localIndex && responder.remoteIndex == initiator.localIndex)
        #expect(initiator.remoteStatic == LinkScenario.responderStatic.publicKey)
        #expect(responder.remoteStatic == (kind == .ik ? LinkScenario.initiatorStatic.publicKey : nil))
        #expect(initiator.handshakeHash == responder.handshakeHash)
        #expect(initiator.sendKeyHash == responder.receiveKeyHash)
        #expect(initiator.receiveKeyHash == responder.sendKeyHash)
        #expect(initiator.sendKeyHash != initiator.receiveKeyHash)

        // Key confirmation: the responder may not send until the keepalive arrives.
        #expect(responder.seal([1], now: LinkScenario.start) == .refused(.notConfirmed))
        #expect(!responder.isConfirmed)
        let now = LinkScenario.start
        #expect(responder.open(established.confirmation, now: now)
                == .confirmed([UInt8](repeating: 0, count: PacketGeometry.standard.linkFrameLength)))
        #expect(responder.isConfirmed)

        for round in 0..<20 {
            let up = LinkScenario.frame("up \(round)")
            guard case let .send(upPacket) = initiator.seal(up, now: now) else { Issue.record("seal up"); return }
            #expect(upPacket.count == 1232)
            #expect(responder.open(upPacket, now: now) == .deliver(up))
            let down = LinkScenario.frame("down \(round)")
            guard case let .send(downPacket) = responder.seal(down, now: now) else { Issue.record("seal down"); return }
            #expect(downPacket.count == 1232)
            #expect(initiator.open(downPacket, now: now) == .deliver(down))
        }
        #expect(initiator.sendCounter == 21 && responder.sendCounter == 20)

        // Shorter plaintexts work too (the caller pads data packets; the session does not insist).
        guard case let .send(short) = initiator.seal([7, 7, 7], now: now) else { Issue.record("seal short"); return }
        #expect(short.count == LinkWireFormat.transportMinimumLength + 3)
        #expect(responder.open(short, now: now) == .deliver([7, 7, 7]))
        guard case let .send(empty) = responder.seal([], now: now) else { Issue.record("seal empty"); return }
        #expect(initiator.open(empty, now: now) == .deliver([]))
    }

    @Test("an initiator that targets the wrong static key fails", arguments: LinkHandshakeKind.allCases)
    func wrongResponderKey(_ kind: LinkHandshakeKind) throws {
        var scenario = LinkScenario(kind)
        var wrong = kind == .ik
            ? LinkInitiator(localStatic: LinkScenario.initiatorStatic, responderStatic: LinkScenario.strangerStatic.publicKey)
            : LinkInitiator(anonymousTo: LinkScenario.strangerStatic.publicKey)
        var rng = SeededRandom(seed: "wrong key")
        let initiation = try wrong.initiation(now: LinkScenario.start, rng: &rng)
        // mac1 is keyed by the intended responder: the real one drops it before any X25519.
        #expect(LinkOutcome(scenario.respond(initiation)) == .drop(.badMAC1))
        // With mac1 forged for the real responder, the Noise layer fails (es uses the wrong key).
        let forged = LinkScenario.remac(initiation, kind: kind)
        #expect(LinkOutcome(scenario.respond(forged)) == .drop(.decryptFailed))
    }

    @Test("every single-bit flip of an initiation is rejected", arguments: LinkHandshakeKind.allCases)
    func tamperedInitiation(_ kind: LinkHandshakeKind) throws {
        var scenario = LinkScenario(kind)
        // Under load, with the cookie, so mac2 is checked too.
        let cookie = scenario.responder.cookie(for: LinkScenario.source, now: LinkScenario.start, rng: &scenario.rng)
        let genuine = LinkScenario.remac(scenario.initiation(), kind: kind, cookie: cookie)
        do {
            var probe = scenario
            #expect(LinkOutcome(probe.respond(genuine, underLoad: true)) == .established)
        }
        var accepted: [Int] = []
        for bit in 0..<(genuine.count * 8) {
            var probe = scenario
            let outcome = LinkOutcome(probe.respond(LinkTestSupport.flippingBit(bit, of: genuine), underLoad: true))
            let byte = bit / 8
            switch outcome {
            // The type byte, or the zero padding after the message.
            case .drop(.malformed), .drop(.unexpectedMessage): #expect(byte == 0 || byte >= kind.initiationLength)
            case .drop(.badMAC1): #expect(byte > 0 && byte < LinkInitiation.mac2Offset(kind))
            case .cookieReply: #expect(byte >= LinkInitiation.mac2Offset(kind) && byte < kind.initiationLength)
            default: accepted.append(bit)
            }
        }
        #expect(accepted.isEmpty, "accepted flips at bits \(accepted)")

        // With both MACs recomputed, a flip anywhere in the Noise message still fails there.
        let noiseRange = LinkInitiation.noiseOffset..<LinkInitiation.mac1Offset(kind)
        var reachedNoise = 0
        for bit in (noiseRange.lowerBound * 8)..<(noiseRange.upperBound * 8) {
            var probe = scenario
            let tampered = LinkScenario.remac(LinkTestSupport.flippingBit(bit, of: genuine), kind: kind, cookie: cookie)
            let outcome = LinkOutcome(probe.respond(tampered, underLoad: true))
            #expect(outcome == .drop(.decryptFailed), "bit \(bit)")
            if outcome == .drop(.decryptFailed) { reachedNoise += 1 }
        }
        #expect(reachedNoise == noiseRange.count * 8)
    }

    @Test("not under load, mac2 is not checked (WireGuard's rule); everything else is")
    func mac2IgnoredWithoutLoad() {
        var scenario = LinkScenario(.nk)
        let genuine = scenario.initiation()
        for byte in LinkInitiation.mac2Offset(.nk)..<LinkWireFormat.initiationNKLength {
            var probe = scenario
            #expect(LinkOutcome(probe.respond(LinkTestSupport.flippingBit(byte * 8, of: genuine))) == .established)
        }
        // The padding is checked, load or not.
        for byte in [LinkWireFormat.initiationNKLength, genuine.count - 1] {
            var probe = scenario
            #expect(LinkOutcome(probe.respond(LinkTestSupport.flippingBit(byte * 8, of: genuine))) == .drop(.malformed))
        }
    }

    @Test("every single-bit flip of a response is rejected, and the genuine one still works after", arguments: LinkHandshakeKind.allCases)
    func tamperedResponse(_ kind: LinkHandshakeKind) {
        var scenario = LinkScenario(kind)
        let initiation = scenario.initiation()
        guard case let .established(_, genuine) = scenario.respond(initiation) else { Issue.record("no response"); return }
        var accepted: [Int] = []
        for bit in 0..<(genuine.count * 8) {
            let outcome = LinkOutcome(scenario.initiator.receive(LinkTestSupport.flippingBit(bit, of: genuine), now: LinkScenario.start))
            if case .drop = outcome { continue }
            accepted.append(bit)
        }
        #expect(accepted.isEmpty, "accepted flips at bits \(accepted)")
        // With mac1 recomputed, Noise catches a flip in the ephemeral or the encrypted payload.
        for bit in (LinkResponse.ephemeralOffset * 8)..<(LinkResponse.mac1Offset * 8) {
            let tampered = LinkScenario.remacResponse(LinkTestSupport.flippingBit(bit, of: genuine))
            #expect(LinkOutcome(scenario.initiator.receive(tampered, now: LinkScenario.start)) == .drop(.decryptFailed))
        }
        // None of that disturbed the pending handshake.
        #expect(LinkOutcome(scenario.initiator.receive(genuine, now: LinkScenario.start)) == .established)
    }

    @Test("every single-bit flip of a cookie reply is rejected")
    func tamperedCookieReply() {
        var scenario = LinkScenario(.ik)
        let initiation = scenario.initiation()
        guard case let .sendCookieReply(genuine) = scenario.respond(initiation, underLoad: true) else {
            Issue.record("no cookie reply"); return
        }
        #expect(genuine.count == PacketGeometry.standard.datagramSize)
        for bit in 0..<(genuine.count * 8) {
            var probe = scenario.initiator
            let outcome = LinkOutcome(probe.receive(LinkTestSupport.flippingBit(bit, of: genuine), now: LinkScenario.start))
            #expect(outcome != .cookieStored, "bit \(bit)")
            #expect(!probe.hasCookie(now: LinkScenario.start))
        }
        #expect(LinkOutcome(scenario.initiator.receive(genuine, now: LinkScenario.start)) == .cookieStored)
    }

    @Test("cookie flow: under load, no X25519 before a valid mac2; the cookie then gets through", arguments: LinkHandshakeKind.allCases)
    func cookieFlow(_ kind: LinkHandshakeKind) {
        var scenario = LinkScenario(kind)
        let start = LinkScenario.start
        // A valid mac1 over garbage Noise bytes: under load the answer is a cookie reply, which
        // shows the responder decided before touching the Noise message.
        var garbage = scenario.initiation()
        for i in LinkInitiation.noiseOffset..<LinkInitiation.mac1Offset(kind) { garbage[i] = 0xA5 }
        garbage = LinkScenario.remac(garbage, kind: kind)
        #expect(LinkOutcome(scenario.respond(garbage, underLoad: true)) == .cookieReply)
        #expect(LinkOutcome(scenario.respond(garbage, underLoad: false)) == .drop(.decryptFailed))

        let mac2 = LinkInitiation.mac2Offset(kind)..<kind.initiationLength
        let first = scenario.initiation(at: start)
        #expect(first[mac2] == [UInt8](repeating: 0, count: 16)[...])
        guard case let .sendCookieReply(reply) = scenario.respond(first, at: start, underLoad: true) else {
            Issue.record("expected a cookie reply"); return
        }
        #expect(LinkOutcome(scenario.initiator.receive(reply, now: start.adding(.milliseconds(1)))) == .cookieStored)
        #expect(scenario.initiator.hasCookie(now: start.adding(.seconds(119))))
        #expect(!scenario.initiator.hasCookie(now: start.adding(.seconds(121))))

        let second = scenario.initiation(at: start.adding(.seconds(1)))
        #expect(second[mac2] != [UInt8](repeating: 0, count: 16)[...])
        guard case let .established(_, response) = scenario.respond(second, at: start.adding(.seconds(1)), underLoad: true) else {
            Issue.record("expected established under load with mac2"); return
        }
        #expect(LinkOutcome(scenario.initiator.receive(response, now: start.adding(.seconds(1)))) == .established)

        // The cookie is bound to the source address.
        let third = scenario.initiation(at: start.adding(.seconds(2)))
        #expect(LinkOutcome(scenario.respond(third, at: start.adding(.seconds(2)), underLoad: true, source: [10, 0, 0, 9]))
                == .cookieReply)

        // After the secret's lifetime the old cookie no longer makes a valid mac2.
        let late = start.adding(.seconds(125))
        let fourth = scenario.initiation(at: start.adding(.seconds(100)))
        #expect(fourth[mac2] != [UInt8](repeating: 0, count: 16)[...])
        #expect(LinkOutcome(scenario.respond(fourth, at: late, underLoad: true)) == .cookieReply)
    }

    @Test("a cookie reply to an older attempt is dropped")
    func staleCookieReply() {
        var scenario = LinkScenario(.nk)
        let first = scenario.initiation()
        guard case let .sendCookieReply(reply) = scenario.respond(first, underLoad: true) else { Issue.record("no reply"); return }
        _ = scenario.initiation()
        #expect(LinkOutcome(scenario.initiator.receive(reply, now: LinkScenario.start)) == .drop(.unknownIndex))
    }

    @Test("replays: IK by timestamp, NK by ephemeral")
    func replays() {
        var ik = LinkScenario(.ik)
        let start = LinkScenario.start
        let initiation = ik.initiation(at: start)
        #expect(LinkOutcome(ik.respond(initiation)) == .established)
        #expect(LinkOutcome(ik.respond(initiation)) == .drop(.replayedTimestamp))
        // A new initiation made at the same instant carries an equal timestamp: refused.
        let sameInstant = ik.initiation(at: start)
        #expect(LinkOutcome(ik.respond(sameInstant)) == .drop(.replayedTimestamp))
        let later = ik.initiation(at: start.adding(.nanoseconds(1)))
        #expect(LinkOutcome(ik.respond(later)) == .established)
        #expect(ik.responder.timestamps.greatest(for: LinkScenario.initiatorStatic.publicKey)
                == LinkTimestamp(start.adding(.nanoseconds(1))))

        var nk = LinkScenario(.nk)
        let nkInitiation = nk.initiation(at: start)
        #expect(LinkOutcome(nk.respond(nkInitiation)) == .established)
        #expect(LinkOutcome(nk.respond(nkInitiation)) == .drop(.replayedInitiation))
        // NK has no per-initiator timestamps: a fresh ephemeral at the same instant is fine.
        #expect(LinkOutcome(nk.respond(nk.initiation(at: start))) == .established)
    }

    @Test("the timestamp table is bounded and forgets the least recently updated key")
    func boundedTimestampTable() throws {
        var limits = LinkLimits.standard
        limits.timestampTableCapacity = 2
        var rng = SeededRandom(seed: "bounded table")
        var responder = LinkResponder(localStatic: LinkScenario.responderStatic, limits: limits, now: LinkScenario.start, rng: &rng)
        let keys = (0..<3).map { LinkTestSupport.agreementKey("bounded \($0)") }
        var firstInitiation: [UInt8] = []
        for (i, key) in keys.enumerated() {
            var initiator = LinkInitiator(localStatic: key, responderStatic: LinkScenario.responderStatic.publicKey)
            let bytes = try initiator.initiation(now: LinkScenario.start, rng: &rng)
            if i == 0 { firstInitiation = bytes }
            let outcome = LinkOutcome(responder.receive(bytes, source: [], underLoad: false, now: LinkScenario.start, rng: &rng))
            #expect(outcome == .established)
            #expect(responder.timestamps.count == min(i + 1, 2))
        }
        #expect(responder.timestamps.greatest(for: keys[0].publicKey) == nil)
        #expect(responder.timestamps.greatest(for: keys[2].publicKey) != nil)
        // The forgotten key's old initiation passes once more (documented; a responder session
        // is useless without the initiator's keys, and IK responders restrict initiators).
        #expect(LinkOutcome(responder.receive(firstInitiation, source: [], underLoad: false, now: LinkScenario.start, rng: &rng))
                == .established)
    }

    @Test("IK initiators outside the allowed set are refused")
    func allowedInitiators() {
        var scenario = LinkScenario(.ik, allowed: [LinkScenario.strangerStatic.publicKey])
        #expect(LinkOutcome(scenario.respond(scenario.initiation())) == .drop(.unknownPeer))
        var allowed = LinkScenario(.ik, allowed: [LinkScenario.initiatorStatic.publicKey])
        #expect(LinkOutcome(allowed.respond(allowed.initiation())) == .established)
    }

    @Test("the initiator takes only the response to its current attempt, once, in time")
    func responseRouting() {
        var scenario = LinkScenario(.ik)
        let first = scenario.initiation()
        guard case let .established(_, oldResponse) = scenario.respond(first) else { Issue.record("no response"); return }
        let second = scenario.initiation(at: LinkScenario.start.adding(.seconds(5)))
        #expect(LinkOutcome(scenario.initiator.receive(oldResponse, now: LinkScenario.start.adding(.seconds(5)))) == .drop(.unknownIndex))
        guard case let .established(_, response) = scenario.respond(second, at: LinkScenario.start.adding(.seconds(5))) else {
            Issue.record("no second response"); return
        }
        var late = scenario.initiator
        #expect(LinkOutcome(late.receive(response, now: LinkScenario.start.adding(.seconds(185)))) == .drop(.expired))
        #expect(LinkOutcome(scenario.initiator.receive(response, now: LinkScenario.start.adding(.seconds(6)))) == .established)
        #expect(LinkOutcome(scenario.initiator.receive(response, now: LinkScenario.start.adding(.seconds(6)))) == .drop(.unknownIndex))
    }

    @Test("a low-order responder key cannot be initiated to")
    func lowOrderResponderKey() throws {
        let zero = try AgreementPublicKey(bytes: [UInt8](repeating: 0, count: 32))
        var initiator = LinkInitiator(anonymousTo: zero)
        var rng = SeededRandom(seed: "low order")
        #expect(throws: NoiseError.weakPublicKey) { _ = try initiator.initiation(now: LinkScenario.start, rng: &rng) }
    }
}
