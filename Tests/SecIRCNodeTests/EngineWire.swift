import SecIRCCore
import SecIRCCrypto
import SecIRCNode
import SecIRCTransport

/// Relay engines and bare client link managers on an in-test wire, on a manual clock: a datagram
/// goes to the node at its address as soon as `run` is called, in order; HTTP exchanges go to
/// the relay whose base URL they name (GET /v1/directory, POST /v1/descriptors). Nothing sleeps:
/// `advance` moves the clock and runs every timer that falls due on the way.
struct EngineWire {
    var now = UnixTime(seconds: 1_800_000_000)
    var rng = SeededRandom(seed: "wire")
    var relays: [SocketAddress: RelayEngine] = [:]
    var clients: [SocketAddress: LinkManager] = [:]
    /// Frames that reached each client, in order.
    var received: [SocketAddress: [LinkFrame]] = [:]
    var events: [RelayEngine.Event] = []
    /// Client engines (with in-memory messengers) and what they reported.
    var clientEngines: [SocketAddress: ClientEngine] = [:]
    var clientEvents: [SocketAddress: [ClientEngine.Event]] = [:]
    /// Datagrams in flight: (from, datagram).
    var inFlight: [(SocketAddress, Datagram)] = []
    var pendingFetches: [(SocketAddress, FetchRequest)] = []
    /// Addresses whose datagrams are dropped (a silent relay).
    var silent: Set<SocketAddress> = []
    /// Relays whose `/healthz` answers 503 (their UDP side works).
    var unhealthy: Set<SocketAddress> = []
    /// Addresses whose link transport packets are lost, handshakes not: a relay that answers
    /// its challenge but forwards nothing.
    var dropsTransport: Set<SocketAddress> = []
    var httpBase: [String: SocketAddress] = [:]
    /// Peels relays handed out (`peelWorkers` > 1), not yet run (``runPeels(at:reversed:)``).
    var peels: [SocketAddress: [SphinxJob]] = [:]
    /// Run handed-out peels whenever the wire is otherwise quiet (as a pool would).
    var runsPeels = false
    /// Every datagram delivered, with its sender, while not nil.
    var captured: [(from: SocketAddress, datagram: Datagram)]?

    static func address(_ last: UInt8, port: UInt16 = 6690) -> SocketAddress {
        try! SocketAddress(host: "10.0.0.\(last)", port: port)
    }

    /// A relay engine at 10.0.0.`last`; `firstRing` nil makes it the first ring alone.
    mutating func addRelay(_ last: UInt8, firstRing: RelayEngine.Configuration? = nil,
                           tune: (inout RelayEngine.Configuration) -> Void = { _ in }) -> RelayEngine.Configuration {
        let address = Self.address(last)
        let identity = SigningPrivateKey(using: &rng)
        let http = "http://10.0.0.\(last):6691"
        let roster = firstRing?.roster ?? Roster(members: [Roster.Member(identityKey: identity.publicKey, udp: "\(address)", http: http)])
        var configuration = RelayEngine.Configuration(
            identity: identity, linkKey: AgreementPrivateKey(using: &rng), roster: roster,
            network: NetworkParameters(coverRate: 1, loopRate: 0.5, meanDelayMs: 10), directoryPeriod: .seconds(60),
            advertisedUDP: "\(address)", advertisedHTTP: http,
            mailbox: MailboxStore.Limits(ttl: .seconds(60), maxMessagesPerQueue: 10, maxMailboxes: 10, maxTotalBytes: 1 << 20),
            keyPeriod: .seconds(3_600), keyGrace: .seconds(60))
        tune(&configuration)
        var engine = RelayEngine(configuration: configuration, now: now, rng: &rng)
        var effects = NodeEffects<RelayEngine.Event>()
        engine.start(now: now, rng: &rng, effects: &effects)
        relays[address] = engine
        httpBase[http] = address
        take(effects, from: address)
        return configuration
    }

    mutating func addClient(_ last: UInt8, port: UInt16 = 5000) -> SocketAddress {
        let address = Self.address(last, port: port)
        clients[address] = LinkManager(configuration: .client, now: now, rng: &rng)
        return address
    }

    /// Sends a frame from a client to a relay (making the link first if needed).
    mutating func send(_ frame: LinkFrame, from client: SocketAddress, to relay: SocketAddress) {
        let engine = relays[relay]!
        let peer = LinkPeer(id: engine.relayID, address: relay, linkKey: engine.configuration.linkKey.publicKey)
        var out: [Datagram] = []
        clients[client]!.send(frame.encoded(), to: peer, now: now, rng: &rng, out: &out)
        inFlight += out.map { (client, $0) }
        run()
    }

