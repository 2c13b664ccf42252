import SecIRCCore
import SecIRCCrypto

/// A relay's own cover stream (docs/PROTOCOL.md §8, "Relay cover"): a Poisson stream of rate
/// `relay_cover_rate` from the directory in force; at each event, with even odds, a *loop*
/// through two other relays back to this one (delivered to a random 32-byte address only this
/// relay knows, counted back or lost, as Loopix's relay loops: a relay whose loops stop coming
/// back sees that packets are being dropped around it), or *drop cover* through two other
/// relays, the second discarding it. Hops are drawn by the ring's weights, delays as a
/// client draws them. Nothing is sent while the relay is not listed or is draining.
extension RelayEngine {
    /// How long a loop may take to come back before it counts as lost.
    static var coverLoopTimeout: Duration { .seconds(25) }
    /// Loops out at once (more: the event sends drop cover instead).
    static var maximumCoverLoops: Int { 256 }

    mutating func coverDuties(now: UnixTime, rng: inout some RandomSource, effects: inout NodeEffects<Event>) {
        if let first = coverLoops.first, first.due <= now {
            let lost = coverLoops.prefix { $0.due <= now }
            own.coverPackets[.loopLost, default: 0] += lost.count
            coverLoops.removeFirst(lost.count)
        }
        let rate = tracker.held?.directory.network.relayCoverRate ?? 0
        guard rate > 0, !isDraining, tracker.held?.byID[relayID] != nil else {
            nextCover = nil
            return
        }
        guard let due = nextCover else {
            nextCover = now.adding(ClientEngine.exponentialGap(rate: rate, rng: &rng))
            return
        }
        guard now >= due else { return }
        nextCover = now.adding(ClientEngine.exponentialGap(rate: rate, rng: &rng))
        sendCover(now: now, rng: &rng, effects: &effects)
    }

    private mutating func sendCover(now: UnixTime, rng: inout some RandomSource, effects: inout NodeEffects<Event>) {
        guard let held = tracker.held, let me = held.byID[relayID] else { return }
        let others = held.descriptors.filter { $0.id != relayID && PathSelector.onionKey(of: $0, now: now) != nil }
        guard !others.isEmpty else { return }
        let hops = PathSelector.weightedPrefix(of: others, count: 2, weight: { held.ratings[$0.id]?.weight ?? 1 }, rng: &rng)
        let network = held.directory.network
        let maxDelay = min(configuration.maxDelayMilliseconds, network.maxDelayMilliseconds)
        let loop = Bool.random(using: &rng) && coverLoops.count < Self.maximumCoverLoops
        let tag = rng.bytes(32).withUnsafeBytes { Bytes32(copying: $0) }
        let path = loop ? hops + [me] : hops
        let packet: [UInt8]
        do {
            packet = try PathSelector.packet(path: path, ending: loop ? .deliver(to: tag) : .drop, body: [],
                                             meanDelayMs: Double(network.meanDelayMs), maxDelayMs: maxDelay, now: now, rng: &rng)
        } catch {
            return // a hop without a usable onion key: filtered above
        }
        if loop {
            coverLoops.append(CoverLoop(tag: tag, due: now.adding(Self.coverLoopTimeout)))
            own.coverPackets[.loopSent, default: 0] += 1
        } else {
            own.coverPackets[.dropSent, default: 0] += 1
        }
        links.send(LinkFrame.sphinx(packet).encoded(), to: hops[0].id, now: now, rng: &rng, out: &effects.datagrams)
    }

    /// A packet delivered here to `address`: if it is one of this relay's loops, counted back (true).
    mutating func coverLoopReturned(to address: Bytes32) -> Bool {
        guard let index = coverLoops.firstIndex(where: { $0.tag == address }) else { return false }
        coverLoops.remove(at: index)
        own.coverPackets[.loopReturned, default: 0] += 1
        return true
    }
}

/// One of a relay's own loops out: the address it comes back to, and when it counts as lost.
struct CoverLoop: Sendable {
    let tag: Bytes32
    let due: UnixTime
}
