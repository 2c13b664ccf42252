import Glibc
import SecIRCCore
import SecIRCCrypto
import SecIRCNode
import SecIRCTransport

/// A whole secIRC network in one process on virtual time: the real relay and client engines
/// (`SecIRCNode`), with real cryptography and the in-memory messenger store, exchanging
/// datagrams over a modelled network (latency, jitter, loss, duplication, reordering,
/// partitions) and HTTP exchanges answered by the relays they name; relays crash and restart
/// on schedule. Deterministic: the same options (seed included) give the same run, event for
/// event (given deterministic hashing: `secirc-sim` sees to it).
///
/// Timeline: relays start at 0 (relay 0 is the first ring, the others join through it);
/// clients at 30 s; at 40 s each client adds `contacts` others from their invites; the
/// workload (and the clock of crash and partition times) starts at 60 s and lasts `duration`;
/// then the network runs until every message arrived or `drain` has passed.
public final class Simulation {
    enum NodeID: Hashable, Sendable {
        case relay(Int)
        case client(Int)
    }

    enum Event: Sendable {
        case datagram(Datagram, from: SocketAddress)
        case timer(NodeID)
        case fetched(NodeID, FetchResponse)
        case send(client: Int)
        case contacts
        case crash(SimulationOptions.Crash)
        case restart(relay: Int)
    }

    public let options: SimulationOptions
    let start = UnixTime(seconds: 1_800_000_000)
    var now: UnixTime
    var queue = TimedHeap<Event>()

    var relays: [RelayEngine] = []
    var relayConfigurations: [RelayEngine.Configuration] = []
    var relayUp: [Bool] = []
    var relayRandom: [BufferedRandom] = []
    var relayTimer: [UnixTime?] = []
    var relayAddresses: [SocketAddress] = []
    /// Counters of relay engines that crashed (their memory is gone; what they counted is not).
    var crashedCounters: [RelayCounters] = []

    var clients: [ClientEngine] = []
    var messengers: [Messenger] = []
    var clientRandom: [BufferedRandom] = []
    var clientTimer: [UnixTime?] = []
    var clientAddresses: [SocketAddress] = []
    var contactsAdded: [[Int]] = []

    var nodeAt: [SocketAddress: NodeID] = [:]
    var relayByURL: [String: Int] = [:]
    var network: BufferedRandom
    /// When the last datagram on each path arrives (so jitter does not reorder one path).
    var lastArrival: [Path: UnixTime] = [:]

    struct Path: Hashable {
        var from: SocketAddress
        var to: SocketAddress
    }
    var workload: BufferedRandom
    var stats = SimulationStats()

    var workloadStart: UnixTime { start.adding(.seconds(60)) }
    var workloadEnd: UnixTime { workloadStart.adding(options.duration) }

    public init(options: SimulationOptions) {
        self.options = options
        now = start
        network = BufferedRandom(seed: "\(options.seed)/network")
        workload = BufferedRandom(seed: "\(options.seed)/workload")
    }

    /// Runs the whole simulation and reports what happened.
    public func run() -> SimulationReport {
        stats.clients = options.clients
        setUpRelays()
        setUpClients()
        queue.insert(.contacts, at: start.adding(.seconds(40)))
        for crash in options.crashes { queue.insert(.crash(crash), at: workloadStart.adding(crash.at)) }
        for client in clients.indices {
            let first = workloadStart.adding(exponential(mean: options.messageInterval))
            if first < workloadEnd { queue.insert(.send(client: client), at: first) } else { stats.clientsDone += 1 }
        }
        let hardStop = workloadEnd.adding(options.drain)
        while let (time, event) = queue.popFirst() {
            if time > hardStop { break }
            now = time
            if now >= workloadEnd, stats.delivered.count == stats.sent.count, stats.allSendsDone { break }
            handle(event)
        }
        stats.finished = now
        return report()
    }

    // MARK: Events