    mutating func command(_ command: RelayEngine.Command, at relay: SocketAddress) -> RelayEngine.Reply {
        var effects = NodeEffects<RelayEngine.Event>()
        let reply = relays[relay]!.handle(command, now: now, rng: &rng, effects: &effects)
        take(effects, from: relay)
        run()
        return reply
    }

    mutating func take(_ effects: NodeEffects<RelayEngine.Event>, from address: SocketAddress) {
        inFlight += effects.datagrams.map { (address, $0) }
        pendingFetches += effects.fetches.map { (address, $0) }
        events += effects.events
        for case let .peel(jobs) in effects.events { peels[address, default: []] += jobs }
    }

    /// Runs the peels `relay` handed out (in reverse order when asked) and gives them back.
    mutating func runPeels(at relay: SocketAddress, reversed: Bool = false) {
        var jobs = peels.removeValue(forKey: relay) ?? []
        if reversed { jobs.reverse() }
        for i in jobs.indices { jobs[i].run() }
        _ = command(.peeled(jobs), at: relay)
    }

    /// Delivers everything in flight (and what that causes) until the wire is quiet.
    mutating func run() {
        var guardrail = 0
        while !inFlight.isEmpty || !pendingFetches.isEmpty || (runsPeels && !peels.isEmpty) {
            guardrail += 1
            precondition(guardrail < 100_000, "the wire never went quiet")
            if inFlight.isEmpty, pendingFetches.isEmpty, let relay = peels.keys.first {
                runPeels(at: relay)
            } else if !inFlight.isEmpty {
                let (from, datagram) = inFlight.removeFirst()
                if silent.contains(datagram.address) || silent.contains(from) { continue }
                if dropsTransport.contains(from), LinkPacket.messageType(of: datagram.bytes) == .transport { continue }
                captured?.append((from, datagram))
                deliver(datagram, from: from)
            } else {
                let (from, request) = pendingFetches.removeFirst()
                answer(request, from: from)
            }
        }
    }

    private mutating func deliver(_ datagram: Datagram, from: SocketAddress) {
        if relays[datagram.address] != nil {
            var effects = NodeEffects<RelayEngine.Event>()
            relays[datagram.address]!.receive(datagram.bytes, from: from, now: now, rng: &rng, effects: &effects)
            take(effects, from: datagram.address)
        } else if clientEngines[datagram.address] != nil {
            var effects = NodeEffects<ClientEngine.Event>()
            clientEngines[datagram.address]!.receive(datagram.bytes, from: from, now: now, rng: &rng, effects: &effects)
            // As the loop ends a turn (the datagrams that came together): what fell due meanwhile
            // (the turn's receipts) runs now.
            if inFlight.first?.1.address != datagram.address, let due = clientEngines[datagram.address]!.nextDeadline, due <= now {
                clientEngines[datagram.address]!.tick(now: now, rng: &rng, effects: &effects)
            }
            take(effects, fromClient: datagram.address)
        } else if clients[datagram.address] != nil {
            var out: [Datagram] = []
            if let delivery = clients[datagram.address]!.receive(datagram.bytes, from: from, now: now, rng: &rng, out: &out),
               let frame = try? LinkFrame.decode(delivery.frame), frame != .padding {
                received[datagram.address, default: []].append(frame)
            }
            inFlight += out.map { (datagram.address, $0) }
        }
    }

