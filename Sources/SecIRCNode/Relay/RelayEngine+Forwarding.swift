import SecIRCCore
import SecIRCCrypto

extension RelayEngine {
    /// A frame that arrived on a link: a Sphinx packet to peel, or a mailbox exchange.
    mutating func handleFrame(_ delivery: LinkDelivery, now: UnixTime, rng: inout some RandomSource,
                              effects: inout NodeEffects<Event>) {
        let frame: LinkFrame
        do { frame = try LinkFrame.decode(delivery.frame) } catch { return count(.malformedFrame) }
        switch frame {
        case .padding:
            break
        case let .sphinx(packet):
            guard !isDraining else { return count(.draining) }
            peel(packet, from: delivery.incomingLink, now: now, rng: &rng, effects: &effects)
        case let .fetchChallengeRequest(mailbox):
            challenge(mailbox, session: delivery.session, now: now, rng: &rng, effects: &effects)
        case let .fetchRequest(key, nonce, ackThrough, signature, subscribe, group, queueOps):
            fetch(key: key, nonce: nonce, ackThrough: ackThrough, signature: signature, subscribe: subscribe, group: group,
                  queueOps: queueOps, session: delivery.session, now: now, rng: &rng, effects: &effects)
        case .fetchChallenge, .mailboxMessage, .fetchDone, .unknown:
            count(.unknownFrame)
        }
    }

    /// Peels one Sphinx layer: forward (now or after its delay), deliver to a mailbox, or drop.
    /// A packet to wait out a delay must name a relay this one can reach, and its incoming link
    /// must be within its share of the delay queue.
    /// With peel workers, the crypto is handed out (``SphinxJob``) and the rest happens when it
    /// comes back (``peeled(_:now:rng:effects:)``).
    mutating func peel(_ packet: [UInt8], from link: IncomingLink, now: UnixTime, rng: inout some RandomSource,
                       effects: inout NodeEffects<Event>) {
        guard configuration.peelWorkers > 1 else {
            var packet = packet
            let result = sphinx.peel(&packet)
            return act(on: result, packet, from: link, now: now, rng: &rng, effects: &effects)
        }
        // What is refused for its length or epoch costs no crypto and is not handed out.
        guard packet.count == sphinx.geometry.sphinxPacketLength else { return own.sphinxRejects[.badLength, default: 0] += 1 }
        let epoch = packet.withUnsafeBytes { SphinxProcessor.epoch(of: $0) }
        guard let key = sphinx.key(epoch: epoch) else { return own.sphinxRejects[.unknownEpoch, default: 0] += 1 }
        guard peelsOut < configuration.peelQueueCapacity else { return count(.peelQueueFull) }
        peelsOut += 1
        peelsToHandOut.append(SphinxJob(packet: packet, key: key, link: link))
    }

    /// Peels that came back from the workers: each tag is checked against its epoch's one
    /// replay filter here (whichever thread opened the packet), then the packet is acted on.
    mutating func peeled(_ jobs: [SphinxJob], now: UnixTime, rng: inout some RandomSource, effects: inout NodeEffects<Event>) {
        for job in jobs {
            peelsOut = max(peelsOut - 1, 0)
            guard let opened = job.opened else { continue } // never run: the process stopped its workers
            act(on: sphinx.record(opened), job.packet, from: job.link, now: now, rng: &rng, effects: &effects)
        }
    }

    /// Forward (now or after its delay), deliver to a mailbox, or drop a peeled packet.
    private mutating func act(on result: SphinxPeelResult, _ packet: [UInt8], from link: IncomingLink, now: UnixTime,
                              rng: inout some RandomSource, effects: inout NodeEffects<Event>) {
        if case .reject = result {} else { rotateIfReplayFilterFilling(now: now, rng: &rng, effects: &effects) }
        switch result {
        case let .forward(relay, delay):
            guard delay <= min(configuration.maxDelayMilliseconds, configuration.network.maxDelayMilliseconds) else {
                return count(.delayTooLong)
            }
            if delay == 0 {
                return forward(packet, to: relay, from: link, now: now, rng: &rng, effects: &effects)
            }
            let next = ID(rawValue: relay)
            guard next == relayID || links.peer(next) != nil else { return count(.noRoute) }
            switch delays.push(packet, to: relay, due: now.adding(.milliseconds(Int64(delay))), from: link) {
            case nil: break
            case .full?: count(.queueFull)
            case .overShare?: count(.delayShare)
            }
        case let .deliver(address):
            if !probesInFlight.isEmpty, probeReturned(to: address) { return }
            if !coverLoops.isEmpty, coverLoopReturned(to: address) { return }
            switch mailboxes.deliver(sphinx.body(ofDelivered: packet), to: address, from: link, now: now) {
            case let .stored(mailbox):
                own.delivered += 1
                push(mailbox, now: now, rng: &rng, effects: &effects)
            case .held:
                own.delivered += 1
            case let .dropped(reason):
                own.mailboxDrops[reason, default: 0] += 1
            }
        case .drop:
            own.coverDropped += 1
        case let .reject(reason):
            own.sphinxRejects[reason, default: 0] += 1
        }
    }

    /// Rotates the onion key early when its replay filter is half full, so a filter never fills
    /// and no tag is ever forgotten while its key is accepted. With a previous key still in its
    /// grace window, waits until three quarters (rotating then ends that grace window early:
    /// packets built for the previous key are refused as `unknown_epoch`).
    mutating func rotateIfReplayFilterFilling(now: UnixTime, rng: inout some RandomSource, effects: inout NodeEffects<Event>) {
        let tags = sphinx.replayTags(epoch: keys.current.epoch)
        let capacity = configuration.replayCapacity
        guard tags * 2 >= capacity, keys.previous == nil || tags * 4 >= capacity * 3 else { return }
        let change = keys.rotate(now: now, rng: &rng)
        own.earlyRotations += 1
        applyKeyChange(installed: [change.installed], retired: change.retired, now: now, effects: &effects)
    }

    /// Sends a peeled packet to the next relay over its link (a handshake first if needed).
    /// `link` is the link the packet came in on (its share still applies if the path passes
    /// here twice).
    mutating func forward(_ packet: [UInt8], to relay: Bytes32, from link: IncomingLink, now: UnixTime,
                          rng: inout some RandomSource, effects: inout NodeEffects<Event>) {
        let id = ID(rawValue: relay)
        if id == relayID { return peel(packet, from: link, now: now, rng: &rng, effects: &effects) } // a path may pass here twice
        if links.send(LinkFrame.sphinx(packet).encoded(), to: id, now: now, rng: &rng, out: &effects.datagrams) != .dropped {
            own.forwarded += 1
        }
    }
}
