import Foundation
public import SecIRCCore
public import SecIRCCrypto
import SecIRCLock
public import SecIRCNode
public import SecIRCTransport
import Synchronization

/// The one small event loop of a daemon: a thread that owns the UDP socket, reads the clock,
/// keeps the engine's timer and carries out its effects — datagrams out in batches, HTTP
/// exchanges handed to the fetcher (their answers come back into the loop), events to the
/// process. Everything the node decides is in the engine (`SecIRCNode`); this file is only I/O.
///
/// Other threads reach the engine only through ``send(_:)`` and ``perform(_:)``, which queue a
/// command and wake the socket's wait; the engine itself is touched by the loop thread alone.
public final class NodeLoop<Engine: NodeEngine>: @unchecked Sendable {
    // @unchecked: `engine`, `random` and the batches are used only by the loop thread once
    // `start()` ran; the inbox and the flags are behind a lock and atomics.

    /// What the loop tells the process, always on the loop thread.
    public struct Hooks: Sendable {
        /// The engine's events, after each turn that had any, before its datagrams and requests go out.
        public var events: @Sendable ([Engine.Event]) -> Void
        /// After every turn, with the engine as it stands (to publish counters and state).
        public var turn: @Sendable (Engine, UnixTime) -> Void

        public init(events: @escaping @Sendable ([Engine.Event]) -> Void = { _ in },
                    turn: @escaping @Sendable (Engine, UnixTime) -> Void = { _, _ in }) {
            self.events = events
            self.turn = turn
        }
    }

    private enum Input {
        case command(Engine.Command, ReplyBox?)
        case fetched(FetchResponse)
    }

    /// Where a ``perform(_:)`` caller waits for its reply.
    private final class ReplyBox: Sendable {
        let reply = Locked<Engine.Reply?>(nil)
        let done = DispatchSemaphore(value: 0)
    }

    private var engine: Engine
    private var random: AnyRandomSource
    private let transport: any DatagramTransport
    private let clock: any NodeClock
    private let fetcher: any HTTPFetching
    private let hooks: Hooks
    private let inbound: DatagramBatch
    private let outbound: DatagramBatch
    private let inbox = Locked<(items: [Input], closed: Bool)>(([], false))
    private let stopping = Atomic<Bool>(false)
    private let finished = DispatchSemaphore(value: 0)
    private let sendFailures = Atomic<Int>(0)

    /// - Parameters:
    ///   - random: the randomness the engine draws (the daemons give `SystemRandom`).
    ///   - batchSize: datagrams received and sent per system call.
    public init(engine: Engine, transport: any DatagramTransport, clock: any NodeClock, random: any RandomSource,
                fetcher: any HTTPFetching = HTTPFetcher(), hooks: Hooks = Hooks(), batchSize: Int = 32) {
        self.engine = engine
        self.random = AnyRandomSource(random)
        self.transport = transport
        self.clock = clock
        self.fetcher = fetcher
        self.hooks = hooks
        inbound = DatagramBatch(capacity: batchSize, maxDatagramSize: 2048)
        outbound = DatagramBatch(capacity: batchSize, maxDatagramSize: 2048)
    }

    /// Starts the loop thread (named `name`).
    public func start(name: String) {
        let thread = Thread { [self] in
            run()
            finished.signal()
        }
        thread.name = name
        thread.stackSize = 1 << 20
        thread.start()
    }

    /// Queues a command; the engine takes it within one turn.
    public func send(_ command: Engine.Command) {
        enqueue(.command(command, nil))
    }

    /// Queues a command and waits for the engine's reply: nil once the loop has stopped, or
    /// when `timeout` passes first (the command may still be applied later). Never call it from
    /// the loop thread (a hook).
    public func perform(_ command: Engine.Command, timeout: Duration = .seconds(30)) -> Engine.Reply? {
        let box = ReplyBox()
        guard enqueue(.command(command, box)) else { return nil }
        let (seconds, attoseconds) = timeout.components
        let nanoseconds = Int(clamping: seconds) &* 1_000_000_000 &+ Int(attoseconds / 1_000_000_000)
        guard box.done.wait(timeout: .now() + .nanoseconds(max(nanoseconds, 0))) == .success else { return nil }
        return box.reply.withLock { $0 }
    }

    /// Ends the loop after its current turn; ``waitUntilStopped()`` returns once it has.
    public func stop() {
        stopping.store(true, ordering: .releasing)
        transport.wake()
    }

    /// Blocks until the loop thread has ended.
    public func waitUntilStopped() {
        finished.wait()
        finished.signal() // later callers return at once too
    }

    /// Datagrams the socket did not take (buffer full or refused), for metrics.
    public var datagramsNotSent: Int { sendFailures.load(ordering: .relaxed) }

