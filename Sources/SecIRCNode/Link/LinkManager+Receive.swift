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
        guard let index = LinkPacket.receiverIndex(of: bytes, geometry: configuration.geometry),
              let slot = sessions.index(forKey: index)
        else {
            counters.count(.unknownIndex)
            return nil
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
            return LinkDelivery(frame: frame, session: index, peer: peer)
        }
    }

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
        let second = now.seconds
        if handshakeWindow.second != second { handshakeWindow = (second, 0) }
        handshakeWindow.count += 1
        let underLoad = handshakeWindow.count > configuration.handshakesPerSecondUnderLoad
        switch responder!.receive(bytes, source: address.bytes, underLoad: underLoad, now: now, rng: &rng) {
        case let .established(link, send: response):
            guard sessions[link.localIndex] == nil else { return counters.count(.unknownIndex) }
            guard sessions.count < configuration.maxSessions else {
                counters.sessionLimit += 1
                return
            }
            let peer = link.remoteStatic.flatMap { peerByKey[$0] }
            sessions[link.localIndex] = Session(link: link, address: address, peer: peer)
            expiries.insert(link.localIndex, at: link.expiresAt)
            counters.handshakes += 1
            out.append(Datagram(response, to: address))
        case let .sendCookieReply(reply):
            counters.count(.needsCookie)
            out.append(Datagram(reply, to: address))
        case let .drop(reason):
            counters.count(reason)
        }
    }

    private mutating func receiveAnswer(_ bytes: [UInt8], now: UnixTime, rng: inout some RandomSource, out: inout [Datagram]) {
        guard let index = LinkPacket.receiverIndex(of: bytes, geometry: configuration.geometry),
              let id = pendingHandshakes[index], peers[id] != nil
        else { return counters.count(.unknownIndex) }
        switch peers[id]!.initiator.receive(bytes, now: now) {
        case let .established(link, send: confirmation):
            pendingHandshakes[index] = nil
            guard sessions[link.localIndex] == nil else { return counters.count(.unknownIndex) }
            guard sessions.count < configuration.maxSessions else {
                counters.sessionLimit += 1
                return
            }
            let address = peers[id]!.info.address
            sessions[link.localIndex] = Session(link: link, address: address, peer: id)
            expiries.insert(link.localIndex, at: link.expiresAt)
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