    private func handle(_ event: Event) {
        switch event {
        case let .datagram(datagram, from):
            deliver(datagram, from: from)
        case let .timer(node):
            fire(node)
        case let .fetched(node, response):
            switch node {
            case let .relay(i):
                guard relayUp[i] else { return }
                var effects = NodeEffects<RelayEngine.Event>()
                relays[i].fetched(response, now: now, rng: &relayRandom[i], effects: &effects)
                apply(effects, relay: i)
            case let .client(i):
                var effects = NodeEffects<ClientEngine.Event>()
                clients[i].fetched(response, now: now, rng: &clientRandom[i], effects: &effects)
                apply(effects, client: i)
            }
        case let .send(client):
            sendMessage(from: client)
        case .contacts:
            addContacts()
        case let .crash(crash):
            crashRelay(crash)
        case let .restart(relay):
            restartRelay(relay)
        }
    }

    private func deliver(_ datagram: Datagram, from: SocketAddress) {
        switch nodeAt[datagram.address] {
        case let .relay(i)?:
            guard relayUp[i] else { return stats.dropNetwork("crashed") }
            var effects = NodeEffects<RelayEngine.Event>()
            relays[i].receive(datagram.bytes, from: from, now: now, rng: &relayRandom[i], effects: &effects)
            apply(effects, relay: i)
        case let .client(i)?:
            var effects = NodeEffects<ClientEngine.Event>()
            clients[i].receive(datagram.bytes, from: from, now: now, rng: &clientRandom[i], effects: &effects)
            apply(effects, client: i)
        case nil:
            stats.dropNetwork("no_endpoint")
        }
    }

    private func fire(_ node: NodeID) {
        switch node {
        case let .relay(i):
            guard relayUp[i], relayTimer[i] == now else { return }
            relayTimer[i] = nil
            var effects = NodeEffects<RelayEngine.Event>()
            relays[i].tick(now: now, rng: &relayRandom[i], effects: &effects)
            apply(effects, relay: i)
        case let .client(i):
            guard clientTimer[i] == now else { return }
            clientTimer[i] = nil
            var effects = NodeEffects<ClientEngine.Event>()
            clients[i].tick(now: now, rng: &clientRandom[i], effects: &effects)
            apply(effects, client: i)
        }
    }

    // MARK: Effects

    func apply(_ effects: NodeEffects<RelayEngine.Event>, relay i: Int) {
        transmit(effects.datagrams, from: relayAddresses[i], node: .relay(i))
        for request in effects.fetches { fetch(request, for: .relay(i), from: relayAddresses[i]) }
        relayTimer[i] = schedule(.relay(i), deadline: relays[i].nextDeadline, current: relayTimer[i])
    }

    func apply(_ effects: NodeEffects<ClientEngine.Event>, client i: Int) {
        transmit(effects.datagrams, from: clientAddresses[i], node: .client(i))
        for request in effects.fetches { fetch(request, for: .client(i), from: clientAddresses[i]) }
        for event in effects.events {
            if case let .client(.message(record)) = event { stats.arrived(record.text, at: now) }
        }
        clientTimer[i] = schedule(.client(i), deadline: clients[i].nextDeadline, current: clientTimer[i])
    }

    /// Schedules a node's timer when its deadline is earlier than the one already scheduled.
    /// Returns the time now scheduled. (A later deadline leaves the earlier timer: it fires,
    /// finds nothing due, and the node's next deadline is scheduled then.)
    private func schedule(_ node: NodeID, deadline: UnixTime?, current: UnixTime?) -> UnixTime? {
        guard let deadline else { return current }
        // Never in the past, and never twice at one instant (a node that stays due would spin).
        let at = max(deadline, now.adding(.microseconds(1)))
        if let current, current <= at { return current }
        queue.insert(.timer(node), at: at)
        return at
    }

