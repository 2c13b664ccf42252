import Glibc
import SecIRCCore
import SecIRCCrypto
import SecIRCNode
import SecIRCTransport

/// What travels between nodes on the simulated network (and the global happenings).
enum SimEvent: Sendable {
    /// A datagram arrives at node `to`.
    case datagram(to: Int, Datagram, from: SocketAddress)
    /// An HTTP request (sent at `sentAt`) arrives at relay `to`, from node `from`.
    case http(to: Int, from: Int, FetchRequest, sentAt: UnixTime)
    /// The answer to one of node `to`'s HTTP requests.
    case fetched(to: Int, FetchResponse)
    /// Global: clients add each other from their invites.
    case contacts
    case crash(SimulationOptions.Crash)
    case restart(relay: Int)
    /// Member 0 proposes `SimulationOptions.rosterChanges[change]`; approvals follow.
    case proposeChange(Int)
    case approveProposal(Bytes32)
    /// Global: the group's admin adds the clients of the group as contacts; creates the group;
    /// makes the `index`th membership change (a removal or a join).
    case groupContacts
    case groupCreate
    case groupChange(Int)

    /// The node the event is for; nil for a global event (handled alone, between windows).
    var target: Int? {
        switch self {
        case let .datagram(to, _, _), let .http(to, _, _, _), let .fetched(to, _): to
        case .contacts, .crash, .restart, .proposeChange, .approveProposal, .groupContacts, .groupCreate, .groupChange: nil
        }
    }
}

/// What every node may read during a window (written only between windows).
final class SimContext: @unchecked Sendable {
    // @unchecked: filled in before the first window and then only read; `up` flags of nodes
    // are changed between windows only.
    let options: SimulationOptions
    let workloadStart: UnixTime
    let workloadEnd: UnixTime
    var nodeAt: [SocketAddress: Int] = [:]
    /// Clients by identity ID (for the group workload's rosters).
    var clientByID: [ID: Int] = [:]
    var relayByURL: [String: Int] = [:]
    var nodes: [SimNode] = []

    init(options: SimulationOptions, workloadStart: UnixTime) {
        self.options = options
        self.workloadStart = workloadStart
        workloadEnd = workloadStart.adding(options.duration)
    }

    /// Whether `a` and `b` are on different sides of a partition in force at `now` (even and
    /// odd node numbers are the two halves).
    func partitioned(_ a: Int, _ b: Int, now: UnixTime) -> Bool {
        guard !options.partitions.isEmpty, a % 2 != b % 2 else { return false }
        return options.partitions.contains { now >= workloadStart.adding($0.from) && now < workloadStart.adding($0.until) }
    }
}

/// One relay or client of the simulation with everything that is its own: its engine, its
/// randomness (for the engine, for the network model of what it sends, for its workload), its
/// timer, what it has counted. During a window a node is run by one worker thread only and
/// touches nothing of other nodes but their `up` flag; what it sends goes to its `outbox`.
final class SimNode: @unchecked Sendable {
    // @unchecked: see above — one thread at a time, by construction of the windows.
    let index: Int
    let address: SocketAddress
    /// A relay's HTTP base URL.
    var httpBase: String?
    var relay: RelayEngine?
    var client: ClientEngine?
    var messenger: Messenger?
    var up = true
    var random: BufferedRandom
    var network: BufferedRandom
    var workload: BufferedRandom
    /// When the engine next wants `tick`.
    var timerAt: UnixTime?
    /// When this client next sends a workload message.
    var nextSend: UnixTime?
    /// The group workload (`+Groups`): when this member posts next, what it posted, what it read.
    var nextGroupPost: UnixTime?
    var group: ID?
    var groupPosts: [SimGroupPost] = []
    var groupArrivals: [MessageKey: UnixTime] = [:]
    var groupDuplicated = 0
    var groupPostsDeferred = 0
    /// Deposits (sealed packets) the posts of this member queued.
    var groupPostDeposits = 0
    /// The most one post queued (a first post in an epoch carries its poster's chain).
    var groupPostDepositsMost = 0
    var groupProblems = 0
    /// What was last put in the simulation's wake-up heap for this node.
    var scheduledWake: UnixTime?
    /// When the last datagram this node sent to each address arrives (one path keeps its order).
    var lastArrival: [SocketAddress: UnixTime] = [:]
    var inbox: [(time: UnixTime, event: SimEvent)] = []
    var outbox: [(time: UnixTime, event: SimEvent)] = []

