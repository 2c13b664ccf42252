import Dispatch
import SecIRCCore
import SecIRCCrypto
import SecIRCNode
import SecIRCTransport
import Synchronization

/// A whole secIRC network in one process on virtual time: the real relay and client engines
/// (`SecIRCNode`), with real cryptography and the in-memory messenger store, exchanging
/// datagrams over a modelled network (latency, jitter, loss, duplication, reordering,
/// partitions) and HTTP exchanges answered by the relays they name; relays crash and restart
/// on schedule. Deterministic: the same options (seed included) give the same run, event for
/// event, on any number of threads (given deterministic hashing: `secirc-sim` sees to it).
///
/// Time advances in windows as long as the network's latency (a conservative parallel
/// discrete-event simulation): nothing a node does in a window can reach another node before
/// the window ends, so within a window every node runs on its own — on several threads — and
/// what they send is merged afterwards in a fixed order (time, sender, order of sending).
/// Global happenings (clients adding each other, crashes, restarts) fall between windows.
///
/// Timeline: relays start at 0 (relay 0 is the first ring, the others join through it);
/// clients at 30 s; at 40 s each client adds `contacts` others from their invites; the
/// workload (and the clock of crash and partition times) starts at 60 s and lasts `duration`;
/// then the network runs until every message arrived or `drain` has passed.
public final class Simulation {
    public let options: SimulationOptions
    let start = UnixTime(seconds: 1_800_000_000)
    var now: UnixTime
    let context: SimContext
    /// Events between nodes, in time order.
    var agenda = TimedHeap<SimEvent>()
    /// Global events (between windows), in time order.
    var globals = TimedHeap<SimEvent>()
    /// When each node wants to run next (stale entries are skipped).
    var wakes = TimedHeap<Int>()
    var relayConfigurations: [RelayEngine.Configuration] = []
    var relayCount: Int { options.relays }
    var finished = UnixTime(nanoseconds: 0)
    var crashes: [(relay: Int, at: UnixTime)] = []
    var setupFailures = 0
    /// Messages queued and messages arrived so far (to know when everything is delivered).
    var sentTotal = 0
    var deliveredTotal = 0
    /// The group workload: the epoch each client joined in (from its invitation) or was removed
    /// into, and how many changes were made.
    var groupJoinEpoch: [Int: UInt32] = [:]
    var groupRemovedEpoch: [Int: UInt32] = [:]
    var groupRemovalsDone = 0
    var groupLeavesDone = 0
    var groupJoinsDone = 0
    let threads: Int
    private let pool: WorkerPool
    /// Called every `progressEvery` of virtual time with the virtual time reached (not part of
    /// the report: a long run's operator watches it on standard error).
    public var progress: ((Duration) -> Void)?
    public var progressEvery: Duration = .seconds(10)

    var nodes: [SimNode] { context.nodes }
    var workloadStart: UnixTime { context.workloadStart }
    var workloadEnd: UnixTime { context.workloadEnd }

    public init(options: SimulationOptions) {
        var options = options
        // Windows are one latency long: nothing may cross the network in no time.
        options.latency = max(options.latency, .microseconds(1))
        self.options = options
        now = start
        context = SimContext(options: options, workloadStart: start.adding(.seconds(60)))
        threads = max(1, min(options.threads, 16))
        pool = WorkerPool(threads: threads)
    }

    deinit { pool.stop() }