    /// Puts datagrams on the modelled network.
    private func transmit(_ datagrams: [Datagram], from source: SocketAddress, node: NodeID) {
        for datagram in datagrams {
            stats.datagrams += 1
            if isPartitioned(source, datagram.address) {
                stats.dropNetwork("partition")
                continue
            }
            if options.loss > 0, Double.random(in: 0..<1, using: &network) < options.loss {
                stats.dropNetwork("loss")
                continue
            }
            let copies = options.duplicate > 0 && Double.random(in: 0..<1, using: &network) < options.duplicate ? 2 : 1
            for _ in 0..<copies {
                // One path keeps its order (jitter does not overtake); `reorder` holds a datagram back.
                let path = Path(from: source, to: datagram.address)
                var at = max(now.adding(options.latency + jitter()), lastArrival[path] ?? now)
                if options.reorder > 0, Double.random(in: 0..<1, using: &network) < options.reorder {
                    at = at.adding(options.latency)
                } else {
                    lastArrival[path] = at
                }
                queue.insert(.datagram(datagram, from: source), at: at)
            }
        }
    }

    private func jitter() -> Duration {
        guard options.jitter > .zero else { return .zero }
        let span = options.jitter.components.seconds * 1_000_000_000 + options.jitter.components.attoseconds / 1_000_000_000
        return .nanoseconds(Int64.random(in: 0..<max(span, 1), using: &network))
    }

    /// An HTTP exchange, answered by the relay its URL names (as that relay's routes would)
    /// after a round trip; a crashed or cut-off relay makes it time out.
    private func fetch(_ request: FetchRequest, for node: NodeID, from source: SocketAddress) {
        stats.httpExchanges += 1
        guard let base = relayByURL.keys.first(where: { request.url.hasPrefix($0 + "/") }), let target = relayByURL[base],
              relayUp[target], !isPartitioned(source, relayAddresses[target])
        else {
            queue.insert(.fetched(node, FetchResponse(id: request.id, status: nil)), at: now.adding(request.timeout))
            return
        }
        let path = String(request.url.dropFirst(base.count))
        var response = FetchResponse(id: request.id, status: 404)
        switch (request.method, path) {
        case (.get, "/v1/directory"):
            if let held = relays[target].directory {
                response = request.headers["If-None-Match"] == held.etag
                    ? FetchResponse(id: request.id, status: 304)
                    : FetchResponse(id: request.id, status: 200, body: held.document.jsonBytes())
            } else {
                response = FetchResponse(id: request.id, status: 503)
            }
        case (.post, "/v1/descriptors"):
            guard let body = request.body, let document = try? SignedDocument.decode(json: body) else {
                response = FetchResponse(id: request.id, status: 400)
                break
            }
            var effects = NodeEffects<RelayEngine.Event>()
            let reply = relays[target].handle(.acceptDescriptor(document), now: now, rng: &relayRandom[target], effects: &effects)
            apply(effects, relay: target)
            switch reply {
            case .accepted: response = FetchResponse(id: request.id, status: 202)
            case .notFirstRing: response = FetchResponse(id: request.id, status: 409)
            case .refused, .done: response = FetchResponse(id: request.id, status: 422)
            }
        default:
            break
        }
        queue.insert(.fetched(node, response), at: now.adding(options.latency * 2 + jitter()))
    }

    /// Whether `a` and `b` are on different sides of a partition in force now.
    private func isPartitioned(_ a: SocketAddress, _ b: SocketAddress) -> Bool {
        guard !options.partitions.isEmpty else { return false }
        let inForce = options.partitions.contains { now >= workloadStart.adding($0.from) && now < workloadStart.adding($0.until) }
        guard inForce, let x = nodeAt[a], let y = nodeAt[b] else { return false }
        return side(x) != side(y)
    }

    private func side(_ node: NodeID) -> Int {
        switch node {
        case let .relay(i): i % 2
        case let .client(i): i % 2
        }
    }

    func exponential(mean: Duration) -> Duration {
        let seconds = Double(mean.components.seconds) + Double(mean.components.attoseconds) / 1e18
        let u = Double.random(in: Double.leastNonzeroMagnitude..<1, using: &workload)
        return .nanoseconds(Int64(-Glibc.log(u) * seconds * 1e9))
    }
}