    /// Answers an engine's HTTP exchange from the relay it names, as that relay's routes would.
    private mutating func answer(_ request: FetchRequest, from: SocketAddress) {
        var response = FetchResponse(id: request.id, status: nil)
        if let base = httpBase.keys.first(where: { request.url.hasPrefix($0) }), let target = httpBase[base], !silent.contains(target) {
            // `?since=` is answered with the full directory, as by a relay that keeps no older one.
            if request.url.prefix(while: { $0 != "?" }).hasSuffix("/v1/directory") {
                if let held = relays[target]!.directory {
                    response = request.headers["If-None-Match"] == held.etag
                        ? FetchResponse(id: request.id, status: 304)
                        : FetchResponse(id: request.id, status: 200, body: held.document.jsonBytes())
                } else {
                    response = FetchResponse(id: request.id, status: 503)
                }
            } else if request.url.hasSuffix("/healthz") {
                response = FetchResponse(id: request.id, status: unhealthy.contains(target) ? 503 : 200)
            } else if request.url.hasSuffix("/v1/descriptors"), let body = request.body,
                      let document = try? SignedDocument.decode(json: body) {
                var effects = NodeEffects<RelayEngine.Event>()
                let reply = relays[target]!.handle(.acceptDescriptor(document), now: now, rng: &rng, effects: &effects)
                take(effects, from: target)
                if case .accepted = reply { response = FetchResponse(id: request.id, status: 202) } else {
                    response = FetchResponse(id: request.id, status: 422)
                }
            }
        }
        if clientEngines[from] != nil {
            var effects = NodeEffects<ClientEngine.Event>()
            clientEngines[from]!.fetched(response, now: now, rng: &rng, effects: &effects)
            take(effects, fromClient: from)
            return
        }
        var effects = NodeEffects<RelayEngine.Event>()
        relays[from]!.fetched(response, now: now, rng: &rng, effects: &effects)
        take(effects, from: from)
    }

    /// A client engine at 10.0.0.`last`:5000 with an in-memory messenger, bootstrapping from `sources`.
    mutating func addClientEngine(_ last: UInt8, roster: Roster, sources: [String], store: any MessengerStore = MemoryMessengerStore(),
                                  tune: (inout ClientEngine.Configuration) -> Void = { _ in }) throws -> SocketAddress {
        let address = Self.address(last, port: 5000)
        var configuration = ClientEngine.Configuration(roster: roster, bootstrapURLs: sources)
        configuration.coverRateFactor = 0
        configuration.delayFactor = 0
        configuration.pollInterval = .milliseconds(500)
        tune(&configuration)
        let messenger = try Messenger(store: store, displayName: "c\(last)",
                                      retry: RetrySchedule(initialMs: 2_000, maximumMs: 8_000), policy: .autoAccept, rng: &rng)
        var engine = ClientEngine(configuration: configuration, messenger: messenger, now: now, rng: &rng)
        var effects = NodeEffects<ClientEngine.Event>()
        engine.start(now: now, rng: &rng, effects: &effects)
        clientEngines[address] = engine
        take(effects, fromClient: address)
        return address
    }

    mutating func take(_ effects: NodeEffects<ClientEngine.Event>, fromClient address: SocketAddress) {
        inFlight += effects.datagrams.map { (address, $0) }
        pendingFetches += effects.fetches.map { (address, $0) }
        clientEvents[address, default: []] += effects.events
    }

    mutating func outboxChanged(_ address: SocketAddress) {
        var effects = NodeEffects<ClientEngine.Event>()
        _ = clientEngines[address]!.handle(.outboxChanged, now: now, rng: &rng, effects: &effects)
        take(effects, fromClient: address)
        run()
    }

    /// Moves the clock by `duration`, running each relay's and client's timers as they fall due.
    mutating func advance(by duration: Duration) {
        let end = now.adding(duration)
        while true {
            run() // what is in flight first: it may make timers due sooner
            var next = end
            for engine in relays.values { if let due = engine.nextDeadline { next = min(next, due) } }
            for links in clients.values { if let due = links.nextDeadline { next = min(next, due) } }
            for engine in clientEngines.values { if let due = engine.nextDeadline { next = min(next, due) } }
            now = max(now, next)
            for address in relays.keys.sorted(by: { "\($0)" < "\($1)" }) where (relays[address]!.nextDeadline ?? end) <= now {
                var effects = NodeEffects<RelayEngine.Event>()
                relays[address]!.tick(now: now, rng: &rng, effects: &effects)
                take(effects, from: address)
            }
            for address in clientEngines.keys.sorted(by: { "\($0)" < "\($1)" }) where (clientEngines[address]!.nextDeadline ?? end) <= now {
                var effects = NodeEffects<ClientEngine.Event>()
                clientEngines[address]!.tick(now: now, rng: &rng, effects: &effects)
                take(effects, fromClient: address)
            }
            for address in clients.keys.sorted(by: { "\($0)" < "\($1)" }) where (clients[address]!.nextDeadline ?? end) <= now {
                var out: [Datagram] = []
                _ = clients[address]!.tick(now: now, rng: &rng, out: &out)
                inFlight += out.map { (address, $0) }
            }
            run()
            if now >= end { return }
        }
    }
}
