import Glibc
import SecIRCCore
import SecIRCTransport
import Testing

/// Each behaviour is written once, over `any DatagramTransport`, and runs over real UDP on
/// 127.0.0.1 and over the in-memory twin.
@Suite struct TransportBehaviourTests {
    @Test(arguments: [Kind.udp, .memory])
    func singleDatagramsRoundTripWithTheirBoundaries(kind: Kind) throws {
        let link = try Link(kind)
        defer { link.close() }
        let full = [UInt8](repeating: 0xC3, count: PacketGeometry.standard.datagramSize)
        try link.a.send([1, 2, 3], to: link.b.localAddress)
        try link.a.send([], to: link.b.localAddress)
        try link.a.send(full, to: link.b.localAddress)

        let got = try receive(3, on: link.b)
        #expect(got == [
            Received(bytes: [1, 2, 3], from: link.a.localAddress),
            Received(bytes: [], from: link.a.localAddress),
            Received(bytes: full, from: link.a.localAddress),
        ])

        try link.b.send([9], to: try #require(got.first).from)
        #expect(try receive(1, on: link.a) == [Received(bytes: [9], from: link.b.localAddress)])
    }

    @Test(arguments: [Kind.udp, .memory])
    func aBatchOf32FullDatagramsArrivesInOrderAndCanBeSentOnInPlace(kind: Kind) throws {
        let link = try Link(kind)
        defer { link.close() }
        let size = PacketGeometry.standard.datagramSize
        let outgoing = DatagramBatch(capacity: 32)
        for index in 0..<32 {
            outgoing.append((0..<size).map { UInt8(truncatingIfNeeded: index &* 37 &+ $0) }, to: link.b.localAddress)
        }
        #expect(try link.a.send(outgoing) == 32)

        let incoming = DatagramBatch(capacity: 32)
        var arrived = 0
        while arrived < 32 {
            let n = try link.b.receive(into: incoming, timeout: .seconds(5))
            try #require(n > 0, "timed out after \(arrived) datagrams")
            for slot in 0..<n {
                let index = arrived + slot
                #expect(incoming.length(slot) == size)
                #expect(incoming.address(slot) == link.a.localAddress)
                #expect(incoming.withDatagram(slot) { Array($0) } == (0..<size).map { UInt8(truncatingIfNeeded: index &* 37 &+ $0) })
                // Rewrite in place, as a relay peels a packet, and address it back.
                incoming.withDatagram(slot) { bytes in
                    for offset in bytes.indices { bytes[offset] ^= 0xFF }
                }
                incoming.setLength(slot, size, address: link.a.localAddress)
            }
            #expect(try link.b.send(incoming) == n)
            arrived += n
        }

        let back = try receive(32, on: link.a)
        #expect(back.count == 32)
        for (index, datagram) in back.enumerated() {
            #expect(datagram.from == link.b.localAddress)
            #expect(datagram.bytes == (0..<size).map { ~UInt8(truncatingIfNeeded: index &* 37 &+ $0) })
        }
    }

    @Test(arguments: [Kind.udp, .memory])
    func receiveTimesOutWithZeroAfterTheTimeout(kind: Kind) throws {
        let transport = try makeTransport(kind)
        defer { transport.close() }
        let batch = DatagramBatch()
        let timeout = Duration.milliseconds(150)
        let clock = ContinuousClock()

        let start = clock.now
        let received = try transport.receive(into: batch, timeout: timeout)
        let waited = clock.now - start
        #expect(received == 0)
        #expect(batch.count == 0)
        #expect(waited >= timeout - .milliseconds(2), "returned early, after \(waited)")
        #expect(waited < timeout + .milliseconds(400), "overslept: \(waited)")

        let immediate = clock.now
        #expect(try transport.receive(into: batch, timeout: .zero) == 0)
        #expect(clock.now - immediate < .milliseconds(100))
    }

    @Test(arguments: [Kind.udp, .memory])
    func closeWakesAReceiveBlockedWithoutTimeout(kind: Kind) async throws {
        let transport = try makeTransport(kind)
        let aboutToBlock = Gate<Bool>()
        let outcome = onThread { () -> TransportError? in
            let batch = DatagramBatch()
            aboutToBlock.open(true)
            do throws(TransportError) {
                _ = try transport.receive(into: batch, timeout: nil)
                return nil
            } catch {
                return error
            }
        }
        #expect(await aboutToBlock.value(within: .seconds(5)) == true)
        // If close() wins the race with the thread entering receive, receive must still throw .closed.
        transport.close()
        let woken = await outcome.value(within: .seconds(5))
        #expect(woken == .some(.closed), "receive was not woken by close()")
    }

    @Test(arguments: [Kind.udp, .memory])
    func callsAfterCloseThrowClosed(kind: Kind) throws {
        let link = try Link(kind)
        link.a.close()
        link.a.close()  // idempotent
        let batch = DatagramBatch()
        batch.append([1], to: link.b.localAddress)
        #expect(throws: TransportError.closed) { try link.a.send([1], to: link.b.localAddress) }
        #expect(throws: TransportError.closed) { try link.a.send(batch) }
        #expect(throws: TransportError.closed) { try link.a.receive(into: batch, timeout: .zero) }
        #expect(throws: TransportError.closed) { try link.a.receive(into: batch, timeout: nil) }
        link.b.close()
    }

    @Test(arguments: [Kind.udp, .memory])
    func oversizeDatagramsAreRejectedBeforeAnythingIsSent(kind: Kind) throws {
        let link = try Link(kind)
        defer { link.close() }
        let tooLarge = [UInt8](repeating: 1, count: maxDatagramLength + 1)
        #expect(throws: TransportError.datagramTooLarge(maxDatagramLength + 1)) {
            try link.a.send(tooLarge, to: link.b.localAddress)
        }
        let batch = DatagramBatch(capacity: 2, maxDatagramSize: maxDatagramLength + 1)
        batch.append([7], to: link.b.localAddress)
        batch.append(tooLarge, to: link.b.localAddress)
        #expect(throws: TransportError.datagramTooLarge(maxDatagramLength + 1)) { try link.a.send(batch) }

        let largest = [UInt8](repeating: 2, count: maxDatagramLength)
        try link.a.send(largest, to: link.b.localAddress)
        let got = try receive(1, on: link.b, batch: DatagramBatch(capacity: 4, maxDatagramSize: 1 << 16))
        #expect(got.map(\.bytes) == [largest], "the largest datagram arrives; the rejected batch sent nothing")
    }

    @Test(arguments: [Kind.udp, .memory])
    func aDatagramLongerThanASlotIsDroppedAndCounted(kind: Kind) throws {
        let link = try Link(kind)
        defer { link.close() }
        try link.a.send([UInt8](repeating: 1, count: 1500), to: link.b.localAddress)
        try link.a.send([UInt8](repeating: 2, count: 100), to: link.b.localAddress)
        let got = try receive(1, on: link.b, batch: DatagramBatch(capacity: 4, maxDatagramSize: 1232))
        #expect(got.map(\.bytes) == [[UInt8](repeating: 2, count: 100)])
        #expect(link.losses() == 1)
    }

    @Test(arguments: [Kind.udp, .memory])
    func aFullReceiveQueueDropsAndCounts(kind: Kind) throws {
        let link = try Link(kind, smallQueue: true)
        defer { link.close() }
        let total = 64
        for index in 0..<total {
            try link.a.send([UInt8](repeating: UInt8(index), count: 1000), to: link.b.localAddress)
        }
        var received = 0
        while received + link.losses() < total {
            let got = try receive(1, on: link.b, patience: .seconds(2))
            if got.isEmpty { break }
            received += got.count
        }
        #expect(received > 0)
        #expect(link.losses() > 0, "a small queue must overflow")
        #expect(received + link.losses() == total)
    }

    @Test(arguments: [Kind.udp, .memory])
    func bindingAnAddressInUseFails(kind: Kind) throws {
        let loopback = try SocketAddress(host: "127.0.0.1", port: 0)
        switch kind {
        case .udp:
            let first = try UDPTransport(bind: loopback)
            defer { first.close() }
            #expect(first.localAddress.port != 0)
            #expect(throws: TransportError.self) { try UDPTransport(bind: first.localAddress) }
            do {
                _ = try UDPTransport(bind: first.localAddress)
            } catch let TransportError.system(call, code, _) {
                #expect(call == "bind")
                #expect(code == EADDRINUSE)
            }
        case .memory:
            let network = InMemoryNetwork()
            let first = try network.bind(loopback)
            let second = try network.bind(loopback)
            #expect(first.localAddress.port != 0)
            #expect(first.localAddress != second.localAddress)
            do {
                _ = try network.bind(first.localAddress)
                Issue.record("bound an address in use")
            } catch let TransportError.system(call, code, _) {
                #expect(call == "bind")
                #expect(code == EADDRINUSE)
            }
            first.close()
            #expect(throws: Never.self) { try network.bind(first.localAddress) }
        }
    }

    @Test(arguments: [Kind.udp, .memory])
    func tenThousandRandomDatagramsArriveIntactOrAreCounted(kind: Kind) throws {
        let link = try Link(kind)
        defer { link.close() }
        var random = SplitMix64(state: 0x5EC1_2C00)
        let total = 10_000
        var lengths: [Int] = []
        var seen = [Bool](repeating: false, count: total)
        var handed = 0
        var notHanded = 0
        var received = 0
        var damaged = 0
        let outgoing = DatagramBatch(capacity: 32, maxDatagramSize: 1500)
        let incoming = DatagramBatch(capacity: 64)

        while lengths.count < total {
            outgoing.removeAll()
            while outgoing.count < outgoing.capacity, lengths.count < total {
                let index = lengths.count
                let length = Int.random(in: 0...1500, using: &random)
                lengths.append(length)
                outgoing.withSlot(outgoing.count) { RandomDatagram.write(index: index, into: $0, length: length) }
                outgoing.setLength(outgoing.count, length, address: link.b.localAddress)
                outgoing.count += 1
            }
            let n = try link.a.send(outgoing)
            handed += n
            notHanded += outgoing.count - n

            while received + link.losses() < handed {
                let got = try link.b.receive(into: incoming, timeout: .seconds(2))
                if got == 0 { break }
                for slot in 0..<got {
                    received += 1
                    let intact = incoming.withDatagram(slot) {
                        RandomDatagram.check(UnsafeRawBufferPointer($0), lengths: lengths, seen: &seen)
                    }
                    if !intact || incoming.address(slot) != link.a.localAddress { damaged += 1 }
                }
            }
        }
        #expect(damaged == 0)
        #expect(received > total / 2)
        #expect(received + link.losses() == handed, "every datagram handed over arrives or is counted")
        #expect(handed + notHanded == total)
    }
}