    /// Runs the whole simulation and reports what happened.
    public func run() -> SimulationReport {
        setUpRelays()
        setUpClients()
        globals.insert(.contacts, at: start.adding(.seconds(40)))
        if options.groupSize > 0 {
            globals.insert(.groupContacts, at: start.adding(.seconds(41)))
            globals.insert(.groupCreate, at: workloadStart)
        }
        for crash in options.crashes { globals.insert(.crash(crash), at: workloadStart.adding(crash.at)) }
        for (index, change) in options.rosterChanges.enumerated() {
            globals.insert(.proposeChange(index), at: workloadStart.adding(change.at))
        }
        let hardStop = workloadEnd.adding(options.drain)
        let lookahead = max(options.latency, .microseconds(1))
        var nextProgress = start.adding(progressEvery)
        while let first = earliest(), first <= hardStop {
            now = first
            if let progress, now >= nextProgress {
                progress(now.duration(since: start))
                while nextProgress <= now { nextProgress = nextProgress.adding(progressEvery) }
            }
            if now >= workloadEnd, deliveredTotal == sentTotal, nodes.allSatisfy({ $0.nextSend == nil }),
               options.groupSize == 0 || now >= workloadEnd.adding(options.groupDrain) { break }
            if let global = globals.first, global.time <= first {
                _ = globals.popFirst()
                handleGlobal(global.value)
                continue
            }
            var end = min(first.adding(lookahead), hardStop.adding(.nanoseconds(1)))
            if let global = globals.earliest { end = min(end, global) }
            runWindow(until: end)
        }
        finished = now
        return report()
    }

    /// The earliest thing to do: an event, a global event, or a node's wake-up.
    private func earliest() -> UnixTime? {
        while let (time, node) = wakes.first, nodes[node].scheduledWake != time { _ = wakes.popFirst() }
        return [agenda.earliest, wakes.earliest, globals.earliest].compactMap { $0 }.min()
    }

    /// Every node with something to do before `end` runs — in parallel — then what they sent
    /// is merged into the agenda in a fixed order.
    private func runWindow(until end: UnixTime) {
        var active: Set<Int> = []
        while let entry = agenda.first, entry.time < end {
            _ = agenda.popFirst()
            guard let target = entry.value.target else { continue }
            nodes[target].inbox.append((entry.time, entry.value))
            active.insert(target)
        }
        while let (time, node) = wakes.first, time < end {
            _ = wakes.popFirst()
            if nodes[node].scheduledWake == time {
                nodes[node].scheduledWake = nil
                active.insert(node)
            }
        }
        let ordered = active.sorted()
        let context = self.context
        if threads == 1 || ordered.count < 2 {
            for index in ordered { context.nodes[index].run(until: end, context: context) }
        } else {
            // Nodes are handed out one at a time to whichever worker is free: a few relays carry
            // most of the work of a window.
            pool.run(count: ordered.count) { position in context.nodes[ordered[position]].run(until: end, context: context) }
        }
        collect(from: ordered)
    }

    /// Merges what `active` nodes sent into the agenda — by time, then sender, then the order it
    /// was sent in — and puts their next wake-ups in the wake heap.
    func collect(from active: [Int]) {
        var merged: [(time: UnixTime, node: Int, order: Int, event: SimEvent)] = []
        for index in active {
            let node = nodes[index]
            for (order, entry) in node.outbox.enumerated() { merged.append((entry.time, index, order, entry.event)) }
            node.outbox.removeAll(keepingCapacity: true)
            sentTotal += node.sent.count - node.countedSent
            node.countedSent = node.sent.count
            deliveredTotal += node.arrivals.count - node.countedArrivals
            node.countedArrivals = node.arrivals.count
            scheduleWake(index)
        }
        merged.sort { ($0.time, $0.node, $0.order) < ($1.time, $1.node, $1.order) }
        for entry in merged { agenda.insert(entry.event, at: entry.time) }
    }

    func scheduleWake(_ index: Int) {
        let node = nodes[index]
        guard let wake = node.wake, node.scheduledWake.map({ wake < $0 }) ?? true else { return }
        node.scheduledWake = wake
        wakes.insert(index, at: wake)
    }

    private func handleGlobal(_ event: SimEvent) {
        switch event {
        case .contacts: addContacts()
        case let .crash(crash): crashRelay(crash)
        case let .restart(relay): restartRelay(relay)
        case let .proposeChange(index): proposeChange(options.rosterChanges[index])
        case let .approveProposal(id): approveProposal(id)
        case .groupContacts: addGroupContacts()
        case .groupCreate: createGroup()
        case let .groupChange(index): changeGroup(index)
        case .datagram, .http, .fetched: break
        }
    }
}
