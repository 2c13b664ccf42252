import SecIRCTransport
import Testing

@Suite struct InMemoryNetworkTests {
    @Test func overflowBeyondTheQueueCapacityIsDroppedAndCounted() throws {
        let network = InMemoryNetwork(queueCapacity: 8)
        let sender = try network.bind(SocketAddress(host: "10.0.0.1", port: 1))
        let receiver = try network.bind(SocketAddress(host: "10.0.0.2", port: 2))
        for index in 0..<20 { try sender.send([UInt8(index)], to: receiver.localAddress) }
        #expect(network.dropped == 12)
        let got = try receive(20, on: receiver, patience: .milliseconds(50))
        #expect(got.map(\.bytes) == (0..<8).map { [UInt8($0)] }, "the first eight, in order")
    }

    @Test func datagramsToNobodyAreCounted() throws {
        let network = InMemoryNetwork()
        let sender = try network.bind(SocketAddress(host: "10.0.0.1", port: 1))
        try sender.send([1], to: SocketAddress(host: "10.0.0.9", port: 9))
        #expect(network.dropped == 1)
    }

    @Test func aBlackholedDirectionLosesOnlyThatDirection() throws {
        let network = InMemoryNetwork()
        let a = try network.bind(SocketAddress(host: "10.0.0.1", port: 1))
        let b = try network.bind(SocketAddress(host: "10.0.0.2", port: 2))
        network.setLoss(from: a.localAddress, to: b.localAddress, drop: true)
        try a.send([1], to: b.localAddress)
        try b.send([2], to: a.localAddress)
        #expect(try receive(1, on: b, patience: .milliseconds(20)).isEmpty)
        #expect(try receive(1, on: a).map(\.bytes) == [[2]])
        #expect(network.dropped == 1)

        network.setLoss(from: a.localAddress, to: b.localAddress, drop: false)
        network.setLoss(from: nil, to: a.localAddress, drop: true)
        try a.send([3], to: b.localAddress)
        try b.send([4], to: a.localAddress)
        #expect(try receive(1, on: b).map(\.bytes) == [[3]])
        #expect(try receive(1, on: a, patience: .milliseconds(20)).isEmpty)
        #expect(network.dropped == 2)
    }

    @Test func anUnspecifiedBindReceivesForItsPortAndSendsFromLoopback() throws {
        let network = InMemoryNetwork()
        let server = try network.bind(SocketAddress(host: "::", port: 443))
        let client4 = try network.bind(SocketAddress(host: "127.0.0.1", port: 0))
        let client6 = try network.bind(SocketAddress(host: "::1", port: 0))
        #expect(throws: TransportError.self) { try network.bind(SocketAddress(host: "127.0.0.1", port: 443)) }

        try client4.send([4], to: SocketAddress(host: "127.0.0.1", port: 443))
        try client6.send([6], to: SocketAddress(host: "::1", port: 443))
        let got = try receive(2, on: server)
        #expect(got == [Received(bytes: [4], from: client4.localAddress), Received(bytes: [6], from: client6.localAddress)])

        try server.send([40], to: client4.localAddress)
        #expect(try receive(1, on: client4) == [Received(bytes: [40], from: SocketAddress(host: "127.0.0.1", port: 443))])
        #expect(throws: TransportError.self, "IPv4 cannot reach IPv6") {
            try client4.send([1], to: client6.localAddress)
        }
    }

    @Test func manySendersToOneReceiverOnAnotherThread() async throws {
        let network = InMemoryNetwork()
        let receiver = try network.bind(SocketAddress(host: "10.0.0.100", port: 100))
        let senders = try (1...4).map { try network.bind(SocketAddress(host: "10.0.0.\($0)", port: 1)) }
        let perSender = 500
        let total = onThread { () -> Int in
            let batch = DatagramBatch()
            var count = 0
            while count < senders.count * perSender,
                  let n = try? receiver.receive(into: batch, timeout: .seconds(20)), n > 0 {
                count += n
            }
            return count
        }
        // Senders on threads of their own too: the test's tasks may wait for a busy pool.
        let sending = senders.map { sender in
            onThread {
                for index in 0..<perSender { try? sender.send([UInt8(truncatingIfNeeded: index)], to: receiver.localAddress) }
                return true
            }
        }
        for done in sending { #expect(await done.value(within: .seconds(60)) == true) }
        #expect(await total.value(within: .seconds(30)) == senders.count * perSender)
        #expect(network.dropped == 0)
    }
}
