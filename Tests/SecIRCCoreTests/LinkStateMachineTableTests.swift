import SecIRCCore
import SecIRCCrypto
import Testing

/// Table tests: each row puts a state machine in a state, feeds it one input, and names the
/// action (or drop reason) it must give.
@Suite("Link state machines: tables")
struct LinkStateMachineTableTests {
    struct Row: Sendable, CustomTestStringConvertible {
        let name: String
        let expected: LinkOutcome
        let run: @Sendable () -> LinkOutcome
        var testDescription: String { "\(name) → \(expected)" }
        init(_ name: String, _ expected: LinkOutcome, _ run: @escaping @Sendable () -> LinkOutcome) {
            self.name = name
            self.expected = expected
            self.run = run
        }
    }

    static let start = LinkScenario.start

    static func at(_ seconds: Double) -> UnixTime { start.adding(.nanoseconds(Int64(seconds * 1e9))) }

    static func limits(rekeyAfterMessages: UInt64 = LinkTimers.rekeyAfterMessages,
                       rejectAfterMessages: UInt64 = LinkTimers.rejectAfterMessages) -> LinkLimits {
        var limits = LinkLimits.standard
        limits.rekeyAfterMessages = rekeyAfterMessages
        limits.rejectAfterMessages = rejectAfterMessages
        return limits
    }

    // MARK: responder

    static let responderRows: [Row] = [
        Row("valid IK initiation", .established) {
            var s = LinkScenario(.ik)
            return LinkOutcome(s.respond(s.initiation()))
        },
        Row("valid NK initiation", .established) {
            var s = LinkScenario(.nk)
            return LinkOutcome(s.respond(s.initiation()))
        },
        Row("initiation with a bad mac1", .drop(.badMAC1)) {
            var s = LinkScenario(.ik)
            var bytes = s.initiation()
            bytes[LinkInitiation.mac1Offset(.ik)] ^= 1
            return LinkOutcome(s.respond(bytes))
        },
        Row("initiation with a bad mac1, under load", .drop(.badMAC1)) {
            var s = LinkScenario(.nk)
            var bytes = s.initiation()
            bytes[10] ^= 0x80
            return LinkOutcome(s.respond(bytes, underLoad: true))
        },
        Row("under load, no mac2", .cookieReply) {
            var s = LinkScenario(.ik)
            return LinkOutcome(s.respond(s.initiation(), underLoad: true))
        },
        Row("under load, mac2 from a cookie of another address", .cookieReply) {
            var s = LinkScenario(.nk)
            let cookie = s.responder.cookie(for: [1, 2, 3], now: start, rng: &s.rng)
            return LinkOutcome(s.respond(LinkScenario.remac(s.initiation(), kind: .nk, cookie: cookie), underLoad: true))
        },
        Row("under load, valid mac2", .established) {
            var s = LinkScenario(.ik)
            guard case let .sendCookieReply(reply) = s.respond(s.initiation(), underLoad: true),
                  case .cookieStored = s.initiator.receive(reply, now: start) else { return .drop(.malformed) }
            return LinkOutcome(s.respond(s.initiation(at: at(1)), at: at(1), underLoad: true))
        },
        Row("under load, mac2 made before the cookie secret rotated", .cookieReply) {
            var s = LinkScenario(.nk)
            let cookie = s.responder.cookie(for: LinkScenario.source, now: start, rng: &s.rng)
            let bytes = LinkScenario.remac(s.initiation(), kind: .nk, cookie: cookie)
            return LinkOutcome(s.respond(bytes, at: at(120), underLoad: true))
        },
        Row("replayed IK initiation (same timestamp)", .drop(.replayedTimestamp)) {
            var s = LinkScenario(.ik)
            let bytes = s.initiation()
            _ = s.respond(bytes)
            return LinkOutcome(s.respond(bytes, at: at(3)))
        },
        Row("IK initiation older than the last accepted", .drop(.replayedTimestamp)) {
            var s = LinkScenario(.ik)
            let old = s.initiation(at: at(1))
            _ = s.respond(s.initiation(at: at(2)), at: at(2))
            return LinkOutcome(s.respond(old, at: at(2)))
        },
        Row("replayed NK initiation", .drop(.replayedInitiation)) {
            var s = LinkScenario(.nk)
            let bytes = s.initiation()
            _ = s.respond(bytes)
            return LinkOutcome(s.respond(bytes))
        },
        Row("IK initiator not allowed", .drop(.unknownPeer)) {
            var s = LinkScenario(.ik, allowed: [])
            return LinkOutcome(s.respond(s.initiation()))
        },
        Row("IK initiation for another responder (mac1 forged)", .drop(.decryptFailed)) {
            var s = LinkScenario(.ik)
            var other = LinkInitiator(localStatic: LinkScenario.initiatorStatic, responderStatic: LinkScenario.strangerStatic.publicKey)
            var rng = SeededRandom(seed: "other")
            guard let bytes = try? other.initiation(now: start, rng: &rng) else { return .drop(.malformed) }
            return LinkOutcome(s.respond(LinkScenario.remac(bytes, kind: .ik)))
        },
        Row("truncated initiation", .drop(.malformed)) {
            var s = LinkScenario(.ik)
            return LinkOutcome(s.respond(Array(s.initiation().dropLast())))
        },
        Row("initiation with a trailing byte", .drop(.malformed)) {
            var s = LinkScenario(.nk)
            return LinkOutcome(s.respond(s.initiation() + [0]))
        },
        Row("a response sent to a responder", .drop(.unexpectedMessage)) {
            var s = LinkScenario(.ik)
            return LinkOutcome(s.respond(s.establish().response))
        },
        Row("a transport packet sent to the responder", .drop(.unexpectedMessage)) {
            var s = LinkScenario(.nk)
            return LinkOutcome(s.respond(s.establish().confirmation))
        },
        Row("an unknown message type", .drop(.unexpectedMessage)) {
            var s = LinkScenario(.ik)
            return LinkOutcome(s.respond([0x42] + [UInt8](repeating: 0, count: 100)))
        },
        Row("an empty datagram", .drop(.malformed)) {
            var s = LinkScenario(.ik)
            return LinkOutcome(s.respond([]))
        },
    ]

