import Glibc
import SecIRCTransport
import Testing

@Suite struct UDPTransportTests {
    @Test(.enabled(if: ipv6LoopbackAvailable, "the kernel has no IPv6 loopback"))
    func ipv6LoopbackRoundTrip() throws {
        let loopback = try SocketAddress(host: "::1", port: 0)
        let a = try UDPTransport(bind: loopback)
        let b = try UDPTransport(bind: loopback)
        defer { a.close(); b.close() }
        #expect(a.localAddress.description.hasPrefix("[::1]:"))
        let batch = DatagramBatch()
        for index in 0..<8 { batch.append([UInt8](repeating: UInt8(index), count: 1232), to: b.localAddress) }
        #expect(try a.send(batch) == 8)
        let got = try receive(8, on: b)
        #expect(got == (0..<8).map { Received(bytes: [UInt8](repeating: UInt8($0), count: 1232), from: a.localAddress) })
    }

    @Test(.enabled(if: ipv6LoopbackAvailable, "the kernel has no IPv6 loopback"))
    func aDualStackSocketSeesIPv4PeersAsIPv4() throws {
        let server = try UDPTransport(bind: SocketAddress(host: "::", port: 0))
        let client = try UDPTransport(bind: SocketAddress(host: "127.0.0.1", port: 0))
        defer { server.close(); client.close() }
        try client.send([1], to: SocketAddress(host: "127.0.0.1", port: server.localAddress.port))
        let got = try receive(1, on: server)
        #expect(got == [Received(bytes: [1], from: client.localAddress)])

        let reply = DatagramBatch()
        reply.append([2], to: client.localAddress)  // IPv4, sent from an IPv6 socket
        #expect(try server.send(reply) == 1)
        #expect(try receive(1, on: client).map(\.bytes) == [[2]])
    }

    @Test func aDatagramTheKernelRefusesIsSkippedAndCounted() throws {
        let a = try UDPTransport(bind: SocketAddress(host: "127.0.0.1", port: 0))
        let b = try UDPTransport(bind: SocketAddress(host: "127.0.0.1", port: 0))
        defer { a.close(); b.close() }
        let batch = DatagramBatch()
        batch.append([1], to: b.localAddress)
        batch.append([2], to: try SocketAddress(host: "::1", port: 9))  // IPv6 from an IPv4 socket
        batch.append([3], to: b.localAddress)
        #expect(try a.send(batch) == 3)
        #expect(a.counters.sendRefused == 1)
        #expect(try receive(2, on: b).map(\.bytes) == [[1], [3]])

        #expect {
            try a.send([4], to: SocketAddress(host: "::1", port: 9))
        } throws: { error in
            if case TransportError.system(call: "sendto", errno: EAFNOSUPPORT, _) = error { true } else { false }
        }
    }

    @Test func sendingToAClosedPortIsNotAnError() throws {
        let a = try UDPTransport(bind: SocketAddress(host: "127.0.0.1", port: 0))
        let b = try UDPTransport(bind: SocketAddress(host: "127.0.0.1", port: 0))
        let gone = b.localAddress
        b.close()
        // ICMP port unreachable comes back; on an unconnected socket it is not reported.
        for _ in 0..<3 { try a.send([1], to: gone) }
        let batch = DatagramBatch()
        batch.append([2], to: gone)
        #expect(try a.send(batch) == 1)
        #expect(try a.receive(into: batch, timeout: .milliseconds(20)) == 0)
        a.close()
    }

    @Test func bindingAForeignAddressFails() throws {
        #expect {
            try UDPTransport(bind: SocketAddress(host: "192.0.2.1", port: 0))
        } throws: { error in
            if case TransportError.system(call: "bind", errno: EADDRNOTAVAIL, _) = error { true } else { false }
        }
    }

    @Test func countersStartAtZeroAndSurviveClose() throws {
        let transport = try UDPTransport(bind: SocketAddress(host: "127.0.0.1", port: 0))
        let counters = transport.counters
        #expect([counters.receiveBufferDrops, counters.truncated, counters.sendBufferFull, counters.sendRefused] == [0, 0, 0, 0])
        transport.close()
        #expect(transport.counters.receiveBufferDrops == 0)
    }
}
