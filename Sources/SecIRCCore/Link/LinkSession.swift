public import SecIRCCrypto

/// An established link session: one key per direction from Noise's `Split()`, a send counter,
/// and a replay window for received counters.
///
/// Contract:
/// - `seal` makes `type(5) | receiver index | counter | ChaCha20-Poly1305(plaintext)` with
///   nonce = 4 zero bytes || counter little-endian and the 13-byte header as associated data.
///   Data packets carry exactly `geometry.linkFrameLength` bytes (the caller pads); any shorter
///   plaintext is accepted too.
/// - A responder session refuses to send until it has received one valid packet (key
///   confirmation: `open` then returns `.confirmed`). An initiator session is confirmed from the
///   start.
/// - Nothing is sent or accepted once the session is `rejectAfterTime` old or its counter
///   reaches `rejectAfterMessages`; `timerAction` and `.sendAndRekey` say when to rekey.
/// - `open` checks header, index, age and replay window before the AEAD, and moves the window
///   only for an authentic packet. It never traps on any input.
/// - A value type that holds nonce state: keep exactly one copy that seals (two copies would
///   reuse nonces). Not for concurrent use.
public struct LinkSession: Sendable {
    public let kind: LinkHandshakeKind
    public let role: NoiseRole
    /// Our index: the receiver index of packets sent to us.
    public let localIndex: UInt32
    /// The peer's index: the receiver index of packets we send.
    public let remoteIndex: UInt32
    /// The peer's authenticated static key: the responder's for an initiator, the initiator's
    /// for an IK responder, nil for an NK responder (the client is anonymous).
    public let remoteStatic: AgreementPublicKey?
    /// When the handshake completed on this side.
    public let establishedAt: UnixTime
    /// Noise's handshake hash `h` (channel binding; equal on both sides).
    public let handshakeHash: [UInt8]
    public let limits: LinkLimits
    public let geometry: PacketGeometry
    /// False for a responder session until the first valid packet arrives.
    public private(set) var isConfirmed: Bool
    /// The counter of the next packet sealed.
    public private(set) var sendCounter: UInt64 = 0
    private let sendKey: SymmetricKey
    private let receiveKey: SymmetricKey
    private var window = LinkReplayWindow()

    init(kind: LinkHandshakeKind, role: NoiseRole, localIndex: UInt32, remoteIndex: UInt32,
         remoteStatic: AgreementPublicKey?, handshake: NoiseHandshakeState, now: UnixTime,
         limits: LinkLimits, geometry: PacketGeometry) throws(NoiseError) {
        let (initiatorToResponder, responderToInitiator) = try handshake.split()
        guard let i2r = initiatorToResponder.key, let r2i = responderToInitiator.key else {
            throw NoiseError.handshakeIncomplete
        }
        self.kind = kind
        self.role = role
        self.localIndex = localIndex
        self.remoteIndex = remoteIndex
        self.remoteStatic = remoteStatic
        establishedAt = now
        handshakeHash = handshake.handshakeHash
        self.limits = limits
        self.geometry = geometry
        isConfirmed = role == .initiator
        (sendKey, receiveKey) = role == .initiator ? (i2r, r2i) : (r2i, i2r)
    }

    /// BLAKE2b-256 of the sending key: for test vectors and diagnostics (reveals nothing usable
    /// about the key).
    public var sendKeyHash: Bytes32 { Self.fingerprint(sendKey) }
    /// BLAKE2b-256 of the receiving key.
    public var receiveKeyHash: Bytes32 { Self.fingerprint(receiveKey) }

    /// When a rekey is due by age (initiator side only, as in WireGuard: the responder of an NK
    /// link cannot initiate, and an idle initiator should let the session lapse).
    public var rekeyAt: UnixTime { establishedAt.adding(limits.rekeyAfterTime) }
    /// When the session stops sending and accepting.
    public var expiresAt: UnixTime { establishedAt.adding(limits.rejectAfterTime) }

    /// What the session's clock and counters say at `now`.
    public func timerAction(now: UnixTime) -> LinkTimerAction {
        if isExpired(now) || sendCounter >= limits.rejectAfterMessages { return .expired }
        if rekeyDue(now) { return .rekeyNeeded }
        return .nothing
    }