    // Workload (clients).
    var contactsAdded: [Int] = []
    /// When each of this client's messages was queued; its text is `c<index>:<number>`.
    var sent: [UnixTime] = []
    // What it counted.
    var datagrams = 0
    var httpExchanges = 0
    var networkDrops: [String: Int] = [:]
    /// First arrival of each message here, by (sender, number).
    var arrivals: [MessageKey: UnixTime] = [:]
    var duplicated = 0
    var queueFailures = 0
    /// Ticks after which the engine was still due at once (a busy loop in a daemon).
    var spins = 0
    var crashedCounters: [RelayCounters] = []
    /// How much of `sent` and `arrivals` the simulation has already counted.
    var countedSent = 0
    var countedArrivals = 0

    struct MessageKey: Hashable {
        var sender: Int
        var number: Int
    }

    init(index: Int, address: SocketAddress, seed: String) {
        self.index = index
        self.address = address
        random = BufferedRandom(seed: "\(seed)/node \(index)")
        network = BufferedRandom(seed: "\(seed)/network \(index)")
        workload = BufferedRandom(seed: "\(seed)/workload \(index)")
    }

    /// The earliest time this node must run, if any.
    var wake: UnixTime? {
        [timerAt, nextSend, nextGroupPost].compactMap { $0 }.min()
    }

    // MARK: A window

    /// Handles the inbox and every timer and send of this node due before `end`, in time order.
    func run(until end: UnixTime, context: SimContext) {
        var next = 0
        while true {
            let incoming = next < inbox.count ? inbox[next].time : nil
            let local = wake.flatMap { $0 < end ? $0 : nil }
            if let incoming, local.map({ incoming <= $0 }) ?? true {
                handle(inbox[next].event, at: incoming, context: context)
                next += 1
            } else if let local {
                if let send = nextSend, send == local {
                    sendWorkloadMessage(at: local, context: context)
                } else if let post = nextGroupPost, post == local {
                    postToGroup(at: local, context: context)
                } else {
                    tick(at: local, context: context)
                }
            } else {
                break
            }
        }
        inbox.removeAll(keepingCapacity: true)
    }

    private func handle(_ event: SimEvent, at now: UnixTime, context: SimContext) {
        switch event {
        case let .datagram(_, datagram, from):
            guard up else { return drop("crashed") }
            if relay != nil {
                var effects = NodeEffects<RelayEngine.Event>()
                relay!.receive(datagram.bytes, from: from, now: now, rng: &random, effects: &effects)
                apply(effects, now: now, context: context)
            } else {
                var effects = NodeEffects<ClientEngine.Event>()
                client!.receive(datagram.bytes, from: from, now: now, rng: &random, effects: &effects)
                apply(effects, now: now, context: context)
            }
        case let .http(_, from, request, sentAt):
            answer(request, from: from, sentAt: sentAt, now: now, context: context)
        case let .fetched(_, response):
            guard up else { return }
            if relay != nil {
                var effects = NodeEffects<RelayEngine.Event>()
                relay!.fetched(response, now: now, rng: &random, effects: &effects)
                apply(effects, now: now, context: context)
            } else {
                var effects = NodeEffects<ClientEngine.Event>()
                client!.fetched(response, now: now, rng: &random, effects: &effects)
                apply(effects, now: now, context: context)
            }
        case .contacts, .crash, .restart, .proposeChange, .approveProposal, .groupContacts, .groupCreate, .groupChange:
            break // global events never reach a node's inbox
        }
    }

    private func tick(at now: UnixTime, context: SimContext) {
        timerAt = nil
        guard up else { return }
        let deadline: UnixTime?
        if relay != nil {
            var effects = NodeEffects<RelayEngine.Event>()
            relay!.tick(now: now, rng: &random, effects: &effects)
            apply(effects, now: now, context: context)
            deadline = relay!.nextDeadline
        } else {
            var effects = NodeEffects<ClientEngine.Event>()
            client!.tick(now: now, rng: &random, effects: &effects)
            apply(effects, now: now, context: context)
            deadline = client!.nextDeadline
        }
        // An engine that is still due right after its tick would spin a real loop: count it.
        if let deadline, deadline <= now { spins += 1 }
    }