/// Datagrams of any length that the receiver can check: 4 bytes of index, then random bytes
/// from a fixed table at an offset chosen by the index; shorter than 4 bytes, table bytes at an
/// offset chosen by the length.
enum RandomDatagram {
    private static let table: [UInt8] = {
        var random = SplitMix64(state: 0x7AB1E)
        return (0..<2048).map { _ in UInt8.random(in: 0...255, using: &random) }
    }()

    private static func offset(index: Int) -> Int { index % 256 }

    static func write(index: Int, into slot: UnsafeMutableRawBufferPointer, length: Int) {
        table.withUnsafeBytes { table in
            if length < 4 {
                slot.copyMemory(from: UnsafeRawBufferPointer(rebasing: table[(length * 4)..<(length * 5)]))
                return
            }
            slot.storeBytes(of: UInt32(index).littleEndian, toByteOffset: 0, as: UInt32.self)
            let start = offset(index: index)
            UnsafeMutableRawBufferPointer(rebasing: slot[4..<length])
                .copyMemory(from: UnsafeRawBufferPointer(rebasing: table[start..<(start + length - 4)]))
        }
    }

    static func check(_ bytes: UnsafeRawBufferPointer, lengths: [Int], seen: inout [Bool]) -> Bool {
        table.withUnsafeBytes { table in
            if bytes.count < 4 {
                return bytes.elementsEqual(table[(bytes.count * 4)..<(bytes.count * 5)])
            }
            let index = Int(UInt32(littleEndian: bytes.loadUnaligned(as: UInt32.self)))
            guard index < lengths.count, lengths[index] == bytes.count, !seen[index] else { return false }
            seen[index] = true
            let start = offset(index: index)
            return memcmp(bytes.baseAddress! + 4, table.baseAddress! + start, bytes.count - 4) == 0
        }
    }
}