    @Test("responder", arguments: responderRows)
    func responder(_ row: Row) { #expect(row.run() == row.expected) }

    // MARK: initiator

    static func withResponse(_ kind: LinkHandshakeKind, _ body: (inout LinkScenario, [UInt8]) -> LinkOutcome) -> LinkOutcome {
        var s = LinkScenario(kind)
        guard case let .established(_, response) = s.respond(s.initiation()) else { return .drop(.malformed) }
        return body(&s, response)
    }

    static let initiatorRows: [Row] = [
        Row("valid IK response", .established) {
            withResponse(.ik) { s, r in LinkOutcome(s.initiator.receive(r, now: start)) }
        },
        Row("valid NK response", .established) {
            withResponse(.nk) { s, r in LinkOutcome(s.initiator.receive(r, now: start)) }
        },
        Row("response for an unknown index", .drop(.unknownIndex)) {
            withResponse(.ik) { s, r in
                var bytes = r
                bytes[LinkResponse.receiverIndexOffset] ^= 0xFF
                return LinkOutcome(s.initiator.receive(LinkScenario.remacResponse(bytes), now: start))
            }
        },
        Row("response with no handshake pending", .drop(.unknownIndex)) {
            withResponse(.nk) { s, r in
                _ = s.initiator.receive(r, now: start)
                return LinkOutcome(s.initiator.receive(r, now: start))
            }
        },
        Row("response with a bad mac1", .drop(.badMAC1)) {
            withResponse(.ik) { s, r in
                var bytes = r
                bytes[LinkResponse.ephemeralOffset] ^= 1
                return LinkOutcome(s.initiator.receive(bytes, now: start))
            }
        },
        Row("response with a non-zero mac2", .drop(.malformed)) {
            withResponse(.ik) { s, r in
                var bytes = r
                bytes[LinkResponse.mac2Offset] = 1
                return LinkOutcome(s.initiator.receive(bytes, now: start))
            }
        },
        Row("response tampered under a valid mac1", .drop(.decryptFailed)) {
            withResponse(.nk) { s, r in
                var bytes = r
                bytes[LinkResponse.encryptedEmptyOffset] ^= 1
                return LinkOutcome(s.initiator.receive(LinkScenario.remacResponse(bytes), now: start))
            }
        },
        Row("response after rejectAfterTime", .drop(.expired)) {
            withResponse(.ik) { s, r in LinkOutcome(s.initiator.receive(r, now: at(180))) }
        },
        Row("response just before rejectAfterTime", .established) {
            withResponse(.ik) { s, r in LinkOutcome(s.initiator.receive(r, now: at(179.999))) }
        },
        Row("valid cookie reply", .cookieStored) {
            var s = LinkScenario(.nk)
            guard case let .sendCookieReply(reply) = s.respond(s.initiation(), underLoad: true) else { return .drop(.malformed) }
            return LinkOutcome(s.initiator.receive(reply, now: start))
        },
        Row("cookie reply sealed for another initiation's mac1", .drop(.decryptFailed)) {
            var s = LinkScenario(.ik)
            var other = s
            guard case let .sendCookieReply(reply) = other.respond(other.initiation(), underLoad: true) else { return .drop(.malformed) }
            // Same index (same seed), different mac1: a later initiation at another time.
            _ = s.initiation(at: at(1))
            return LinkOutcome(s.initiator.receive(reply, now: at(1)))
        },
        Row("cookie reply for another index", .drop(.unknownIndex)) {
            var s = LinkScenario(.ik)
            guard case let .sendCookieReply(reply) = s.respond(s.initiation(), underLoad: true) else { return .drop(.malformed) }
            var bytes = reply
            bytes[LinkCookieReply.receiverIndexOffset + 3] ^= 1
            return LinkOutcome(s.initiator.receive(bytes, now: start))
        },
        Row("an initiation sent to an initiator", .drop(.unexpectedMessage)) {
            var s = LinkScenario(.ik)
            let bytes = s.initiation()
            return LinkOutcome(s.initiator.receive(bytes, now: start))
        },
        Row("a truncated response", .drop(.malformed)) {
            withResponse(.ik) { s, r in LinkOutcome(s.initiator.receive(Array(r.prefix(88)), now: start)) }
        },
    ]

    @Test("initiator", arguments: initiatorRows)
    func initiator(_ row: Row) { #expect(row.run() == row.expected) }

    // MARK: session

    static let sessionRows: [Row] = [
        Row("responder seals before confirmation", .refused(.notConfirmed)) {
            var s = LinkScenario(.ik)
            var e = s.establish()
            return LinkOutcome(e.responderSession.seal(LinkScenario.frame("early"), now: start))
        },
        Row("responder gets the first transport packet", .confirmed) {
            var s = LinkScenario(.nk)
            var e = s.establish()
            return LinkOutcome(e.responderSession.open(e.confirmation, now: start))
        },
        Row("responder seals after confirmation", .send) {
            var s = LinkScenario(.nk)
            var sessions = s.confirmedSessions()
            return LinkOutcome(sessions.responder.seal(LinkScenario.frame("late"), now: start))
        },
        Row("second packet", .deliver) {
            var s = LinkScenario(.ik)
            var (i, r) = s.confirmedSessions()
            return LinkOutcome(r.open(i.seal(LinkScenario.frame("2"), now: start).packet ?? [], now: start))
        },
        Row("replayed counter", .drop(.replayedCounter)) {
            var s = LinkScenario(.ik)
            var (i, r) = s.confirmedSessions()
            let packet = i.seal(LinkScenario.frame("x"), now: start).packet ?? []
            _ = r.open(packet, now: start)
            return LinkOutcome(r.open(packet, now: start))
        },
        Row("out of order within the window", .deliver) {
            var s = LinkScenario(.ik)
            var (i, r) = s.confirmedSessions()
            let early = i.seal(LinkScenario.frame("early"), now: start).packet ?? []
            for _ in 0..<100 { _ = r.open(i.seal([1], now: start).packet ?? [], now: start) }
            return LinkOutcome(r.open(early, now: start))
        },
        Row("counter behind the window", .drop(.counterTooOld)) {
            var s = LinkScenario(.nk)
            var (i, r) = s.confirmedSessions()
            let old = i.seal([0], now: start).packet ?? []
            for _ in 0..<Int(LinkReplayWindow.windowSize) { _ = i.seal([], now: start) }
            _ = r.open(i.seal([2], now: start).packet ?? [], now: start)
            return LinkOutcome(r.open(old, now: start))
        },
        Row("packet for another index", .drop(.unknownIndex)) {
            var s = LinkScenario(.ik)
            var (i, r) = s.confirmedSessions()
            var packet = i.seal([1], now: start).packet ?? []
            packet[LinkTransportPacket.receiverIndexOffset] ^= 1
            return LinkOutcome(r.open(packet, now: start))
        },
        Row("tampered ciphertext", .drop(.decryptFailed)) {
            var s = LinkScenario(.ik)
            var (i, r) = s.confirmedSessions()
            var packet = i.seal(LinkScenario.frame("t"), now: start).packet ?? []
            packet[600] ^= 4
            return LinkOutcome(r.open(packet, now: start))
        },
        Row("tampered header (counter) under a valid tag", .drop(.decryptFailed)) {
            var s = LinkScenario(.nk)
            var (i, r) = s.confirmedSessions()
            var packet = i.seal(LinkScenario.frame("t"), now: start).packet ?? []
            packet[LinkTransportPacket.counterOffset + 7] ^= 8
            return LinkOutcome(r.open(packet, now: start))
        },
        Row("a forged packet does not move the window", .deliver) {
            var s = LinkScenario(.nk)
            var (i, r) = s.confirmedSessions()
            let next = i.seal([5], now: start).packet ?? []
            var forged = next
            forged[LinkTransportPacket.counterOffset] = 0x7F // far ahead, not authentic
            _ = r.open(forged, now: start)
            return LinkOutcome(r.open(next, now: start))
        },
        Row("truncated transport packet", .drop(.malformed)) {
            var s = LinkScenario(.ik)
            var (_, r) = s.confirmedSessions()
            return LinkOutcome(r.open([5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], now: start))
        },
        Row("oversized transport packet", .drop(.malformed)) {
            var s = LinkScenario(.ik)
            var (_, r) = s.confirmedSessions()
            return LinkOutcome(r.open([5] + [UInt8](repeating: 0, count: 1232), now: start))
        },
        Row("open after rejectAfterTime", .drop(.expired)) {
            var s = LinkScenario(.ik)
            var (i, r) = s.confirmedSessions()
            let packet = i.seal([1], now: at(179)).packet ?? []
            return LinkOutcome(r.open(packet, now: at(180)))
        },
        Row("seal after rejectAfterTime", .refused(.expired)) {
            var s = LinkScenario(.nk)
            var (i, _) = s.confirmedSessions()
            return LinkOutcome(i.seal([1], now: at(180)))
        },
        Row("initiator seals at rekeyAfterTime", .sendAndRekey) {
            var s = LinkScenario(.ik)
            var (i, _) = s.confirmedSessions()
            return LinkOutcome(i.seal([1], now: at(120)))
        },
        Row("initiator seals just before rekeyAfterTime", .send) {
            var s = LinkScenario(.ik)
            var (i, _) = s.confirmedSessions()
            return LinkOutcome(i.seal([1], now: at(119.999)))
        },
        Row("responder seals at rekeyAfterTime (only initiators rekey by age)", .send) {
            var s = LinkScenario(.ik)
            var (_, r) = s.confirmedSessions()
            return LinkOutcome(r.seal([1], now: at(120)))
        },
        Row("initiator timer at rekeyAfterTime", .timer(.rekeyNeeded)) {
            var s = LinkScenario(.nk)
            return .timer(s.confirmedSessions().initiator.timerAction(now: at(120)))
        },
        Row("initiator timer before rekeyAfterTime", .timer(.nothing)) {
            var s = LinkScenario(.nk)
            return .timer(s.confirmedSessions().initiator.timerAction(now: at(60)))
        },
        Row("responder timer at rekeyAfterTime", .timer(.nothing)) {
            var s = LinkScenario(.ik)
            return .timer(s.confirmedSessions().responder.timerAction(now: at(150)))
        },
        Row("timer at rejectAfterTime", .timer(.expired)) {
            var s = LinkScenario(.ik)
            return .timer(s.confirmedSessions().responder.timerAction(now: at(180)))
        },
        Row("seal reaching rekeyAfterMessages", .sendAndRekey) {
            var s = LinkScenario(.ik, initiatorLimits: limits(rekeyAfterMessages: 3, rejectAfterMessages: 10))
            var (i, _) = s.confirmedSessions() // the keepalive was packet 0
            _ = i.seal([1], now: start)
            return LinkOutcome(i.seal([1], now: start))
        },
        Row("seal at rejectAfterMessages", .refused(.counterLimit)) {
            var s = LinkScenario(.nk, initiatorLimits: limits(rekeyAfterMessages: 3, rejectAfterMessages: 4))
            var (i, _) = s.confirmedSessions()
            for _ in 0..<3 { _ = i.seal([1], now: start) }
            return LinkOutcome(i.seal([1], now: start))
        },
        Row("timer at rejectAfterMessages", .timer(.expired)) {
            var s = LinkScenario(.nk, initiatorLimits: limits(rekeyAfterMessages: 1, rejectAfterMessages: 2))
            var (i, _) = s.confirmedSessions()
            _ = i.seal([1], now: start)
            return .timer(i.timerAction(now: start))
        },
        Row("open a counter at rejectAfterMessages", .drop(.counterLimit)) {
            var s = LinkScenario(.ik, responderLimits: limits(rekeyAfterMessages: 2, rejectAfterMessages: 3))
            var (i, r) = s.confirmedSessions()
            for _ in 0..<2 { _ = r.open(i.seal([1], now: start).packet ?? [], now: start) }
            return LinkOutcome(r.open(i.seal([1], now: start).packet ?? [], now: start))
        },
        Row("frame longer than the link frame", .refused(.frameTooLong)) {
            var s = LinkScenario(.ik)
            var (i, _) = s.confirmedSessions()
            return LinkOutcome(i.seal([UInt8](repeating: 0, count: PacketGeometry.standard.linkFrameLength + 1), now: start))
        },
    ]

    @Test("session", arguments: sessionRows)
    func session(_ row: Row) { #expect(row.run() == row.expected) }
}
