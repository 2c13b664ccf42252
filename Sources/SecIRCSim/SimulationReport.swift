import SecIRCCore
import SecIRCNode

/// The outcome of a run, printed one figure per line: `sent N`, `delivered N`, `lost N`,
/// `duplicated N`, latency percentiles (virtual milliseconds, from queueing at the sender to
/// the recipient's message event), packets per message, and every drop by where and why.
/// The same options give the same report, byte for byte.
public struct SimulationReport: Sendable, CustomStringConvertible {
    public var lines: [(String, String)]

    public var description: String { lines.map { "\($0.0) \($0.1)" }.joined(separator: "\n") }

    /// A figure by name.
    public subscript(_ name: String) -> String? { lines.first { $0.0 == name }?.1 }
}

extension Simulation {
    func report() -> SimulationReport {
        var lines: [(String, String)] = []
        let o = options
        let clients = nodes.filter { $0.client != nil }
        let relays = nodes.filter { $0.relay != nil }
        let sent = clients.reduce(0) { $0 + $1.sent.count }
        var latencies: [Double] = []
        for node in clients {
            for (key, at) in node.arrivals {
                let queued = nodes[key.sender].sent[key.number]
                latencies.append(Double(at.nanoseconds - queued.nanoseconds) / 1e6)
            }
        }
        latencies.sort()
        let delivered = latencies.count
        lines.append(("relays", "\(o.relays)"))
        lines.append(("clients", "\(o.clients)"))
        lines.append(("duration_s", "\(o.duration.components.seconds)"))
        lines.append(("seed", o.seed))
        lines.append(("cover", o.cover.rawValue))
        lines.append(("sent", "\(sent)"))
        lines.append(("delivered", "\(delivered)"))
        lines.append(("lost", "\(sent - delivered)"))
        lines.append(("duplicated", "\(clients.reduce(0) { $0 + $1.duplicated })"))
        func percentile(_ p: Double) -> Double {
            latencies.isEmpty ? 0 : latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))]
        }
        lines.append(("latency_p50_ms", format(percentile(0.5))))
        lines.append(("latency_p99_ms", format(percentile(0.99))))
        lines.append(("latency_max_ms", format(latencies.last ?? 0)))
        let onion = clients.reduce(0) { $0 + $1.client!.status.packetsSent }
        let cover = clients.reduce(0) { $0 + $1.client!.status.coverPacketsSent }
        let datagrams = nodes.reduce(0) { $0 + $1.datagrams }
        let messages = max(sent, 1)
        lines.append(("packets_per_message", format(Double(onion - cover) / Double(messages))))
        lines.append(("cover_packets", "\(cover)"))
        lines.append(("datagrams", "\(datagrams)"))
        lines.append(("datagrams_per_message", format(Double(datagrams) / Double(messages))))
        lines.append(("http_exchanges", "\(nodes.reduce(0) { $0 + $1.httpExchanges })"))
        if o.ringSize > 1 {
            // Per member (down ones show their counters from before the crash).
            let ring = relays.prefix(o.ringSize).map { $0.up ? $0.relay!.ringStatus : $0.crashedCounters.last?.ring }
            lines.append(("ring_published", ring.map { "\($0?.roundsPublished ?? 0)" }.joined(separator: ",")))
            lines.append(("ring_failed", ring.map { "\($0?.roundsFailed ?? 0)" }.joined(separator: ",")))
            lines.append(("ring_last_serial", ring.map { "\($0?.lastPublished ?? 0)" }.joined(separator: ",")))
            lines.append(("ring_equivocations", "\(ring.reduce(0) { $0 + ($1?.equivocationCount ?? 0) })"))
        }
        if !o.rosterChanges.isEmpty {
            // Governance: the roster each relay and client follows, and what each relay published.
            lines.append(("roster_epochs", relays.map { "\($0.relay!.roster.epoch)" }.joined(separator: ",")))
            lines.append(("client_roster_epochs", clients.map { "\($0.client!.networkStatus.roster?.epoch ?? 0)" }.joined(separator: ",")))
            lines.append(("relay_ring_published", relays.map { "\($0.relay!.ringStatus?.roundsPublished ?? 0)" }.joined(separator: ",")))
            lines.append(("directory_signers", relays.map { "\($0.relay!.directory?.document.signatures.count ?? 0)" }.joined(separator: ",")))
            lines.append(("directory_cover_rates", relays.map { "\($0.relay!.directory?.directory.network.coverRate ?? 0)" }.joined(separator: ",")))
        }
        let counters = relays.flatMap { $0.crashedCounters + ($0.up ? [$0.relay!.counters] : []) }
        lines.append(("mailbox_fetches", "\(counters.reduce(0) { $0 + $1.fetches })"))
        lines.append(("link_handshakes", "\(counters.reduce(0) { $0 + $1.handshakes })"))
        lines.append(("sphinx_peels", "\(counters.reduce(0) { $0 + $1.forwarded + $1.delivered + $1.coverDropped })"))
        let crashed = crashes.map { "relay\($0.relay)@\(($0.at.nanoseconds - workloadStart.nanoseconds) / 1_000_000_000)s" }
        lines.append(("crashes", crashed.isEmpty ? "none" : crashed.joined(separator: ",")))
        lines.append(("virtual_end_s", "\((finished.nanoseconds - workloadStart.nanoseconds) / 1_000_000_000)"))
        if setupFailures > 0 { lines.append(("contact_setup_failures", "\(setupFailures)")) }
        let spins = nodes.reduce(0) { $0 + $1.spins }
        if spins > 0 { lines.append(("engine_spins", "\(spins)")) }
        let queueFailures = clients.reduce(0) { $0 + $1.queueFailures }
        if queueFailures > 0 { lines.append(("queue_failures", "\(queueFailures)")) }
        if o.groupSize > 0 { lines += groupReport() }
        for (reason, count) in drops(counters: counters).sorted(by: { $0.key < $1.key }) where count > 0 {
            lines.append(("drop", "\(reason) \(count)"))
        }
        return SimulationReport(lines: lines)
    }

    /// Every drop of the run, `where.reason`: the network model's, each relay's by layer (the
    /// counts of crashed incarnations included) and each client's.
    private func drops(counters: [RelayCounters]) -> [String: Int] {
        var all: [String: Int] = [:]
        for node in nodes {
            for (reason, count) in node.networkDrops { all["network.\(reason)", default: 0] += count }
            for (reason, count) in node.client?.status.dropped ?? [:] { all["client.\(reason)", default: 0] += count }
        }
        for c in counters {
            for (reason, count) in c.linkDrops { all["relay.link.\(reason.rawValue)", default: 0] += count }
            for (reason, count) in c.sphinxRejects { all["relay.sphinx.\(reason.rawValue)", default: 0] += count }
            for (reason, count) in c.mailboxDrops { all["relay.mailbox.\(reason.rawValue)", default: 0] += count }
            for (reason, count) in c.relayDrops { all["relay.\(reason.rawValue)", default: 0] += count }
        }
        return all
    }

    private func format(_ value: Double) -> String {
        let scaled = (value * 10).rounded() / 10
        return "\(scaled)"
    }
}