    // MARK: Effects

    func apply(_ effects: NodeEffects<RelayEngine.Event>, now: UnixTime, context: SimContext) {
        transmit(effects.datagrams, now: now, context: context)
        for request in effects.fetches { fetch(request, now: now, context: context) }
        schedule(relay!.nextDeadline, now: now)
    }

    func apply(_ effects: NodeEffects<ClientEngine.Event>, now: UnixTime, context: SimContext) {
        transmit(effects.datagrams, now: now, context: context)
        for request in effects.fetches { fetch(request, now: now, context: context) }
        for event in effects.events {
            switch event {
            case let .client(.message(record)): arrived(record.text, at: now)
            case let .client(.groupMessage(record)) where !record.outgoing: groupArrived(record.text, at: now)
            case let .client(.groupInvite(invitation)): acceptGroupInvitation(invitation, now: now, context: context)
            default: break
            }
        }
        schedule(client!.nextDeadline, now: now)
    }

    /// The engine's next deadline, never in the past and never now again (a node that stays
    /// due would spin).
    func schedule(_ deadline: UnixTime?, now: UnixTime) {
        timerAt = deadline.map { max($0, now.adding(.microseconds(1))) }
    }

    /// Puts datagrams on the modelled network: partitions, loss, duplication, latency with
    /// jitter (one path keeps its order), and explicit reordering.
    private func transmit(_ datagrams: [Datagram], now: UnixTime, context: SimContext) {
        let options = context.options
        for datagram in datagrams {
            self.datagrams += 1
            guard let target = context.nodeAt[datagram.address] else {
                drop("no_endpoint")
                continue
            }
            if context.partitioned(index, target, now: now) {
                drop("partition")
                continue
            }
            if options.loss > 0, Double.random(in: 0..<1, using: &network) < options.loss {
                drop("loss")
                continue
            }
            let copies = options.duplicate > 0 && Double.random(in: 0..<1, using: &network) < options.duplicate ? 2 : 1
            for _ in 0..<copies {
                var at = max(now.adding(options.latency + jitter(options)), lastArrival[datagram.address] ?? now)
                if options.reorder > 0, Double.random(in: 0..<1, using: &network) < options.reorder {
                    at = at.adding(options.latency)
                } else {
                    lastArrival[datagram.address] = at
                }
                outbox.append((at, .datagram(to: target, datagram, from: address)))
            }
        }
    }

    private func jitter(_ options: SimulationOptions) -> Duration {
        guard options.jitter > .zero else { return .zero }
        let span = options.jitter.components.seconds * 1_000_000_000 + options.jitter.components.attoseconds / 1_000_000_000
        return .nanoseconds(Int64.random(in: 0..<max(span, 1), using: &network))
    }

    /// An HTTP exchange goes to the relay its URL names (arriving after one latency); one that
    /// names no relay, or a relay that is down or cut off, times out.
    private func fetch(_ request: FetchRequest, now: UnixTime, context: SimContext) {
        httpExchanges += 1
        guard let target = context.relayByURL[Self.base(of: request.url)], context.nodes[target].up,
              !context.partitioned(index, target, now: now)
        else {
            outbox.append((now.adding(request.timeout), .fetched(to: index, FetchResponse(id: request.id, status: nil))))
            return
        }
        outbox.append((now.adding(context.options.latency + jitter(context.options)), .http(to: target, from: index, request, sentAt: now)))
    }

