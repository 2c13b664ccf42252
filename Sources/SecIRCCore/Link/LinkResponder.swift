public import SecIRCCrypto

/// The responding side of the link handshake for one local link static key: takes IK and NK
/// initiations from any source and answers with a response (and a new `LinkSession`) or, under
/// load, a cookie reply. It keeps no state per handshake, only the cookie secret, the bounded
/// greatest-timestamp table (IK) and a bounded set of recent NK ephemerals.
///
/// Order of checks for an initiation, cheapest first:
/// 1. exact length for its type (`.malformed`), type is an initiation (`.unexpectedMessage`);
/// 2. mac1 under our static key (`.badMAC1`) — no X25519 work before this;
/// 3. under load: mac2 under the cookie for `source`, else a cookie reply (still no X25519);
/// 4. NK: ephemeral not among the recent ones (`.replayedInitiation`);
/// 5. the Noise message (`.decryptFailed`), the timestamp (`.malformed`);
/// 6. IK: initiator allowed (`.unknownPeer`), timestamp greater than the greatest accepted from
///    that key (`.replayedTimestamp`).
/// Only a fully valid initiation changes state (timestamp table, recent ephemerals).
///
/// The responder's new index is 4 random bytes (big-endian); the caller's session table must
/// refuse an index already in use (drop the handshake; the initiator retries).
public struct LinkResponder: Sendable {
    public let localStatic: AgreementPrivateKey
    /// IK initiators allowed to connect (the directory's relays); nil allows any static key.
    public var allowedInitiators: Set<AgreementPublicKey>?
    public let limits: LinkLimits
    public let geometry: PacketGeometry
    private let mac1Key: SymmetricKey
    private let cookieKey: SymmetricKey
    private var cookieSecret: LinkCookieSecret
    public private(set) var timestamps: LinkTimestampTable
    private var recentEphemerals: RecentSet<Bytes32>

    /// A responder for `localStatic`; draws its first cookie secret from `rng` at `now`.
    public init(localStatic: AgreementPrivateKey, allowedInitiators: Set<AgreementPublicKey>? = nil,
                limits: LinkLimits = .standard, geometry: PacketGeometry = .standard,
                now: UnixTime, rng: inout some RandomSource) {
        self.localStatic = localStatic
        self.allowedInitiators = allowedInitiators
        self.limits = limits
        self.geometry = geometry
        mac1Key = LinkMAC.mac1Key(responderStatic: localStatic.publicKey)
        cookieKey = LinkMAC.cookieKey(responderStatic: localStatic.publicKey)
        cookieSecret = LinkCookieSecret(now: now, rng: &rng)
        timestamps = LinkTimestampTable(capacity: limits.timestampTableCapacity)
        recentEphemerals = RecentSet(capacity: limits.recentEphemeralCapacity)
    }

    /// The cookie this responder currently gives `source` (what a valid mac2 is keyed with).
    public mutating func cookie(for source: [UInt8], now: UnixTime, rng: inout some RandomSource) -> LinkCookie {
        LinkMAC.cookie(secret: cookieSecret.current(now: now, lifetime: limits.cookieSecretLifetime, rng: &rng), source: source)
    }

    /// Takes one datagram from `source` (the caller's bytes for the sender's address, e.g. IP
    /// and port). `underLoad` is the caller's judgement (e.g. handshake queue length).
    public mutating func receive(_ bytes: [UInt8], source: [UInt8], underLoad: Bool, now: UnixTime,
                                 rng: inout some RandomSource) -> LinkResponderAction {
        let packet: LinkPacket
        do { packet = try LinkPacket.decode(bytes, geometry: geometry) } catch { return .drop(.malformed) }
        let initiation: LinkInitiation
        switch packet {
        case let .initiationIK(message), let .initiationNK(message): initiation = message
        default: return .drop(.unexpectedMessage)
        }
        let kind = initiation.kind

        let expectedMAC1 = LinkMAC.mac1(bytes[..<LinkInitiation.mac1Offset(kind)], key: mac1Key)
        guard LinkMAC.matches(initiation.mac1, expectedMAC1) else { return .drop(.badMAC1) }
        if underLoad {
            let cookie = cookie(for: source, now: now, rng: &rng)
            let expectedMAC2 = LinkMAC.mac2(bytes[..<LinkInitiation.mac2Offset(kind)], cookie: cookie)
            guard LinkMAC.matches(initiation.mac2, expectedMAC2) else {
                return .sendCookieReply(cookieReply(cookie, to: initiation, rng: &rng))
            }
        }
        if kind == .nk, recentEphemerals.contains(initiation.ephemeral) { return .drop(.replayedInitiation) }

        var handshake: NoiseHandshakeState
        let payload: [UInt8]
        do {
            handshake = try NoiseHandshakeState(pattern: kind.pattern, role: .responder, prologue: LinkWireFormat.prologue,
                                                localStatic: localStatic)
            payload = try handshake.readMessage(initiation.noiseMessage)
        } catch {
            return .drop(.decryptFailed)
        }
        let timestamp: LinkTimestamp
        do { timestamp = try LinkTimestamp(bytes: payload) } catch { return .drop(.malformed) }
        var initiatorStatic: AgreementPublicKey?
        if kind == .ik {
            guard let key = handshake.remoteStatic else { return .drop(.decryptFailed) }
            if let allowed = allowedInitiators, !allowed.contains(key) { return .drop(.unknownPeer) }
            guard timestamps.accepts(timestamp, from: key) else { return .drop(.replayedTimestamp) }
            initiatorStatic = key
        }

        let localIndex = LinkWireFormat.readUInt32(rng.bytes(LinkWireFormat.indexLength), at: 0)
        var response = [LinkMessageType.response.rawValue]
        response.reserveCapacity(LinkWireFormat.responseLength)
        LinkWireFormat.append(localIndex, to: &response)
        LinkWireFormat.append(initiation.senderIndex, to: &response)
        let session: LinkSession
        do {
            response += try handshake.writeMessage(payload: [], using: &rng)
            session = try LinkSession(kind: kind, role: .responder, localIndex: localIndex,
                                      remoteIndex: initiation.senderIndex, remoteStatic: initiatorStatic,
                                      handshake: handshake, now: now, limits: limits, geometry: geometry)
        } catch {
            return .drop(.decryptFailed)
        }
        response += LinkMAC.mac1(response[...], key: mac1Key)
        response.append(contentsOf: repeatElement(0, count: LinkMAC.length)) // responses carry no mac2

        if let initiatorStatic { timestamps.record(timestamp, for: initiatorStatic) }
        if kind == .nk { recentEphemerals.insert(initiation.ephemeral) }
        return .established(session, send: LinkWireFormat.padded(response, geometry: geometry))
    }

    /// type(4) | receiver index | nonce(24) | XChaCha20-Poly1305(cookie key, nonce, cookie, AD: mac1).
    private func cookieReply(_ cookie: LinkCookie, to initiation: LinkInitiation, rng: inout some RandomSource) -> [UInt8] {
        var plaintext = cookie.secret.unsafeCopy()
        defer { ConstantTime.wipe(&plaintext) }
        let sealed = XChaCha20Poly1305.seal(plaintext, key: cookieKey, associatedData: initiation.mac1, using: &rng)
        let reply = LinkCookieReply(receiverIndex: initiation.senderIndex,
                                    nonce: Array(sealed.prefix(LinkWireFormat.cookieNonceLength)),
                                    encryptedCookie: Array(sealed.dropFirst(LinkWireFormat.cookieNonceLength)))
        return LinkWireFormat.padded(reply.encoded, geometry: geometry)
    }
}
