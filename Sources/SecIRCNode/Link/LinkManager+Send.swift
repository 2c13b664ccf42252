public import SecIRCCore
public import SecIRCCrypto
import SecIRCTransport

extension LinkManager {
    /// Sends `frame` to the relay `id` over its current session, or queues it and starts a
    /// handshake. Unknown peers are a counted drop (`noRoute`).
    @discardableResult
    public mutating func send(_ frame: [UInt8], to id: ID, now: UnixTime, rng: inout some RandomSource,
                              out: inout [Datagram]) -> SendResult {
        // Fields are read through `index(forKey:)` and `values[...]`: a dictionary's getter would
        // copy the whole peer (its handshake state and keys) for every frame.
        guard let slot = peers.index(forKey: id) else {
            counters.noRoute += 1
            return .dropped
        }
        if let index = peers.values[slot].session, sessions.index(forKey: index) != nil,
           seal(frame, on: index, now: now, rng: &rng, out: &out) {
            return .sent
        }
        guard let slot = peers.index(forKey: id), peers.values[slot].queued.count < configuration.pendingPerPeer,
              queuedTotal < configuration.pendingTotal
        else {
            counters.queueFull += 1
            return .dropped
        }
        peers.values[slot].queued.append(frame)
        if peers.values[slot].firstQueued == nil { peers.values[slot].firstQueued = now }
        queuedTotal += 1
        waiting.insert(id)
        initiate(id, now: now, force: false, rng: &rng, out: &out)
        return .queued
    }

    /// Sends `frame` to `peer`, adding it (not persistent) or updating it first: how a client
    /// reaches the relays of its directory without keeping a peer list in step.
    @discardableResult
    public mutating func send(_ frame: [UInt8], to peer: LinkPeer, now: UnixTime, rng: inout some RandomSource,
                              out: inout [Datagram]) -> SendResult {
        if self.peer(peer.id) != peer { addPeer(peer, persistent: false) }
        return send(frame, to: peer.id, now: now, rng: &rng, out: &out)
    }

    /// Answers on session `index` (the one a frame came on). False when the session is gone or
    /// cannot send (counted).
    @discardableResult
    public mutating func reply(_ frame: [UInt8], on index: UInt32, now: UnixTime, rng: inout some RandomSource,
                               out: inout [Datagram]) -> Bool {
        guard sessions.index(forKey: index) != nil else { return false }
        return seal(frame, on: index, now: now, rng: &rng, out: &out)
    }

    /// Seals `frame` on session `index` into `out`; false when the session refused (counted).
    mutating func seal(_ frame: [UInt8], on index: UInt32, now: UnixTime, rng: inout some RandomSource,
                       out: inout [Datagram]) -> Bool {
        guard let slot = sessions.index(forKey: index) else { return false }
        let result = sessions.values[slot].link.seal(frame, now: now)
        let address = sessions.values[slot].address
        switch result {
        case let .send(packet):
            out.append(Datagram(packet, to: address))
            // A responder never rekeys by age (as in WireGuard); when its session is a relay's
            // current one, this side starts a handshake of its own before the session expires.
            if sessions.values[slot].link.role == .responder, let peer = sessions.values[slot].peer,
               now >= sessions.values[slot].link.rekeyAt {
                initiate(peer, now: now, force: false, rng: &rng, out: &out)
            }
            return true
        case let .sendAndRekey(packet):
            out.append(Datagram(packet, to: address))
            if let peer = sessions.values[slot].peer { initiate(peer, now: now, force: false, rng: &rng, out: &out) }
            return true
        case let .refused(reason):
            counters.count(reason)
            return false
        }
    }

    /// Sends the frames queued for `id` on its current session.
    mutating func flushQueued(_ id: ID, now: UnixTime, rng: inout some RandomSource, out: inout [Datagram]) {
        guard let peer = peers[id], let index = peer.session, !peer.queued.isEmpty else { return }
        peers[id]!.queued = []
        peers[id]!.firstQueued = nil
        queuedTotal -= peer.queued.count
        waiting.remove(id)
        for frame in peer.queued where !seal(frame, on: index, now: now, rng: &rng, out: &out) {
            counters.queueFull += 1
        }
    }

    /// Starts a handshake with `id` unless one was started within `handshakeRetry` (`force`:
    /// regardless, e.g. right after a cookie arrived).
    mutating func initiate(_ id: ID, now: UnixTime, force: Bool, rng: inout some RandomSource, out: inout [Datagram]) {
        guard let peer = peers[id] else { return }
        if !force, let last = peer.lastInitiation, now.duration(since: last) < configuration.handshakeRetry { return }
        if let old = peer.initiator.pendingIndex { pendingHandshakes[old] = nil }
        guard let initiation = try? peers[id]!.initiator.initiation(now: now, rng: &rng) else {
            // A low-order link key in the directory: nothing can ever be sent to this relay (the
            // waiting frames are given up on at the usual time).
            peers[id]!.lastInitiation = now
            counters.count(.decryptFailed)
            return
        }
        if let index = peers[id]!.initiator.pendingIndex { pendingHandshakes[index] = id }
        peers[id]!.lastInitiation = now
        out.append(Datagram(initiation, to: peer.info.address))
    }
}
