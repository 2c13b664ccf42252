import Foundation
import SecIRCLock
import SecIRCTransport
import Testing

/// Which transport a behavioural test runs over; each such test runs over both.
enum Kind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case udp
    case memory

    var testDescription: String { rawValue }
}

/// Two endpoints `a` and `b` of one kind that can reach each other, and the losses counted
/// between them: at `b`'s socket and `a`'s sends for UDP, on the network for the twin.
struct Link: Sendable {
    let a: any DatagramTransport
    let b: any DatagramTransport
    let losses: @Sendable () -> Int

    /// `smallQueue`: `b` queues only a few datagrams (the smallest kernel buffer, or 8 in memory).
    init(_ kind: Kind, smallQueue: Bool = false) throws {
        let loopback = try SocketAddress(host: "127.0.0.1", port: 0)
        switch kind {
        case .udp:
            let a = try UDPTransport(bind: loopback)
            let b = try UDPTransport(bind: loopback, receiveBufferBytes: smallQueue ? 1 : 4 << 20)
            self.a = a
            self.b = b
            losses = {
                let received = b.counters
                let sent = a.counters
                return received.receiveBufferDrops + received.truncated + sent.sendRefused + sent.sendBufferFull
            }
        case .memory:
            let network = InMemoryNetwork(queueCapacity: smallQueue ? 8 : 4096)
            a = try network.bind(loopback)
            b = try network.bind(loopback)
            losses = { network.dropped }
        }
    }

    func close() {
        a.close()
        b.close()
    }
}

/// One transport of `kind` on 127.0.0.1 (a fresh network for the twin).
func makeTransport(_ kind: Kind) throws -> any DatagramTransport {
    let loopback = try SocketAddress(host: "127.0.0.1", port: 0)
    switch kind {
    case .udp: return try UDPTransport(bind: loopback)
    case .memory: return try InMemoryNetwork().bind(loopback)
    }
}

/// A received datagram, copied out of its batch.
struct Received: Equatable {
    var bytes: [UInt8]
    var from: SocketAddress
}

/// Receives until `count` datagrams have arrived or a receive waits `patience` for nothing.
func receive(
    _ count: Int, on transport: any DatagramTransport, batch: DatagramBatch = DatagramBatch(),
    patience: Duration = .seconds(5)
) throws -> [Received] {
    var out: [Received] = []
    while out.count < count {
        let n = try transport.receive(into: batch, timeout: patience)
        if n == 0 { break }
        for slot in 0..<n {
            out.append(Received(bytes: batch.withDatagram(slot) { [UInt8]($0) }, from: batch.address(slot)))
        }
    }
    return out
}

/// Whether the kernel can bind a UDP socket on `::1`.
let ipv6LoopbackAvailable: Bool = {
    guard let address = try? SocketAddress(host: "::1", port: 0),
          let transport = try? UDPTransport(bind: address)
    else { return false }
    transport.close()
    return true
}()

/// A result that one side sets once and the other awaits, with a deadline.
final class Gate<Value: Sendable>: Sendable {
    private struct State {
        var value: Value??
        var waiter: CheckedContinuation<Value?, Never>?
    }

    private let state = Locked(State())

    /// Sets the value (nil: gave up); only the first call counts.
    func open(_ value: Value?) {
        let waiter = state.withLock { state -> CheckedContinuation<Value?, Never>? in
            guard state.value == nil else { return nil }
            state.value = .some(value)
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: value)
    }

    /// The value, or nil if `limit` passes first. (The timer is the deadline, not a way to wait.)
    func value(within limit: Duration) async -> Value? {
        let timer = Task { [self] in
            try? await Task.sleep(for: limit)
            open(nil)
        }
        defer { timer.cancel() }
        return await withCheckedContinuation { continuation in
            let ready = state.withLock { state -> Value?? in
                if let value = state.value { return .some(value) }
                state.waiter = continuation
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }
}

/// Runs `body` on a new thread (not the test's cooperative pool, since it blocks).
func onThread<Value: Sendable>(_ body: @escaping @Sendable () -> Value) -> Gate<Value> {
    let gate = Gate<Value>()
    Thread { gate.open(body()) }.start()
    return gate
}

/// A seeded generator, so random tests repeat.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
