import Foundation
import SecIRCCore
import SecIRCCrypto
import SecIRCLock
import SecIRCNode
import SecIRCRuntime
import SecIRCTransport
import Synchronization
import Testing

/// The one event loop, over the in-memory network with a manual clock and a scripted engine:
/// datagrams in and out, commands with replies, HTTP fetches answered back into the engine,
/// timers, events, and a clean stop.
@Suite struct NodeLoopTests {
    /// Echoes datagrams, counts what it was given, asks for a fetch on command, wants a timer at
    /// a fixed instant.
    struct EchoEngine: NodeEngine {
        enum Command: Sendable { case count, fetch(String), setTimer(UnixTime), stall(milliseconds: UInt32) }
        typealias Reply = Int
        /// `tickedEarly`: a tick before the timer was due (what an engine does to pull timers back).
        enum Event: Sendable, Equatable { case started, ticked(UnixTime), tickedEarly(UnixTime), fetched(Int?) }

        var received = 0
        var commands = 0
        var timer: UnixTime?

        mutating func start(now: UnixTime, rng: inout some RandomSource, effects: inout NodeEffects<Event>) {
            effects.events.append(.started)
        }

        mutating func receive(_ bytes: [UInt8], from address: SocketAddress, now: UnixTime, rng: inout some RandomSource,
                              effects: inout NodeEffects<Event>) {
            received += 1
            effects.datagrams.append(Datagram(bytes.reversed(), to: address))
        }

        mutating func fetched(_ response: FetchResponse, now: UnixTime, rng: inout some RandomSource,
                              effects: inout NodeEffects<Event>) {
            effects.events.append(.fetched(response.status))
        }

        mutating func handle(_ command: Command, now: UnixTime, rng: inout some RandomSource,
                             effects: inout NodeEffects<Event>) -> Int {
            commands += 1
            switch command {
            case .count: break
            case let .fetch(url): effects.fetches.append(FetchRequest(id: UInt64(commands), method: .get, url: url))
            case let .setTimer(at): timer = at
            case let .stall(milliseconds): usleep(milliseconds * 1000) // a loop that is busy for a while
            }
            return commands
        }

        mutating func tick(now: UnixTime, rng: inout some RandomSource, effects: inout NodeEffects<Event>) {
            guard let timer else { return }
            guard timer <= now else { return effects.events.append(.tickedEarly(now)) }
            self.timer = nil
            effects.events.append(.ticked(now))
        }

        var nextDeadline: UnixTime? { timer }
    }

    /// Answers every fetch with 204, or no status for URLs containing "down".
    struct FakeFetcher: HTTPFetching {
        func fetch(_ request: FetchRequest, completion: @escaping @Sendable (FetchResponse) -> Void) {
            let status: Int? = request.url.contains("down") ? nil : 204
            DispatchQueue.global().async { completion(FetchResponse(id: request.id, status: status)) }
        }
    }

    final class Recorder: Sendable {
        let events = Locked<[EchoEngine.Event]>([])
        let turns = Atomic<Int>(0)

        func wait(for event: EchoEngine.Event) -> Bool {
            let deadline = ContinuousClock.now.advanced(by: .seconds(10))
            while ContinuousClock.now < deadline {
                if events.withLock({ $0.contains(event) }) { return true }
                usleep(1_000)
            }
            return false
        }
    }

    /// A transport that records the timeout of every wait the loop asks for.
    final class RecordingTransport: DatagramTransport {
        let inner: InMemoryTransport
        let waits = Locked<[Duration?]>([])

        init(_ inner: InMemoryTransport) { self.inner = inner }

        var localAddress: SocketAddress { inner.localAddress }
        func receive(into batch: DatagramBatch, timeout: Duration?) throws(TransportError) -> Int {
            waits.withLock { $0.append(timeout) }
            return try inner.receive(into: batch, timeout: timeout)
        }
        func send(_ batch: DatagramBatch) throws(TransportError) -> Int { try inner.send(batch) }
        func send(_ bytes: [UInt8], to address: SocketAddress) throws(TransportError) { try inner.send(bytes, to: address) }
        func wake() { inner.wake() }
        func close() { inner.close() }

        /// Waits (at most 10 s) until the loop is in a wait whose timeout is `timeout`.
        func waiting(_ timeout: Duration?) -> Bool {
            let deadline = ContinuousClock.now.advanced(by: .seconds(10))
            while ContinuousClock.now < deadline {
                if waits.withLock({ $0.last.map { $0 == timeout } ?? false }) { return true }
                usleep(1_000)
            }
            return false
        }
    }