    @discardableResult
    private func enqueue(_ input: Input) -> Bool {
        let accepted = inbox.withLock { inbox -> Bool in
            guard !inbox.closed else { return false }
            inbox.items.append(input)
            return true
        }
        if accepted { transport.wake() }
        return accepted
    }

    // MARK: The loop

    private func run() {
        // The engine lives in this frame while the loop runs: reading a property of a struct
        // stored in a class copies the whole struct first (a retain of each of its buffers).
        var engine = self.engine
        defer { self.engine = engine }
        var effects = NodeEffects<Engine.Event>()
        engine.start(now: clock.now(), rng: &random, effects: &effects)
        carryOut(&effects)
        var lastTurn = clock.now()
        var deadline = engine.nextDeadline
        while !stopping.load(ordering: .acquiring) {
            let wait = Self.wait(until: deadline, now: clock.now())
            let received: Int
            do {
                received = try transport.receive(into: inbound, timeout: wait)
            } catch {
                if case .closed = error { break }
                received = 0 // commands, answers and timers still run; a failing socket is not a hot loop
                usleep(10_000)
            }
            let turn = clock.now()
            for i in 0..<received {
                let bytes = inbound.withDatagram(i) { Array($0) }
                engine.receive(bytes, from: inbound.address(i), now: turn, rng: &random, effects: &effects)
            }
            let (answered, tookInput) = takeInbox(&engine, now: turn, effects: &effects)
            // Only input moves the deadline between turns; a timer turn reuses it.
            if received > 0 || tookInput { deadline = engine.nextDeadline }
            // A wall clock that stepped back would leave every timer set from the old time waiting
            // for the whole step (no cover traffic, no polls): the engine's tick pulls them back.
            let steppedBack = turn < lastTurn
            lastTurn = turn
            if steppedBack || deadline.map({ $0 <= turn }) == true {
                engine.tick(now: turn, rng: &random, effects: &effects)
            }
            carryOut(&effects)
            // Replies after the turn's events were carried out: what a command changed is saved
            // (e.g. the admission lists) before its caller hears back.
            for box in answered { box.done.signal() }
            hooks.turn(engine, turn)
            deadline = engine.nextDeadline
        }
        // Whoever still waits for a reply gets none.
        let left = inbox.withLock { inbox -> [Input] in
            inbox.closed = true
            defer { inbox.items.removeAll() }
            return inbox.items
        }
        for case let .command(_, box?) in left { box.done.signal() }
    }

    /// How long a turn waits for datagrams: exactly until the engine's next timer, or — with
    /// none — until a datagram, a command, an answer or a stop wakes it (nil). No periodic
    /// wake-up: an idle daemon sleeps. A wake is never lost (``DatagramTransport/wake()`` ends
    /// the next wait when none is in progress), so a stop needs no polling either.
    static func wait(until deadline: UnixTime?, now: UnixTime) -> Duration? {
        deadline.map { max(.zero, $0.duration(since: now)) }
    }

    /// Runs the commands and answers that came in; returns the reply boxes to signal once the
    /// turn's effects are carried out, and whether there was any.
    private func takeInbox(_ engine: inout Engine, now: UnixTime,
                           effects: inout NodeEffects<Engine.Event>) -> (answered: [ReplyBox], tookInput: Bool) {
        let items = inbox.withLock { inbox -> [Input] in
            defer { inbox.items.removeAll() }
            return inbox.items
        }
        guard !items.isEmpty else { return ([], false) }
        var answered: [ReplyBox] = []
        for item in items {
            switch item {
            case let .command(command, box):
                let reply = engine.handle(command, now: now, rng: &random, effects: &effects)
                if let box {
                    box.reply.withLock { $0 = reply }
                    answered.append(box)
                }
            case let .fetched(response):
                engine.fetched(response, now: now, rng: &random, effects: &effects)
            }
        }
        return (answered, true)
    }

    /// Events go first: what the process must write before anything can make it known (a
    /// relay's saved onion keys before the descriptor that publishes them is uploaded, the first
    /// ring's signed directory before it is served) is written before any datagram or request
    /// of the same turn leaves.
    private func carryOut(_ effects: inout NodeEffects<Engine.Event>) {
        if !effects.events.isEmpty { hooks.events(effects.events) }
        for datagram in effects.datagrams {
            if outbound.count == outbound.capacity { flush() }
            outbound.append(datagram.bytes, to: datagram.address)
        }
        flush()
        for request in effects.fetches {
            fetcher.fetch(request) { [weak self] response in self?.enqueue(.fetched(response)) }
        }
        effects.removeAll()
    }

    private func flush() {
        guard outbound.count > 0 else { return }
        let total = outbound.count
        let sent = (try? transport.send(outbound)) ?? 0
        if sent < total { sendFailures.add(total - sent, ordering: .relaxed) }
        outbound.removeAll()
    }
}
