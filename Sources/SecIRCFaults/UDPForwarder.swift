import Foundation
import SecIRCCore
import SecIRCCrypto
import SecIRCLock
public import SecIRCNode
public import SecIRCTransport

/// A fault-injecting UDP forwarder: what arrives at `listen` from any source goes to `target`,
/// and what the target answers goes back to that source, each datagram through one
/// ``DelayLine`` (delay, jitter and so reordering, loss, duplication).
///
/// Like a NAT, it gives each source a session: an upstream socket of its own, so the target
/// sees each source as a port of this host and its answers find their way back. Sessions
/// unused for `idleTimeout` are closed.
///
/// Threads: ``run(reportEvery:report:)`` owns the listening socket and sends whatever falls
/// due; each session has a thread that only receives from its upstream socket. They share the
/// delay line, the session table and the generator behind one lock. ``stop()`` ends the run
/// from any thread.
public final class UDPForwarder: Sendable {
    /// A datagram on its way out.
    private struct Outgoing: Sendable {
        var bytes: [UInt8]
        var via: UDPTransport
        var to: SocketAddress
    }

    private struct State: Sendable {
        var line: DelayLine<Outgoing>
        var sessions: SessionTable<UDPTransport>
        var rng: SeededRandom
        var refusedSessions = 0
        var strays = 0
        var sendFailures = 0
    }

    public let listenAddress: SocketAddress
    public let target: SocketAddress
    private let listen: UDPTransport
    private let clock: any NodeClock
    private let state: Locked<State>
    /// The largest datagram forwarded whole.
    private static let slotBytes = 65_536

    /// Binds `listen` (port 0: an ephemeral port, see ``listenAddress``). `seed` makes the
    /// faults repeatable for the same arrivals.
    public init(listen: SocketAddress, target: SocketAddress, profile: FaultProfile, seed: String,
                idleTimeout: Duration = .seconds(300), maxSessions: Int = 1024,
                clock: any NodeClock) throws(TransportError) {
        self.listen = try UDPTransport(bind: listen)
        listenAddress = self.listen.localAddress
        self.target = target
        self.clock = clock
        state = Locked(State(line: DelayLine(profile: profile),
                            sessions: SessionTable(idleTimeout: idleTimeout, capacity: maxSessions),
                            rng: SeededRandom(seed: seed)))
    }

    /// What it has done so far.
    public var report: ForwarderReport {
        state.withLock { state in
            ForwarderReport(counters: state.line.counters, waiting: state.line.count, sessions: state.sessions.count,
                            refusedSessions: state.refusedSessions, strays: state.strays, sendFailures: state.sendFailures)
        }
    }

    /// Ends ``run(reportEvery:report:)``; datagrams still waiting are dropped.
    public func stop() {
        listen.close()
    }

    /// Forwards until ``stop()``, then closes every session. Calls `report` on this thread
    /// every `reportEvery` (nil: never).
    public func run(reportEvery: Duration? = nil, report: (ForwarderReport) -> Void = { _ in }) {
        let batch = DatagramBatch(capacity: 16, maxDatagramSize: Self.slotBytes)
        var nextReport = reportEvery.map { clock.now().adding($0) }
        var nextSweep = clock.now()
        while true {
            let now = clock.now()
            send(state.withLock { $0.line.takeDue(now: now) })
            if now >= nextSweep {
                nextSweep = now.adding(.seconds(1))
                closeSessions(state.withLock { $0.sessions.removeIdle(now: now) })
            }
            if let due = nextReport, let every = reportEvery, now >= due {
                nextReport = now.adding(every)
                report(self.report)
            }
            var wait = Duration.seconds(1)
            if let due = state.withLock({ $0.line.nextDue }) { wait = min(wait, max(.zero, due.duration(since: now))) }
            if let due = nextReport { wait = min(wait, max(.zero, due.duration(since: now))) }
            let received: Int
            do { received = try listen.receive(into: batch, timeout: wait) } catch { break }
            let arrived = clock.now()
            for index in 0..<received {
                let source = batch.address(index)
                let bytes = batch.withDatagram(index) { Array($0) }
                guard let session = session(for: source, now: arrived) else { continue }
                state.withLock { state in
                    _ = state.line.offer(Outgoing(bytes: bytes, via: session.session, to: target), flow: session.flow,
                                         now: arrived, rng: &state.rng)
                }
            }
        }
        closeSessions(state.withLock { $0.sessions.removeAll() })
    }

    private func send(_ due: [Outgoing]) {
        var failures = 0
        for datagram in due {
            do { try datagram.via.send(datagram.bytes, to: datagram.to) } catch { failures += 1 }
        }
        if failures > 0 { state.withLock { $0.sendFailures += failures } }
    }

    /// The session of `source`, opened (socket and thread) when it has none; nil when it cannot
    /// have one.
    private func session(for source: SocketAddress, now: UnixTime) -> SessionTable<UDPTransport>.Entry? {
        if let entry = state.withLock({ $0.sessions.use(source, now: now) }) { return entry }
        let upstream: UDPTransport
        do {
            let any = try SocketAddress(numeric: target.description.hasPrefix("[") ? "[::]:0" : "0.0.0.0:0")
            upstream = try UDPTransport(bind: any, receiveBufferBytes: 1 << 20, sendBufferBytes: 1 << 20)
        } catch {
            state.withLock { $0.refusedSessions += 1 }
            return nil
        }
        guard let entry = state.withLock({ $0.sessions.add(upstream, for: source, now: now) }) else {
            upstream.close()
            state.withLock { $0.refusedSessions += 1 }
            return nil
        }
        let thread = Thread { [self] in self.receiveAnswers(entry) }
        thread.name = "forward \(source)"
        thread.start()
        return entry
    }

    /// A session's thread: what the target sends to the session's socket goes back to its
    /// source through the delay line. Ends when the socket is closed.
    private func receiveAnswers(_ entry: SessionTable<UDPTransport>.Entry) {
        let batch = DatagramBatch(capacity: 16, maxDatagramSize: Self.slotBytes)
        while true {
            let received: Int
            do { received = try entry.session.receive(into: batch, timeout: nil) } catch { return }
            let now = clock.now()
            state.withLock { state in
                for index in 0..<received {
                    guard batch.address(index) == target else {
                        state.strays += 1
                        continue
                    }
                    let bytes = batch.withDatagram(index) { Array($0) }
                    _ = state.sessions.use(entry.source, now: now)
                    _ = state.line.offer(Outgoing(bytes: bytes, via: listen, to: entry.source), flow: entry.flow + 1,
                                         now: now, rng: &state.rng)
                }
            }
            listen.wake()
        }
    }

    private func closeSessions(_ entries: [SessionTable<UDPTransport>.Entry]) {
        guard !entries.isEmpty else { return }
        state.withLock { state in
            for entry in entries {
                state.line.forget(flow: entry.flow)
                state.line.forget(flow: entry.flow + 1)
            }
        }
        for entry in entries { entry.session.close() }
    }
}
