public import SecIRCCore
public import SecIRCCrypto

extension LinkManager {
    /// When `tick` next has something to do: a session to expire, a handshake to resend or give
    /// up on. Nil when nothing waits.
    public var nextDeadline: UnixTime? {
        var next = expiries.earliest ?? UnixTime(nanoseconds: .max)
        for id in waiting {
            guard let peer = peers[id] else { continue }
            if let last = peer.lastInitiation { next = min(next, last.adding(configuration.handshakeRetry)) }
            if let first = peer.firstQueued { next = min(next, first.adding(configuration.handshakeGiveUp)) }
        }
        return next == UnixTime(nanoseconds: .max) ? nil : next
    }

    /// Runs the timers due at `now`: resends unanswered initiations, gives up on handshakes that
    /// took too long (returns those peers: their waiting frames were dropped and counted), and
    /// drops expired sessions.
    public mutating func tick(now: UnixTime, rng: inout some RandomSource, out: inout [Datagram]) -> [ID] {
        var failed: [ID] = []
        for id in waiting.sorted(by: <) {
            guard let peer = peers[id] else {
                waiting.remove(id)
                continue
            }
            if let first = peer.firstQueued, now.duration(since: first) >= configuration.handshakeGiveUp {
                counters.handshakeTimeouts += peer.queued.count
                queuedTotal -= peer.queued.count
                peers[id]!.queued = []
                peers[id]!.firstQueued = nil
                waiting.remove(id)
                failed.append(id)
            } else {
                initiate(id, now: now, force: false, rng: &rng, out: &out)
            }
        }
        // Hosts whose budgets are whole again and that hold nothing are forgotten (at most once a
        // second), so the table does not sit full of stale entries.
        if responder != nil { admission.sweep(now: now) }
        while let (_, index) = expiries.popDue(now: now) {
            if let confirmBy = unconfirmed[index]?.confirmBy, confirmBy <= now {
                let session = unconfirmed.removeValue(forKey: index)!
                if let source = session.source { admission.confirmed(source, kept: false) }
                counters.unconfirmedExpired += 1
                continue
            }
            // The index may have been reused by a later session, which expires later (or this
            // was the session's confirmation deadline, and it was confirmed).
            guard let session = sessions[index], session.link.expiresAt <= now else { continue }
            removeSession(index)
            if let peer = session.peer, peers[peer]?.session == index { peers[peer]!.session = nil }
        }
        return failed
    }
}
