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

    /// Numeric `a.b.c.d:port` only: the simulator never asks a resolver.
    static func numeric(_ text: String) -> SocketAddress? {
        guard text.utf8.allSatisfy({ ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9")) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: ":") })
        else { return nil }
        return try? SocketAddress(parsing: text)
    }

    func setUpRelays() {
        var keys = BufferedRandom(seed: "\(options.seed)/relay keys")
        let identities = (0..<options.relays).map { _ in SigningPrivateKey(using: &keys) }
        let firstRingAddress = Self.relayAddress(0)
        let roster = Roster(members: [Roster.Member(identityKey: identities[0].publicKey, udp: "\(firstRingAddress)",
                                                    http: "http://\(firstRingAddress.host):6691")])
        for i in 0..<options.relays {
            let address = Self.relayAddress(i)
            let http = "http://\(address.host):6691"
            var configuration = RelayEngine.Configuration(
                identity: identities[i], linkKey: AgreementPrivateKey(using: &keys), roster: roster,
                network: NetworkParameters(coverRate: options.coverRate, meanDelayMs: options.meanDelayMilliseconds),
                directoryPeriod: options.directoryPeriod, advertisedUDP: "\(address)", advertisedHTTP: http,
                mailbox: MailboxStore.Limits(ttl: .seconds(604_800), maxMessagesPerMailbox: 1_000, maxMailboxes: 100_000,
                                             maxTotalBytes: 256 << 20),
                keyPeriod: .seconds(86_400), keyGrace: .seconds(3_600))
            configuration.resolve = Self.numeric
            relayConfigurations.append(configuration)
            relayAddresses.append(address)
            relayRandom.append(BufferedRandom(seed: "\(options.seed)/relay \(i)"))
            relayUp.append(true)
            relayTimer.append(nil)
            nodeAt[address] = .relay(i)
            relayByURL[http] = i
            relays.append(RelayEngine(configuration: configuration, now: now, rng: &relayRandom[i]))
            var effects = NodeEffects<RelayEngine.Event>()
            relays[i].start(now: now, rng: &relayRandom[i], effects: &effects)
            apply(effects, relay: i)
        }
    }

    func setUpClients() {
        let roster = relayConfigurations[0].roster
        // Clients come once the relays have joined (a few seconds): they verify one directory.
        let clientsStart = start.adding(.seconds(30))
        var choices = BufferedRandom(seed: "\(options.seed)/bootstrap")
        for i in 0..<options.clients {
            var random = BufferedRandom(seed: "\(options.seed)/client \(i)")
            // Three bootstrap sources: the first ring and two others.
            var sources = [0] + Array((1..<max(options.relays, 1)).shuffled(using: &choices).prefix(2))
            sources = Array(Set(sources)).sorted()
            var configuration = ClientEngine.Configuration(
                roster: roster, bootstrapURLs: sources.map { "http://\(relayAddresses[$0].host):6691" })
            configuration.coverRateFactor = options.cover.rateFactor
            configuration.delayFactor = options.cover.delayFactor
            configuration.pollInterval = options.pollInterval
            configuration.resolve = Self.numeric
            let retry = RetrySchedule(initialMs: options.effectiveRetryInitial.milliseconds, maximumMs: options.retryMax.milliseconds)
            let messenger: Messenger
            do {
                // Every client here is added by several others at once: no hourly cap on new contacts.
                messenger = try Messenger(store: MemoryMessengerStore(), displayName: "c\(i)", retry: retry,
                                          newContactLimit: NewContactLimit(maximum: options.clients), rng: &random)
            } catch {
                fatalError("an in-memory messenger cannot fail to open: \(error)")
            }
            let address = Self.clientAddress(i)
            messengers.append(messenger)
            clientAddresses.append(address)
            nodeAt[address] = .client(i)
            contactsAdded.append([])
            clientTimer.append(nil)
            clients.append(ClientEngine(configuration: configuration, messenger: messenger, now: clientsStart, rng: &random))
            clientRandom.append(random)
            clientTimer[i] = clientsStart
            queue.insert(.timer(.client(i)), at: clientsStart)
        }
    }

    /// Each client adds `contacts` others from their invites (those not ready yet try again
    /// five seconds later).
    func addContacts() {
        var waiting = false
        for i in clients.indices where contactsAdded[i].isEmpty {
            guard !messengers[i].mailboxes.isEmpty else {
                waiting = true
                continue
            }
            let others = Array(clients.indices.filter { $0 != i && !messengers[$0].mailboxes.isEmpty }.shuffled(using: &workload)
                .prefix(options.contacts))
            for j in others {
                do {
                    let invite = try messengers[j].invite(now: now, rng: &clientRandom[j])
                    _ = try messengers[i].addContact(inviteURI: invite.uri, name: "c\(j)", now: now, rng: &clientRandom[i])
                    contactsAdded[i].append(j)
                } catch {
                    stats.setupFailures += 1
                }
            }
            outboxChanged(i)
        }
        if waiting { queue.insert(.contacts, at: now.adding(.seconds(5))) }
    }

    func outboxChanged(_ i: Int) {
        var effects = NodeEffects<ClientEngine.Event>()
        _ = clients[i].handle(.outboxChanged, now: now, rng: &clientRandom[i], effects: &effects)
        apply(effects, client: i)
    }

    /// One workload message from client `i` to a random contact of its own, then the next
    /// one's time.
    func sendMessage(from i: Int) {
        defer {
            let next = now.adding(exponential(mean: options.messageInterval))
            if next < workloadEnd { queue.insert(.send(client: i), at: next) } else { stats.clientsDone += 1 }
        }
        guard let j = contactsAdded[i].randomElement(using: &workload),
              let contact = messengers[j].identity.id as ID?
        else { return }
        let text = "#\(stats.sent.count)"
        do {
            _ = try messengers[i].queueText(to: contact, text: text, now: now, rng: &clientRandom[i])
            stats.sent.append(now)
            outboxChanged(i)
        } catch {
            stats.queueFailures += 1
        }
    }

    func crashRelay(_ crash: SimulationOptions.Crash) {
        let victim: Int
        switch crash.relay {
        case let .index(n):
            victim = min(max(n, 0), relays.count - 1)
        case .busiestMailbox:
            var load: [ID: Int] = [:]
            for messenger in messengers { for mailbox in messenger.mailboxes { load[mailbox.relayID, default: 0] += 1 } }
            let candidates = relays.indices.dropFirst()
            victim = candidates.max { (load[relays[$0].relayID] ?? 0, $1) < (load[relays[$1].relayID] ?? 0, $0) } ?? 0
        }
        guard relayUp[victim] else { return }
        relayUp[victim] = false
        relayTimer[victim] = nil
        crashedCounters.append(relays[victim].counters)
        stats.crashes.append((victim, now))
        queue.insert(.restart(relay: victim), at: now.adding(crash.downtime))
    }

    func restartRelay(_ i: Int) {
        relayUp[i] = true
        relays[i] = RelayEngine(configuration: relayConfigurations[i], now: now, rng: &relayRandom[i])
        var effects = NodeEffects<RelayEngine.Event>()
        relays[i].start(now: now, rng: &relayRandom[i], effects: &effects)
        apply(effects, relay: i)
    }
}

extension Duration {
    var milliseconds: Int64 { components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000 }
}
