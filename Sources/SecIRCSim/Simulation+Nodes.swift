import SecIRCCore
import SecIRCCrypto
import SecIRCNode
import SecIRCTransport

extension Simulation {
    /// Relay `i` listens at 10.1.x.y:6690 and serves HTTP at http://10.1.x.y:6691.
    static func relayAddress(_ i: Int) -> SocketAddress {
        try! SocketAddress(host: "10.1.\(i / 250).\(i % 250 + 1)", port: 6690)
    }

    /// Client `i` sends from 10.2.x.y:5000.
    static func clientAddress(_ i: Int) -> SocketAddress {
        try! SocketAddress(host: "10.2.\(i / 250).\(i % 250 + 1)", port: 5000)
    }

    /// The nodes: relays are numbers 0..<relays, clients follow.
    func setUpRelays() {
        var keys = BufferedRandom(seed: "\(options.seed)/relay keys")
        let identities = (0..<options.relays).map { _ in SigningPrivateKey(using: &keys) }
        let roster = Roster(members: (0..<min(max(options.ringSize, 1), options.relays)).map { i in
            Roster.Member(identityKey: identities[i].publicKey, udp: "\(Self.relayAddress(i))", http: "http://\(Self.relayAddress(i).host):6691")
        })
        for i in 0..<options.relays {
            let address = Self.relayAddress(i)
            let http = "http://\(address.host):6691"
            let configuration = RelayEngine.Configuration(
                identity: identities[i], linkKey: AgreementPrivateKey(using: &keys), roster: roster,
                network: NetworkParameters(coverRate: options.coverRate, loopRate: options.loopRate, relayCoverRate: options.relayCoverRate,
                                           meanDelayMs: options.meanDelayMilliseconds),
                directoryPeriod: options.directoryPeriod, advertisedUDP: "\(address)", advertisedHTTP: http,
                mailbox: MailboxStore.Limits(ttl: .seconds(604_800), maxMessagesPerQueue: 1_000, maxMailboxes: 100_000,
                                             maxTotalBytes: 256 << 20),
                keyPeriod: .seconds(86_400), keyGrace: .seconds(3_600))
            relayConfigurations.append(configuration)
            let node = SimNode(index: i, address: address, seed: options.seed)
            node.httpBase = http
            node.relay = RelayEngine(configuration: configuration, now: now, rng: &node.random)
            context.nodes.append(node)
            context.nodeAt[address] = i
            context.relayByURL[http] = i
            var effects = NodeEffects<RelayEngine.Event>()
            node.relay!.start(now: now, rng: &node.random, effects: &effects)
            node.apply(effects, now: now, context: context)
        }
        collect(from: Array(0..<options.relays))
    }

    func setUpClients() {
        let roster = relayConfigurations[0].roster
        // Clients come once the relays have joined (a few seconds): they verify one directory.
        let clientsStart = start.adding(.seconds(30))
        var choices = BufferedRandom(seed: "\(options.seed)/bootstrap")
        for i in 0..<options.clients {
            let index = options.relays + i
            let node = SimNode(index: index, address: Self.clientAddress(i), seed: options.seed)
            // Three bootstrap sources: the first ring and two others.
            let sources = Array(Set([0] + Array((1..<max(options.relays, 1)).shuffled(using: &choices).prefix(2)))).sorted()
            var configuration = ClientEngine.Configuration(
                roster: roster, bootstrapURLs: sources.map { "http://\(Self.relayAddress($0).host):6691" })
            configuration.coverRateFactor = options.cover.rateFactor
            configuration.delayFactor = options.cover.delayFactor
            configuration.pollInterval = options.pollInterval
            let retry = RetrySchedule(initialMs: options.effectiveRetryInitial.milliseconds, maximumMs: options.retryMax.milliseconds)
            do {
                // Every client here is added by several others at once: no hourly cap on new
                // contacts, and no user to accept requests.
                node.messenger = try Messenger(store: MemoryMessengerStore(), displayName: "c\(i)", retry: retry,
                                               policy: ContactPolicy(autoAccept: true,
                                                                     newContactLimit: NewContactLimit(maximum: options.clients)),
                                               rng: &node.random)
            } catch {
                fatalError("an in-memory messenger cannot fail to open: \(error)")
            }
            context.clientByID[node.messenger!.identity.id] = index
            node.client = ClientEngine(configuration: configuration, messenger: node.messenger!, now: clientsStart, rng: &node.random)
            node.timerAt = clientsStart
            let first = workloadStart.adding(node.exponential(mean: options.messageInterval))
            node.nextSend = first < workloadEnd ? first : nil
            context.nodes.append(node)
            context.nodeAt[node.address] = index
            scheduleWake(index)
        }
    }

