public import SecIRCCore
public import SecIRCCrypto
public import SecIRCTransport

extension LinkManager {
    /// Takes one datagram from `address`. Returns the frame it carried, if any; handshake
    /// answers, confirmations and frames released by a completed handshake go to `out`.
    /// Whatever is dropped is counted.
    public mutating func receive(_ bytes: [UInt8], from address: SocketAddress, now: UnixTime,
                                 rng: inout some RandomSource, out: inout [Datagram]) -> LinkDelivery? {
        guard let type = LinkPacket.messageType(of: bytes) else {
            counters.count(.malformed)
            return nil
        }
        switch type {
        case .transport:
            return receiveTransport(bytes, from: address, now: now, rng: &rng, out: &out)
        case .initiationIK, .initiationNK:
            receiveInitiation(bytes, from: address, now: now, rng: &rng, out: &out)
        case .response, .cookieReply:
            receiveAnswer(bytes, now: now, rng: &rng, out: &out)
        default:
            counters.count(.malformed)
        }
        return nil
    }

    private mutating func receiveTransport(_ bytes: [UInt8], from address: SocketAddress, now: UnixTime,
                                           rng: inout some RandomSource, out: inout [Datagram]) -> LinkDelivery? {
        guard let index = LinkPacket.receiverIndex(of: bytes, geometry: configuration.geometry) else {
            counters.count(.unknownIndex)
            return nil
        }
        guard let slot = sessions.index(forKey: index) else {
            return receiveConfirmation(bytes, index: index, from: address, now: now, rng: &rng, out: &out)
        }
        // In place through `values[slot]`: the dictionary's getter would copy the session.
        let action = sessions.values[slot].link.open(bytes, now: now)
        switch action {
        case let .drop(reason):
            counters.count(reason)
            return nil
        case let .deliver(frame), let .confirmed(frame):
            sessions.values[slot].address = address
            let peer = sessions.values[slot].peer
            if case .confirmed = action, let peer, peers[peer] != nil {
                peers[peer]!.session = index
                flushQueued(peer, now: now, rng: &rng, out: &out)
            }
            return LinkDelivery(frame: frame, session: index, peer: peer, address: address)
        }
    }

    /// The first packet on an unconfirmed responder session: moves it to the session table when
    /// there is room for it, else drops it (counted `sessionLimit`).
    private mutating func receiveConfirmation(_ bytes: [UInt8], index: UInt32, from address: SocketAddress, now: UnixTime,
                                              rng: inout some RandomSource, out: inout [Datagram]) -> LinkDelivery? {
        guard let slot = unconfirmed.index(forKey: index) else {
            counters.count(.unknownIndex)
            return nil
        }
        let action = unconfirmed.values[slot].link.open(bytes, now: now)
        let frame: [UInt8]
        switch action {
        case let .drop(reason):
            counters.count(reason)
            return nil
        case let .deliver(plaintext), let .confirmed(plaintext):
            frame = plaintext
        }
        var session = unconfirmed.remove(at: slot).value
        session.address = address
        session.confirmBy = nil
        let room = session.isClients
            ? clientSessions < clientSessionLimit && session.source.map { admission.hasRoom($0) } ?? true
            : sessions.count < configuration.maxSessions
        // Only clients' sessions count against their source from here on.
        if let source = session.source { admission.confirmed(source, kept: room && session.isClients) }
        guard room else {
            counters.sessionLimit += 1
            return nil
        }
        if !session.isClients { session.source = nil }
        insertSession(session)
        if let peer = session.peer, peers[peer] != nil {
            // A relay's link to us: frames waiting for that relay can leave on it.
            peers[peer]!.session = index
            flushQueued(peer, now: now, rng: &rng, out: &out)
        }
        return LinkDelivery(frame: frame, session: index, peer: session.peer, address: address)
    }

    /// Confirmed sessions clients may hold: the table less the room kept for relays.
    var clientSessionLimit: Int { max(0, configuration.maxSessions - configuration.reservedForRelays) }