    @Test("the loop waits exactly until the engine's next timer, and with none until something wakes it")
    func waitsForTheNextTimerOnly() throws {
        let network = InMemoryNetwork()
        let transport = RecordingTransport(try network.bind(SocketAddress(host: "10.9.0.1", port: 6690)))
        let clock = ManualClock(UnixTime(seconds: 1_000))
        let recorder = Recorder()
        let loop = NodeLoop(engine: EchoEngine(), transport: transport, clock: clock, random: SeededRandom(seed: "wait"),
                            fetcher: FakeFetcher(),
                            hooks: NodeLoop<EchoEngine>.Hooks(events: { list in recorder.events.withLock { $0 += list } }))
        loop.start(name: "test-loop-wait")
        #expect(transport.waiting(nil), "no timer: no timeout, no periodic wake-up")

        #expect(loop.perform(.setTimer(UnixTime(seconds: 1_002).adding(.milliseconds(500)))) == 1)
        #expect(transport.waiting(.milliseconds(2_500)), "a timer: exactly until it is due")

        clock.advance(by: .milliseconds(2_500))
        loop.send(.count)
        #expect(recorder.wait(for: .ticked(UnixTime(seconds: 1_002).adding(.milliseconds(500)))))
        #expect(transport.waiting(nil), "the timer ran: no timeout again")
        #expect(!transport.waits.withLock { $0 }.contains(.zero), "never a busy wait")

        loop.stop()
        loop.waitUntilStopped()
        transport.close()
    }

    @Test("a wall clock stepped back makes the loop tick at once (the engine pulls its timers back)")
    func aClockSteppedBackTicksAtOnce() throws {
        let network = InMemoryNetwork()
        let transport = try network.bind(SocketAddress(host: "10.9.0.1", port: 6690))
        let clock = ManualClock(UnixTime(seconds: 1_000))
        let recorder = Recorder()
        let loop = NodeLoop(engine: EchoEngine(), transport: transport, clock: clock, random: SeededRandom(seed: "step"),
                            fetcher: FakeFetcher(),
                            hooks: NodeLoop<EchoEngine>.Hooks(events: { list in recorder.events.withLock { $0 += list } }))
        loop.start(name: "test-loop-step")
        #expect(loop.perform(.setTimer(UnixTime(seconds: 1_005))) == 1)
        clock.step(to: UnixTime(seconds: 400))
        loop.send(.count)
        #expect(recorder.wait(for: .tickedEarly(UnixTime(seconds: 400))), "not only once 1,005 comes again")
        loop.stop()
        loop.waitUntilStopped()
        transport.close()
    }

    @Test func datagramsCommandsFetchesTimersAndStop() throws {
        let network = InMemoryNetwork()
        let transport = try network.bind(SocketAddress(host: "10.9.0.1", port: 6690))
        let peer = try network.bind(SocketAddress(host: "10.9.0.2", port: 5000))
        let clock = ManualClock(UnixTime(seconds: 1_000))
        let recorder = Recorder()
        let loop = NodeLoop(engine: EchoEngine(), transport: transport, clock: clock, random: SeededRandom(seed: "loop"),
                            fetcher: FakeFetcher(),
                            hooks: NodeLoop<EchoEngine>.Hooks(events: { list in recorder.events.withLock { $0 += list } },
                                                              turn: { _, _ in recorder.turns.add(1, ordering: .relaxed) }))
        loop.start(name: "test-loop")
        #expect(recorder.wait(for: .started))

        // A datagram in, its echo out.
        try peer.send([1, 2, 3], to: transport.localAddress)
        let batch = DatagramBatch(capacity: 4)
        #expect(try peer.receive(into: batch, timeout: .seconds(10)) == 1)
        #expect(batch.withDatagram(0) { Array($0) } == [3, 2, 1])

        // Commands are answered in order, from another thread.
        #expect(loop.perform(.count) == 1)
        #expect(loop.perform(.count) == 2)

        // A fetch goes out and its answer comes back into the engine; a failed one has no status.
        #expect(loop.perform(.fetch("http://relay/v1/directory")) == 3)
        #expect(recorder.wait(for: .fetched(204)))
        #expect(loop.perform(.fetch("http://down/v1/directory")) == 4)
        #expect(recorder.wait(for: .fetched(nil)))

        // A timer fires once the clock reaches it (the loop wakes for the command, sees it due).
        #expect(loop.perform(.setTimer(UnixTime(seconds: 1_005))) == 5)
        clock.advance(by: .seconds(5))
        loop.send(.count)
        #expect(recorder.wait(for: .ticked(UnixTime(seconds: 1_005))))
        #expect(recorder.turns.load(ordering: .relaxed) > 0)

        // A caller waits no longer than its time-out, whatever the loop is doing.
        loop.send(.stall(milliseconds: 300))
        #expect(loop.perform(.count, timeout: .milliseconds(20)) == nil, "the loop is still busy")
        #expect(loop.perform(.count, timeout: .seconds(10)) == 9, "and answers once it is free (the timed-out command ran too)")

        loop.stop()
        loop.waitUntilStopped()
        #expect(loop.perform(.count) == nil, "a stopped loop answers nothing")
        transport.close()
        peer.close()
    }
}