    /// Each client adds `contacts` others from their invites (those not ready yet try again
    /// five seconds later). Between windows: it touches several clients.
    func addContacts() {
        var contacts = BufferedRandom(seed: "\(options.seed)/contacts \(now.nanoseconds)")
        let clients = Array(options.relays..<nodes.count)
        var waiting = false
        var touched: [Int] = []
        for i in clients where nodes[i].contactsAdded.isEmpty {
            let node = nodes[i]
            guard let messenger = node.messenger, !messenger.mailboxes.isEmpty else {
                waiting = true
                continue
            }
            let others = Array(clients.filter { $0 != i && !nodes[$0].messenger!.mailboxes.isEmpty }.shuffled(using: &contacts)
                .prefix(options.contacts))
            for j in others {
                do {
                    let invite = try nodes[j].messenger!.invite(now: now, rng: &nodes[j].random)
                    _ = try messenger.addContact(inviteURI: invite.uri, name: "c\(j)", now: now, rng: &node.random)
                    node.contactsAdded.append(j)
                } catch {
                    setupFailures += 1
                }
            }
            var effects = NodeEffects<ClientEngine.Event>()
            _ = node.client!.handle(.outboxChanged, now: now, rng: &node.random, effects: &effects)
            node.apply(effects, now: now, context: context)
            touched.append(i)
        }
        collect(from: touched)
        if waiting { globals.insert(.contacts, at: now.adding(.seconds(5))) }
    }

    func crashRelay(_ crash: SimulationOptions.Crash) {
        let victim: Int
        switch crash.relay {
        case let .index(n):
            victim = min(max(n, 0), options.relays - 1)
        case .busiestMailbox:
            var load: [ID: Int] = [:]
            for node in nodes { for mailbox in node.messenger?.mailboxes ?? [] { load[mailbox.relayID, default: 0] += 1 } }
            let candidates = (0..<options.relays).dropFirst()
            func count(_ i: Int) -> Int { load[nodes[i].relay!.relayID] ?? 0 }
            victim = candidates.max { (count($0), $1) < (count($1), $0) } ?? 0
        }
        let node = nodes[victim]
        guard node.up else { return }
        node.up = false
        node.timerAt = nil
        node.crashedCounters.append(node.relay!.counters)
        crashes.append((victim, now))
        globals.insert(.restart(relay: victim), at: now.adding(crash.downtime))
    }

    func restartRelay(_ i: Int) {
        let node = nodes[i]
        node.up = true
        node.relay = RelayEngine(configuration: relayConfigurations[i], now: now, rng: &node.random)
        var effects = NodeEffects<RelayEngine.Event>()
        node.relay!.start(now: now, rng: &node.random, effects: &effects)
        node.apply(effects, now: now, context: context)
        collect(from: [i])
    }
}

extension Simulation {
    /// Member 0 (an operator, through its admin API) proposes `change`.
    func proposeChange(_ change: SimulationOptions.RosterChangeAt) {
        var request = RosterChangeRequest(network: change.network, note: "simulated change")
        if let relay = change.addRelay {
            let configuration = relayConfigurations[min(max(relay, 0), options.relays - 1)]
            request.add = [Roster.Member(identityKey: configuration.identity.publicKey, udp: configuration.advertisedUDP,
                                         http: configuration.advertisedHTTP)]
        }
        let reply = command(.proposeRosterChange(request), on: 0)
        if case let .proposal(pending?, false) = reply { globals.insert(.approveProposal(pending.id), at: now.adding(.seconds(1))) }
    }

    /// Every other member of the roster in force approves proposal `id` (those that no longer
    /// hold it — in force already — refuse, as their operators would see).
    func approveProposal(_ id: Bytes32) {
        guard let roster = nodes[0].relay?.roster else { return }
        for i in 1..<options.relays where roster.keys.contains(relayConfigurations[i].identity.publicKey) {
            _ = command(.approveRosterChange(id), on: i)
        }
    }

    private func command(_ command: RelayEngine.Command, on i: Int) -> RelayEngine.Reply? {
        let node = nodes[i]
        guard node.up else { return nil }
        var effects = NodeEffects<RelayEngine.Event>()
        let reply = node.relay!.handle(command, now: now, rng: &node.random, effects: &effects)
        node.apply(effects, now: now, context: context)
        collect(from: [i])
        return reply
    }
}

extension Duration {
    var milliseconds: Int64 { components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000 }
}