    private mutating func receiveInitiation(_ bytes: [UInt8], from address: SocketAddress, now: UnixTime,
                                            rng: inout some RandomSource, out: inout [Datagram]) {
        guard responder != nil else {
            counters.count(.unexpectedMessage)
            return
        }
        guard acceptsHandshakes else {
            counters.refusedWhileClosed += 1
            return
        }
        // Everything that can refuse an initiation without key agreement comes first.
        guard unconfirmed.count < configuration.maxUnconfirmed else {
            counters.admissionRefusals[.unconfirmedFull, default: 0] += 1
            return
        }
        let requireCookie: Bool
        switch admission.check(address, now: now) {
        case let .refuse(reason):
            counters.admissionRefusals[reason, default: 0] += 1
            return
        case let .admit(cookie):
            requireCookie = cookie
        }
        // A client cannot hold a session once clients fill their part of the table (a relay's
        // address may still use the reserved room).
        guard admission.isExempt(address) ? sessions.count < configuration.maxSessions : clientSessions < clientSessionLimit
        else {
            counters.sessionLimit += 1
            return
        }
        let second = now.seconds
        if handshakeWindow.second != second { handshakeWindow = (second, 0) }
        handshakeWindow.count += 1
        let underLoad = requireCookie || handshakeWindow.count > configuration.handshakesPerSecondUnderLoad
            || unconfirmed.count * 4 >= configuration.maxUnconfirmed * 3
        switch responder!.receive(bytes, source: address.bytes, underLoad: underLoad, now: now, rng: &rng) {
        case let .established(link, send: response):
            admission.spend(address, now: now)
            guard sessions[link.localIndex] == nil, unconfirmed[link.localIndex] == nil else {
                return counters.count(.unknownIndex)
            }
            let peer = link.remoteStatic.flatMap { peerByKey[$0] }
            let confirmBy = now.adding(configuration.unconfirmedLifetime)
            // A known relay's key is outside the unconfirmed and session budgets.
            let source = peer == nil ? admission.answered(address) : nil
            unconfirmed[link.localIndex] = Session(link: link, address: address, peer: peer, source: source,
                                                   confirmBy: confirmBy)
            expiries.insert(link.localIndex, at: confirmBy)
            counters.handshakes += 1
            out.append(Datagram(response, to: address))
        case let .sendCookieReply(reply):
            counters.count(.needsCookie)
            out.append(Datagram(reply, to: address))
        case let .drop(reason):
            counters.count(reason)
            if Self.failedAfterKeyAgreement(reason, bytes, geometry: configuration.geometry) { admission.spend(address, now: now) }
        }
    }

    /// Whether the responder ran X25519 before dropping initiation `bytes` for `reason` (the
    /// length and padding, mac1, cookie and replayed-ephemeral checks come before it: a
    /// `malformed` drop of a datagram that decodes is its timestamp, after key agreement).
    static func failedAfterKeyAgreement(_ reason: LinkDropReason, _ bytes: [UInt8], geometry: PacketGeometry) -> Bool {
        switch reason {
        case .decryptFailed, .unknownPeer, .replayedTimestamp: true
        case .malformed:
            switch try? LinkPacket.decode(bytes, geometry: geometry) {
            case .initiationIK?, .initiationNK?: true
            default: false
            }
        default: false
        }
    }

    private mutating func receiveAnswer(_ bytes: [UInt8], now: UnixTime, rng: inout some RandomSource, out: inout [Datagram]) {
        guard let index = LinkPacket.receiverIndex(of: bytes, geometry: configuration.geometry),
              let id = pendingHandshakes[index], peers[id] != nil
        else { return counters.count(.unknownIndex) }
        switch peers[id]!.initiator.receive(bytes, now: now) {
        case let .established(link, send: confirmation):
            pendingHandshakes[index] = nil
            guard sessions[link.localIndex] == nil, unconfirmed[link.localIndex] == nil else {
                return counters.count(.unknownIndex)
            }
            guard sessions.count < configuration.maxSessions else {
                counters.sessionLimit += 1
                return
            }
            let address = peers[id]!.info.address
            insertSession(Session(link: link, address: address, peer: id))
            // A superseded session is not removed: packets in flight under it still open until it expires.
            peers[id]!.session = link.localIndex
            counters.handshakes += 1
            if let confirmation { out.append(Datagram(confirmation, to: address)) }
            flushQueued(id, now: now, rng: &rng, out: &out)
        case .cookieStored:
            initiate(id, now: now, force: true, rng: &rng, out: &out)
        case let .drop(reason):
            counters.count(reason)
        }
    }
}