    /// Seals `plaintext` (at most `geometry.linkFrameLength` bytes) into a transport datagram.
    public mutating func seal(_ plaintext: [UInt8], now: UnixTime) -> LinkSealResult {
        guard isConfirmed else { return .refused(.notConfirmed) }
        guard !isExpired(now) else { return .refused(.expired) }
        guard sendCounter < limits.rejectAfterMessages else { return .refused(.counterLimit) }
        guard plaintext.count <= geometry.linkFrameLength else { return .refused(.frameTooLong) }

        let counter = sendCounter
        var packet = [UInt8]()
        packet.reserveCapacity(LinkWireFormat.transportHeaderLength + plaintext.count + LinkWireFormat.tagLength)
        packet.append(LinkMessageType.transport.rawValue)
        LinkWireFormat.append(remoteIndex, to: &packet)
        LinkWireFormat.append(counter, to: &packet)
        packet += plaintext
        packet.append(contentsOf: repeatElement(0, count: LinkWireFormat.tagLength))
        let sealed: Bool = packet.withUnsafeMutableBytes { buffer in
            let header = UnsafeRawBufferPointer(rebasing: buffer[0..<LinkWireFormat.transportHeaderLength])
            let body = UnsafeMutableRawBufferPointer(rebasing: buffer[LinkWireFormat.transportHeaderLength...])
            return Self.withNonce(counter) { nonce in
                sendKey.withUnsafeBytes { key in
                    (try? ChaCha20Poly1305.sealInPlace(body, plaintextCount: plaintext.count, key: key,
                                                       nonce: nonce, associatedData: header)) != nil
                }
            }
        }
        guard sealed else { return .refused(.counterLimit) } // unreachable: sizes are fixed above
        sendCounter += 1
        let rekey = sendCounter >= limits.rekeyAfterMessages || rekeyDue(now)
        return rekey ? .sendAndRekey(packet) : .send(packet)
    }

    /// Seals an all-zero frame of `geometry.linkFrameLength` bytes (frame kind 0: padding). The
    /// initiator sends one right after the handshake so the responder gets key confirmation
    /// even when there is no data.
    public mutating func keepalive(now: UnixTime) -> LinkSealResult {
        seal([UInt8](repeating: 0, count: geometry.linkFrameLength), now: now)
    }

    /// Checks and decrypts a received transport datagram.
    public mutating func open(_ packet: [UInt8], now: UnixTime) -> LinkReceiveAction {
        guard packet.first == LinkMessageType.transport.rawValue,
              (try? LinkPacket.requireTransportLength(packet, geometry: geometry)) != nil
        else { return .drop(.malformed) }
        guard LinkWireFormat.readUInt32(packet, at: LinkTransportPacket.receiverIndexOffset) == localIndex else {
            return .drop(.unknownIndex)
        }
        guard !isExpired(now) else { return .drop(.expired) }
        let counter = LinkWireFormat.readUInt64(packet, at: LinkTransportPacket.counterOffset)
        guard counter < limits.rejectAfterMessages else { return .drop(.counterLimit) }
        switch window.verdict(counter) {
        case .fresh: break
        case .duplicate: return .drop(.replayedCounter)
        case .tooOld: return .drop(.counterTooOld)
        }

        var buffer = packet
        let plaintextCount: Int? = buffer.withUnsafeMutableBytes { bytes in
            let header = UnsafeRawBufferPointer(rebasing: bytes[0..<LinkWireFormat.transportHeaderLength])
            let body = UnsafeMutableRawBufferPointer(rebasing: bytes[LinkWireFormat.transportHeaderLength...])
            return Self.withNonce(counter) { nonce in
                receiveKey.withUnsafeBytes { key in
                    try? ChaCha20Poly1305.openInPlace(body, key: key, nonce: nonce, associatedData: header)
                }
            }
        }
        guard let plaintextCount else { return .drop(.decryptFailed) }
        window.accept(counter)
        let start = LinkWireFormat.transportHeaderLength
        let plaintext = Array(buffer[start..<(start + plaintextCount)])
        if !isConfirmed {
            isConfirmed = true
            return .confirmed(plaintext)
        }
        return .deliver(plaintext)
    }

    private func isExpired(_ now: UnixTime) -> Bool { now >= expiresAt }

    private func rekeyDue(_ now: UnixTime) -> Bool {
        sendCounter >= limits.rekeyAfterMessages || (role == .initiator && now >= rekeyAt)
    }

    /// Runs `body` with the 12-byte AEAD nonce for `counter` (4 zero bytes || counter
    /// little-endian) on the stack.
    private static func withNonce<R>(_ counter: UInt64, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        withUnsafeTemporaryAllocation(byteCount: ChaCha20Poly1305.nonceByteCount, alignment: 4) { nonce in
            nonce.storeBytes(of: 0, toByteOffset: 0, as: UInt32.self)
            nonce.storeBytes(of: counter.littleEndian, toByteOffset: 4, as: UInt64.self)
            return body(UnsafeRawBufferPointer(nonce))
        }
    }

    private static func fingerprint(_ key: SymmetricKey) -> Bytes32 {
        key.withUnsafeBytes { k in Bytes32 { BLAKE2b.hash(k, key: nil, into: $0) } }
    }
}
