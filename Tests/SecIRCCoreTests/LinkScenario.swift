import SecIRCCore
import SecIRCCrypto

/// A pair of relays (and a client) with fixed keys, and helpers that run the link handshake
/// between them. Everything is deterministic: keys and randomness come from seeds.
struct LinkScenario {
    static let initiatorStatic = LinkTestSupport.agreementKey("link relay A")
    static let responderStatic = LinkTestSupport.agreementKey("link relay B")
    static let strangerStatic = LinkTestSupport.agreementKey("link relay C")
    /// The initiator's address as the responder's caller names it (IPv4 + port).
    static let source: [UInt8] = [192, 0, 2, 1, 0x1a, 0x22]
    static let start = LinkTestSupport.time()

    var rng: SeededRandom
    var responder: LinkResponder
    var initiator: LinkInitiator
    let kind: LinkHandshakeKind

    init(_ kind: LinkHandshakeKind, seed: String = "link scenario", initiatorLimits: LinkLimits = .standard,
         responderLimits: LinkLimits = .standard, allowed: Set<AgreementPublicKey>? = nil) {
        self.kind = kind
        rng = SeededRandom(seed: seed)
        responder = LinkResponder(localStatic: Self.responderStatic, allowedInitiators: allowed, limits: responderLimits,
                                  now: Self.start, rng: &rng)
        initiator = kind == .ik
            ? LinkInitiator(localStatic: Self.initiatorStatic, responderStatic: Self.responderStatic.publicKey, limits: initiatorLimits)
            : LinkInitiator(anonymousTo: Self.responderStatic.publicKey, limits: initiatorLimits)
    }

    /// A fresh initiation from the initiator.
    mutating func initiation(at now: UnixTime = LinkScenario.start) -> [UInt8] {
        do { return try initiator.initiation(now: now, rng: &rng) } catch { fatalError("initiation failed: \(error)") }
    }

    /// The responder's answer to `bytes`.
    mutating func respond(_ bytes: [UInt8], at now: UnixTime = LinkScenario.start, underLoad: Bool = false,
                          source: [UInt8] = LinkScenario.source) -> LinkResponderAction {
        responder.receive(bytes, source: source, underLoad: underLoad, now: now, rng: &rng)
    }

    struct Established {
        var initiatorSession: LinkSession
        var responderSession: LinkSession
        let initiation: [UInt8]
        let response: [UInt8]
        let confirmation: [UInt8]
    }

    /// A whole handshake at `now`; the responder session is not yet confirmed.
    mutating func establish(at now: UnixTime = LinkScenario.start) -> Established {
        let initiation = initiation(at: now)
        guard case let .established(responderSession, response) = respond(initiation, at: now) else {
            fatalError("responder did not accept the initiation")
        }
        guard case let .established(initiatorSession, confirmation?) = initiator.receive(response, now: now) else {
            fatalError("initiator did not accept the response")
        }
        return Established(initiatorSession: initiatorSession, responderSession: responderSession,
                           initiation: initiation, response: response, confirmation: confirmation)
    }

    /// A handshake whose responder session has also received the initiator's keepalive.
    mutating func confirmedSessions(at now: UnixTime = LinkScenario.start) -> (initiator: LinkSession, responder: LinkSession) {
        var established = establish(at: now)
        guard case .confirmed = established.responderSession.open(established.confirmation, now: now) else {
            fatalError("responder did not confirm")
        }
        return (established.initiatorSession, established.responderSession)
    }

    /// `bytes` with mac1 (and mac2, when a cookie is given) recomputed for the responder, so a
    /// change elsewhere reaches the Noise layer.
    static func remac(_ bytes: [UInt8], kind: LinkHandshakeKind, cookie: LinkCookie? = nil) -> [UInt8] {
        let key = LinkMAC.mac1Key(responderStatic: responderStatic.publicKey)
        let mac1At = LinkInitiation.mac1Offset(kind)
        var out = Array(bytes[..<mac1At])
        out += LinkMAC.mac1(out[...], key: key)
        if let cookie {
            out += LinkMAC.mac2(out[...], cookie: cookie)
        } else {
            out += bytes[(mac1At + LinkMAC.length)..<(mac1At + 2 * LinkMAC.length)]
        }
        return LinkWireFormat.padded(out, geometry: .standard)
    }

    /// A response with mac1 recomputed.
    static func remacResponse(_ bytes: [UInt8]) -> [UInt8] {
        let key = LinkMAC.mac1Key(responderStatic: responderStatic.publicKey)
        var out = Array(bytes[..<LinkResponse.mac1Offset])
        out += LinkMAC.mac1(out[...], key: key)
        out += bytes[LinkResponse.mac2Offset...]
        return out
    }

    /// A full-size frame starting with `text`.
    static func frame(_ text: String, geometry: PacketGeometry = .standard) -> [UInt8] {
        var frame = Array(text.utf8)
        frame += [UInt8](repeating: 0, count: max(0, geometry.linkFrameLength - frame.count))
        return frame
    }
}

/// A comparable summary of any link action, for table tests.
enum LinkOutcome: Hashable, CustomStringConvertible {
    case established
    case cookieReply
    case cookieStored
    case drop(LinkDropReason)
    case deliver
    case confirmed
    case send
    case sendAndRekey
    case refused(LinkDropReason)
    case timer(LinkTimerAction)

    init(_ action: LinkResponderAction) {
        switch action {
        case .established: self = .established
        case .sendCookieReply: self = .cookieReply
        case let .drop(reason): self = .drop(reason)
        }
    }

    init(_ action: LinkInitiatorAction) {
        switch action {
        case .established: self = .established
        case .cookieStored: self = .cookieStored
        case let .drop(reason): self = .drop(reason)
        }
    }

    init(_ action: LinkReceiveAction) {
        switch action {
        case .deliver: self = .deliver
        case .confirmed: self = .confirmed
        case let .drop(reason): self = .drop(reason)
        }
    }

    init(_ result: LinkSealResult) {
        switch result {
        case .send: self = .send
        case .sendAndRekey: self = .sendAndRekey
        case let .refused(reason): self = .refused(reason)
        }
    }

    var description: String {
        switch self {
        case .established: "established"
        case .cookieReply: "cookie reply"
        case .cookieStored: "cookie stored"
        case let .drop(reason): "drop(\(reason.rawValue))"
        case .deliver: "deliver"
        case .confirmed: "confirmed"
        case .send: "send"
        case .sendAndRekey: "send and rekey"
        case let .refused(reason): "refused(\(reason.rawValue))"
        case let .timer(action): "timer(\(action))"
        }
    }
}