/// `wake()`: how an event loop is handed work from another thread without closing its socket.
@Suite struct TransportWakeTests {
    @Test(arguments: [Kind.udp, .memory])
    func aWakeEndsABlockedReceiveWithNothingAndTheTransportStaysUsable(kind: Kind) async throws {
        let link = try Link(kind)
        defer { link.close() }
        let b = link.b
        let started = ContinuousClock.now
        // On a thread of its own, timed there: the test's tasks may wait for a busy pool.
        let waiter = onThread { () -> (received: Int?, after: Duration) in
            let received = try? b.receive(into: DatagramBatch(capacity: 4), timeout: .seconds(30))
            return (received, ContinuousClock.now - started)
        }
        // Whether the receive is already blocked or not yet called, the wake ends it.
        link.b.wake()
        let outcome = await waiter.value(within: .seconds(60))
        #expect(outcome?.received == 0)
        #expect(outcome.map { $0.after < .seconds(10) } == true)
        try link.a.send([7], to: link.b.localAddress)
        #expect(try receive(1, on: link.b) == [Received(bytes: [7], from: link.a.localAddress)])
    }

    @Test(arguments: [Kind.udp, .memory])
    func wakesBeforeAReceiveEndOneWaitOnly(kind: Kind) throws {
        let link = try Link(kind)
        defer { link.close() }
        link.b.wake()
        link.b.wake()
        let batch = DatagramBatch(capacity: 4)
        #expect(try link.b.receive(into: batch, timeout: .seconds(30)) == 0)
        // The next one waits for its timeout again.
        let started = ContinuousClock.now
        #expect(try link.b.receive(into: batch, timeout: .milliseconds(100)) == 0)
        #expect(ContinuousClock.now - started >= .milliseconds(90))
    }

    @Test(arguments: [Kind.udp, .memory])
    func aWakeAfterCloseDoesNothing(kind: Kind) throws {
        let link = try Link(kind)
        link.close()
        link.b.wake()
        #expect(throws: TransportError.closed) { try link.b.receive(into: DatagramBatch(capacity: 1), timeout: .zero) }
    }
}
