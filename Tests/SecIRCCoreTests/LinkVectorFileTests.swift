import SecIRCCore
import SecIRCCrypto
import Testing

/// Tests/SecIRCCoreTests/Vectors/link-handshake.json: a complete IK exchange (with a cookie
/// round) and NK exchange from `SeededRandom(seed: "secirc link vectors")`, regenerated and
/// compared byte for byte. Another implementation can replay it: it lists the static keys, every
/// datagram in order, and the hashes of the resulting transport keys.
@Suite("Link vector file")
struct LinkVectorFileTests {
    static let seed = "secirc link vectors"
    /// 2025-01-01T00:00:00.123456789Z.
    static let time = UnixTime(nanoseconds: 1_735_689_600_123_456_789)

    struct Datagram: Codable, Equatable {
        /// "initiator" or "responder".
        var from: String
        var name: String
        /// Seconds after `time` at which it is sent and received.
        var at: Double
        var underLoad: Bool?
        var hex: String
    }

    struct Exchange: Codable, Equatable {
        var protocolName: String
        var initiatorStaticPrivate: String?
        var initiatorStaticPublic: String?
        var responderStaticPrivate: String
        var responderStaticPublic: String
        var datagrams: [Datagram]
        var handshakeHash: String
        /// BLAKE2b-256 of the initiator-to-responder and responder-to-initiator transport keys.
        var initiatorToResponderKeyHash: String
        var responderToInitiatorKeyHash: String
    }

    struct File: Codable, Equatable {
        var about: String
        var seed: String
        var prologue: String
        var timeUnixNanoseconds: Int64
        var sourceAddress: String
        var ik: Exchange
        var nk: Exchange
    }

    static func generate() throws -> File {
        var rng = SeededRandom(seed: seed)
        let ik = try exchange(.ik, rng: &rng)
        let nk = try exchange(.nk, rng: &rng)
        return File(about: "secIRC link layer vectors: keys and randomness from SeededRandom(seed), used in the order: IK initiator static, IK responder static, IK responder cookie secret, then each initiation (4 index bytes, then 32 ephemeral bytes), cookie-reply nonce, response (4 index bytes, 32 ephemeral bytes); the same for NK without the initiator static. Transport plaintexts are full link frames: 'secIRC link vectors: ping' etc. padded with zeros; the first initiator packet is the all-zero keepalive.",
                    seed: seed, prologue: Hex.encode(LinkWireFormat.prologue), timeUnixNanoseconds: time.nanoseconds,
                    sourceAddress: Hex.encode(LinkScenario.source), ik: ik, nk: nk)
    }

    static func exchange(_ kind: LinkHandshakeKind, rng: inout SeededRandom) throws -> Exchange {
        let initiatorStatic = kind == .ik ? AgreementPrivateKey(using: &rng) : nil
        let responderStatic = AgreementPrivateKey(using: &rng)
        var responder = LinkResponder(localStatic: responderStatic, now: time, rng: &rng)
        var initiator = initiatorStatic.map { LinkInitiator(localStatic: $0, responderStatic: responderStatic.publicKey) }
            ?? LinkInitiator(anonymousTo: responderStatic.publicKey)
        var datagrams: [Datagram] = []
        func at(_ seconds: Double) -> UnixTime { time.adding(.milliseconds(Int64(seconds * 1000))) }

        var t = 0.0
        if kind == .ik {
            // Under load: the first initiation earns a cookie reply, the second carries mac2.
            let first = try initiator.initiation(now: at(t), rng: &rng)
            datagrams.append(Datagram(from: "initiator", name: "initiation (no cookie)", at: t, underLoad: true, hex: Hex.encode(first)))
            guard case let .sendCookieReply(reply) = responder.receive(first, source: LinkScenario.source, underLoad: true,
                                                                        now: at(t), rng: &rng),
                  case .cookieStored = initiator.receive(reply, now: at(t))
            else { throw DecodeError.invalidValue("cookie round failed") }
            datagrams.append(Datagram(from: "responder", name: "cookie reply", at: t, underLoad: nil, hex: Hex.encode(reply)))
            t = 1
        }
        let initiation = try initiator.initiation(now: at(t), rng: &rng)
        datagrams.append(Datagram(from: "initiator", name: kind == .ik ? "initiation (with mac2)" : "initiation", at: t,
                                  underLoad: kind == .ik, hex: Hex.encode(initiation)))
        guard case .established(var responderSession, let response) = responder.receive(
            initiation, source: LinkScenario.source, underLoad: kind == .ik, now: at(t), rng: &rng)
        else { throw DecodeError.invalidValue("responder refused") }
        datagrams.append(Datagram(from: "responder", name: "response", at: t, underLoad: nil, hex: Hex.encode(response)))
        guard case .established(var initiatorSession, let keepalive?) = initiator.receive(response, now: at(t)) else {
            throw DecodeError.invalidValue("initiator refused")
        }
        datagrams.append(Datagram(from: "initiator", name: "transport: keepalive (counter 0)", at: t, underLoad: nil,
                                  hex: Hex.encode(keepalive)))
        guard case .confirmed = responderSession.open(keepalive, now: at(t)),
              case let .send(pong) = responderSession.seal(LinkScenario.frame("secIRC link vectors: pong"), now: at(t + 0.5)),
              case .deliver = initiatorSession.open(pong, now: at(t + 0.5)),
              case let .send(ping) = initiatorSession.seal(LinkScenario.frame("secIRC link vectors: ping"), now: at(t + 1)),
              case .deliver = responderSession.open(ping, now: at(t + 1))
        else { throw DecodeError.invalidValue("transport failed") }
        datagrams.append(Datagram(from: "responder", name: "transport: pong (counter 0)", at: t + 0.5, underLoad: nil, hex: Hex.encode(pong)))
        datagrams.append(Datagram(from: "initiator", name: "transport: ping (counter 1)", at: t + 1, underLoad: nil, hex: Hex.encode(ping)))

        return Exchange(
            protocolName: kind.pattern.protocolName,
            initiatorStaticPrivate: initiatorStatic.map { $0.withUnsafeScalar { Hex.encode($0) } },
            initiatorStaticPublic: initiatorStatic.map { $0.publicKey.rawValue.hex },
            responderStaticPrivate: responderStatic.withUnsafeScalar { Hex.encode($0) },
            responderStaticPublic: responderStatic.publicKey.rawValue.hex,
            datagrams: datagrams,
            handshakeHash: Hex.encode(initiatorSession.handshakeHash),
            initiatorToResponderKeyHash: initiatorSession.sendKeyHash.hex,
            responderToInitiatorKeyHash: initiatorSession.receiveKeyHash.hex)
    }

    @Test("link-handshake.json matches a fresh run")
    func vectors() throws {
        let generated = try Self.generate()
        let (checkedIn, fresh) = try VectorFile.check("link-handshake.json", generated)
        #expect(checkedIn == fresh)
    }

    @Test("the checked-in datagrams decode with their exact sizes")
    func datagramsDecode() throws {
        let file = try LinkTestSupport.loadVectors("link-handshake.json", as: File.self)
        for exchange in [file.ik, file.nk] {
            for datagram in exchange.datagrams {
                let bytes = LinkTestSupport.hex(datagram.hex)
                let packet = try LinkPacket.decode(bytes)
                #expect(bytes.count == 1232, "\(datagram.name): one size on the wire")
                if case .unknown = packet { Issue.record("unknown datagram \(datagram.name)") }
            }
        }
        #expect(file.ik.datagrams.count == 7 && file.nk.datagrams.count == 5)
    }
}
