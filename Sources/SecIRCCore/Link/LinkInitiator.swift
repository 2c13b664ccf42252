public import SecIRCCrypto

/// The initiating side of one link: builds initiations, takes the response (or a cookie reply)
/// and yields a `LinkSession`. Pure state machine: the caller sends the bytes, runs the retry
/// timer (`LinkTimers.rekeyTimeout`) and gives the time and randomness.
///
/// Contract:
/// - `initiation(now:rng:)` starts a fresh attempt each call: new sender index (4 random bytes,
///   big-endian), new ephemeral key, the current time as timestamp; it replaces any pending
///   attempt, so a late response to an older one is dropped as `.unknownIndex`.
/// - mac1 is keyed by the responder's static key; mac2 uses the cookie of the last accepted
///   cookie reply while it is younger than `cookieLifetime`, else it is 16 zero bytes.
/// - `receive` accepts only a response or cookie reply for the pending index. A bad one leaves
///   the pending attempt as it was (a forgery cannot abort a handshake).
/// - A response arriving `rejectAfterTime` or later after its initiation is dropped (`.expired`).
public struct LinkInitiator: Sendable {
    private struct Pending: Sendable {
        var handshake: NoiseHandshakeState
        let localIndex: UInt32
        let mac1: [UInt8]
        let startedAt: UnixTime
    }

    public let kind: LinkHandshakeKind
    public let responderStatic: AgreementPublicKey
    public let limits: LinkLimits
    public let geometry: PacketGeometry
    private let localStatic: AgreementPrivateKey?
    private let mac1Key: SymmetricKey
    private let cookieKey: SymmetricKey
    private var pending: Pending?
    private var cookie: (value: LinkCookie, receivedAt: UnixTime)?

    /// A relay-to-relay (IK) initiator: authenticates with `localStatic` to the relay whose link
    /// static key is `responderStatic`.
    public init(localStatic: AgreementPrivateKey, responderStatic: AgreementPublicKey,
                limits: LinkLimits = .standard, geometry: PacketGeometry = .standard) {
        self.init(kind: .ik, localStatic: localStatic, responderStatic: responderStatic, limits: limits, geometry: geometry)
    }

    /// A client-to-relay (NK) initiator: anonymous, authenticates the relay whose link static key
    /// is `responderStatic`.
    public init(anonymousTo responderStatic: AgreementPublicKey, limits: LinkLimits = .standard,
                geometry: PacketGeometry = .standard) {
        self.init(kind: .nk, localStatic: nil, responderStatic: responderStatic, limits: limits, geometry: geometry)
    }

    private init(kind: LinkHandshakeKind, localStatic: AgreementPrivateKey?, responderStatic: AgreementPublicKey,
                 limits: LinkLimits, geometry: PacketGeometry) {
        self.kind = kind
        self.localStatic = localStatic
        self.responderStatic = responderStatic
        self.limits = limits
        self.geometry = geometry
        mac1Key = LinkMAC.mac1Key(responderStatic: responderStatic)
        cookieKey = LinkMAC.cookieKey(responderStatic: responderStatic)
    }

    /// The sender index of the pending attempt, if any (route responses and cookie replies by it).
    public var pendingIndex: UInt32? { pending?.localIndex }

    /// Whether the next initiation will carry a mac2.
    public func hasCookie(now: UnixTime) -> Bool { validCookie(now) != nil }

    /// Builds a new initiation. Throws `NoiseError.weakPublicKey` when the responder's static key
    /// is a low-order point (a bad directory entry): nothing can be sent to it.
    public mutating func initiation(now: UnixTime, rng: inout some RandomSource) throws(NoiseError) -> [UInt8] {
        var handshake = try NoiseHandshakeState(pattern: kind.pattern, role: .initiator, prologue: LinkWireFormat.prologue,
                                                localStatic: localStatic, remoteStatic: responderStatic)
        let index = LinkWireFormat.readUInt32(rng.bytes(LinkWireFormat.indexLength), at: 0)
        var message = [kind.initiationType.rawValue]
        message.reserveCapacity(kind.initiationLength)
        LinkWireFormat.append(index, to: &message)
        message += try handshake.writeMessage(payload: LinkTimestamp(now).bytes, using: &rng)
        let mac1 = LinkMAC.mac1(message[...], key: mac1Key)
        message += mac1
        if let cookie = validCookie(now) {
            message += LinkMAC.mac2(message[...], cookie: cookie)
        } else {
            cookie = nil
            message.append(contentsOf: repeatElement(0, count: LinkMAC.length))
        }
        pending = Pending(handshake: handshake, localIndex: index, mac1: mac1, startedAt: now)
        return LinkWireFormat.padded(message, geometry: geometry)
    }

    /// Takes a datagram addressed to this initiator (a response or a cookie reply).
    public mutating func receive(_ bytes: [UInt8], now: UnixTime) -> LinkInitiatorAction {
        let packet: LinkPacket
        do { packet = try LinkPacket.decode(bytes, geometry: geometry) } catch { return .drop(.malformed) }
        switch packet {
        case let .response(response):
            return receiveResponse(response, bytes: bytes, now: now)
        case let .cookieReply(reply):
            return receiveCookieReply(reply, now: now)
        default:
            return .drop(.unexpectedMessage)
        }
    }

    private mutating func receiveResponse(_ response: LinkResponse, bytes: [UInt8], now: UnixTime) -> LinkInitiatorAction {
        guard var attempt = pending, response.receiverIndex == attempt.localIndex else { return .drop(.unknownIndex) }
        guard now >= attempt.startedAt, now.duration(since: attempt.startedAt) < limits.rejectAfterTime else {
            return .drop(.expired)
        }
        let expected = LinkMAC.mac1(bytes[..<LinkResponse.mac1Offset], key: mac1Key)
        guard LinkMAC.matches(response.mac1, expected) else { return .drop(.badMAC1) }
        // Initiators issue no cookies, so a response's mac2 is always 16 zero bytes.
        guard response.mac2.allSatisfy({ $0 == 0 }) else { return .drop(.malformed) }
        let payload: [UInt8]
        do { payload = try attempt.handshake.readMessage(response.noiseMessage) } catch { return .drop(.decryptFailed) }
        guard payload.isEmpty else { return .drop(.malformed) }
        var session: LinkSession
        do {
            session = try LinkSession(kind: kind, role: .initiator, localIndex: attempt.localIndex,
                                      remoteIndex: response.senderIndex, remoteStatic: responderStatic,
                                      handshake: attempt.handshake, now: now, limits: limits, geometry: geometry)
        } catch {
            return .drop(.decryptFailed)
        }
        pending = nil
        let confirmation = session.keepalive(now: now).packet
        return .established(session, send: confirmation)
    }

    private mutating func receiveCookieReply(_ reply: LinkCookieReply, now: UnixTime) -> LinkInitiatorAction {
        guard let attempt = pending, reply.receiverIndex == attempt.localIndex else { return .drop(.unknownIndex) }
        guard var value = try? XChaCha20Poly1305.open(reply.encryptedCookie, key: cookieKey, nonce: reply.nonce,
                                                        associatedData: attempt.mac1)
        else { return .drop(.decryptFailed) }
        defer { ConstantTime.wipe(&value) }
        guard let received = try? LinkCookie(bytes: value) else { return .drop(.decryptFailed) }
        cookie = (received, now)
        return .cookieStored
    }

    private func validCookie(_ now: UnixTime) -> LinkCookie? {
        guard let cookie, now >= cookie.receivedAt, now.duration(since: cookie.receivedAt) < limits.cookieLifetime else {
            return nil
        }
        return cookie.value
    }
}