    /// A relay answers an HTTP request as its routes would: the directory it holds (or 304), or
    /// a descriptor upload handed to its engine.
    private func answer(_ request: FetchRequest, from: Int, sentAt: UnixTime, now: UnixTime, context: SimContext) {
        guard up, let base = httpBase else {
            // Crashed on the way: the asker's time-out ends it.
            outbox.append((max(sentAt.adding(request.timeout), now.adding(context.options.latency)),
                           .fetched(to: from, FetchResponse(id: request.id, status: nil))))
            return
        }
        // The directory's query (`?since=`) is ignored: the simulated relays answer with the
        // full directory, as a relay that no longer keeps the caller's does (docs/PROTOCOL.md §3.6).
        let target = request.url.dropFirst(base.count)
        let path = String(target.prefix { $0 != "?" })
        let query = target.drop { $0 != "?" }.dropFirst()
        var response = FetchResponse(id: request.id, status: 404)
        switch (request.method, path) {
        case (.get, "/healthz"):
            response = FetchResponse(id: request.id, status: 200)
        case (.get, "/v1/directory"):
            if let held = relay!.directory {
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
            let reply = relay!.handle(.acceptDescriptor(document), now: now, rng: &random, effects: &effects)
            apply(effects, now: now, context: context)
            switch reply {
            case .accepted: response = FetchResponse(id: request.id, status: 202)
            case .notFirstRing: response = FetchResponse(id: request.id, status: 409)
            default: response = FetchResponse(id: request.id, status: 422)
            }
        case (.get, "/v1/ring/roster"):
            let chain = relay!.rosterChain
            let since = query.hasPrefix("since=") ? UInt64(query.dropFirst("since=".count)) ?? 0 : 0
            let answer = RosterChainAnswer(epoch: chain.current.epoch, roster: chain.current, changes: Array(chain.changes(since: since)))
            response = FetchResponse(id: request.id, status: 200, body: answer.jsonBytes())
        case (.post, "/v1/ring/votes"), (.post, "/v1/ring/shares"), (.post, "/v1/ring/proposals"):
            guard let body = request.body, let document = try? SignedDocument.decode(json: body) else {
                response = FetchResponse(id: request.id, status: 400)
                break
            }
            var effects = NodeEffects<RelayEngine.Event>()
            let command: RelayEngine.Command = switch path {
            case "/v1/ring/votes": .ringVote(document)
            case "/v1/ring/shares": .ringShare(document)
            default: .rosterProposal(document)
            }
            let reply = relay!.handle(command, now: now, rng: &random, effects: &effects)
            apply(effects, now: now, context: context)
            response = FetchResponse(id: request.id, status: RelayEngine.httpStatus(of: reply))
        default:
            break
        }
        outbox.append((now.adding(context.options.latency + jitter(context.options)), .fetched(to: from, response)))
    }

    private func drop(_ reason: String) { networkDrops[reason, default: 0] += 1 }

    /// `scheme://host:port` of a URL (what the relays are known by).
    static func base(of url: String) -> String {
        guard let scheme = url.range(of: "://") else { return url }
        let rest = url[scheme.upperBound...]
        return String(url[..<(rest.firstIndex(of: "/") ?? url.endIndex)])
    }

    // MARK: Workload

    /// One workload message to a random contact this client added, then the next one's time.
    private func sendWorkloadMessage(at now: UnixTime, context: SimContext) {
        let next = now.adding(exponential(mean: context.options.messageInterval))
        nextSend = next < context.workloadEnd ? next : nil
        guard let contact = contactsAdded.randomElement(using: &workload), let messenger else { return }
        let text = "c\(index):\(sent.count)"
        do {
            _ = try messenger.queueText(to: context.nodes[contact].messenger!.identity.id, text: text, now: now, rng: &random)
            sent.append(now)
            var effects = NodeEffects<ClientEngine.Event>()
            _ = client!.handle(.outboxChanged, now: now, rng: &random, effects: &effects)
            apply(effects, now: now, context: context)
        } catch {
            queueFailures += 1
        }
    }

    func exponential(mean: Duration) -> Duration {
        let seconds = Double(mean.components.seconds) + Double(mean.components.attoseconds) / 1e18
        let u = Double.random(in: Double.leastNonzeroMagnitude..<1, using: &workload)
        return .nanoseconds(Int64(-Glibc.log(u) * seconds * 1e9))
    }

    private func arrived(_ text: String, at time: UnixTime) {
        guard text.hasPrefix("c"), let colon = text.firstIndex(of: ":"),
              let sender = Int(text[text.index(after: text.startIndex)..<colon]), let number = Int(text[text.index(after: colon)...])
        else { return }
        let key = MessageKey(sender: sender, number: number)
        if arrivals[key] == nil { arrivals[key] = time } else { duplicated += 1 }
    }
}
