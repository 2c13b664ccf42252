import SecIRCCore
import SecIRCNode

/// What a run counted as it went.
struct SimulationStats {
    /// When each workload message was queued, by number (its text is `#<number>`).
    var sent: [UnixTime] = []
    /// When each arrived at its recipient (first time).
    var delivered: [Int: UnixTime] = [:]
    /// Arrivals of a message already shown once.
    var duplicated = 0
    var datagrams = 0
    var httpExchanges = 0
    var networkDrops: [String: Int] = [:]
    var setupFailures = 0
    var queueFailures = 0
    var clientsDone = 0
    var crashes: [(relay: Int, at: UnixTime)] = []
    var finished = UnixTime(nanoseconds: 0)
    var clients = 0

    var allSendsDone: Bool { clientsDone >= clients }

    mutating func dropNetwork(_ reason: String) { networkDrops[reason, default: 0] += 1 }

    mutating func arrived(_ text: String, at time: UnixTime) {
        guard text.hasPrefix("#"), let number = Int(text.dropFirst()), number < sent.count else { return }
        if delivered[number] == nil { delivered[number] = time } else { duplicated += 1 }
    }
}

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
        lines.append(("relays", "\(o.relays)"))
        lines.append(("clients", "\(o.clients)"))
        lines.append(("duration_s", "\(o.duration.components.seconds)"))
        lines.append(("seed", o.seed))
        lines.append(("cover", o.cover.rawValue))
        lines.append(("sent", "\(stats.sent.count)"))
        lines.append(("delivered", "\(stats.delivered.count)"))
        lines.append(("lost", "\(stats.sent.count - stats.delivered.count)"))
        lines.append(("duplicated", "\(stats.duplicated)"))
        let latencies = stats.delivered.map { number, at in Double(at.nanoseconds - stats.sent[number].nanoseconds) / 1e6 }.sorted()
        func percentile(_ p: Double) -> Double {
            latencies.isEmpty ? 0 : latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))]
        }
        lines.append(("latency_p50_ms", format(percentile(0.5))))
        lines.append(("latency_p99_ms", format(percentile(0.99))))
        lines.append(("latency_max_ms", format(latencies.last ?? 0)))
        let onion = clients.reduce(0) { $0 + $1.status.packetsSent }
        let cover = clients.reduce(0) { $0 + $1.status.coverPacketsSent }
        let messages = max(stats.sent.count, 1)
        lines.append(("packets_per_message", format(Double(onion - cover) / Double(messages))))
        lines.append(("cover_packets", "\(cover)"))
        lines.append(("datagrams", "\(stats.datagrams)"))
        lines.append(("datagrams_per_message", format(Double(stats.datagrams) / Double(messages))))
        lines.append(("http_exchanges", "\(stats.httpExchanges)"))
        let relayTotals = (crashedCounters + relays.map(\.counters)).reduce(into: (fetches: 0, handshakes: 0, peels: 0)) {
            $0.fetches += $1.fetches
            $0.handshakes += $1.handshakes
            $0.peels += $1.forwarded + $1.delivered + $1.coverDropped
        }
        lines.append(("mailbox_fetches", "\(relayTotals.fetches)"))
        lines.append(("link_handshakes", "\(relayTotals.handshakes)"))
        lines.append(("sphinx_peels", "\(relayTotals.peels)"))
        lines.append(("crashes", stats.crashes.map { "relay\($0.relay)@\(($0.at.nanoseconds - workloadStart.nanoseconds) / 1_000_000_000)s" }
            .joined(separator: ",").nonEmpty ?? "none"))
        lines.append(("virtual_end_s", "\((stats.finished.nanoseconds - workloadStart.nanoseconds) / 1_000_000_000)"))
        if stats.setupFailures > 0 { lines.append(("contact_setup_failures", "\(stats.setupFailures)")) }
        if stats.queueFailures > 0 { lines.append(("queue_failures", "\(stats.queueFailures)")) }
        for (reason, count) in drops().sorted(by: { $0.key < $1.key }) where count > 0 {
            lines.append(("drop", "\(reason) \(count)"))
        }
        return SimulationReport(lines: lines)
    }

    /// Every drop of the run, `where.reason`: the network model's, each relay's by layer (the
    /// counts of crashed incarnations included) and each client's.
    private func drops() -> [String: Int] {
        var all: [String: Int] = [:]
        for (reason, count) in stats.networkDrops { all["network.\(reason)", default: 0] += count }
        for counters in crashedCounters + relays.map(\.counters) {
            for (reason, count) in counters.linkDrops { all["relay.link.\(reason.rawValue)", default: 0] += count }
            for (reason, count) in counters.sphinxRejects { all["relay.sphinx.\(reason.rawValue)", default: 0] += count }
            for (reason, count) in counters.mailboxDrops { all["relay.mailbox.\(reason.rawValue)", default: 0] += count }
            for (reason, count) in counters.relayDrops { all["relay.\(reason.rawValue)", default: 0] += count }
        }
        for client in clients {
            for (reason, count) in client.status.dropped { all["client.\(reason)", default: 0] += count }
        }
        return all
    }

    private func format(_ value: Double) -> String {
        let scaled = (value * 10).rounded() / 10
        return "\(scaled)"
    }
}

extension String {
    var nonEmpty: String? { isEmpty ? nil : self }
}
