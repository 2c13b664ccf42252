public import SecIRCCore
public import SecIRCCrypto

extension LinkManager {
    /// When `tick` next has something to do: the next housekeeping, or sooner a handshake to
    /// resend or give up on.
    public var nextDeadline: UnixTime {
        var next = nextHousekeeping
        for id in waiting {
            guard let peer = peers[id] else { continue }
            if let last = peer.lastInitiation { next = min(next, last.adding(configuration.handshakeRetry)) }
            if let first = peer.firstQueued { next = min(next, first.adding(configuration.handshakeGiveUp)) }
        }
        return next
    }

    /// Runs the timers due at `now`: resends unanswered initiations, gives up on handshakes that
    /// took too long (returns those peers: their waiting frames were dropped and counted), and
    /// every `housekeepingInterval` drops expired sessions.
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
        guard now >= nextHousekeeping else { return failed }
        nextHousekeeping = now.adding(configuration.housekeepingInterval)
        var expired: [UInt32] = []
        for (index, session) in sessions where session.link.timerAction(now: now) == .expired {
            expired.append(index)
        }
        for index in expired {
            let peer = sessions.removeValue(forKey: index)?.peer
            if let peer, peers[peer]?.session == index { peers[peer]!.session = nil }
        }
        return failed
    }
}
