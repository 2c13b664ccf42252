import Dispatch
import Foundation
import SecIRCFaults
import SecIRCRuntime
import SecIRCTransport
import Testing

/// The forwarder over real UDP on 127.0.0.1: a datagram there and its answer back.
@Suite struct UDPForwarderTests {
    /// Receives one datagram within `seconds`; nil if none came.
    func receive(_ transport: UDPTransport, within seconds: Int = 10) throws -> (bytes: [UInt8], from: SocketAddress)? {
        let batch = DatagramBatch(capacity: 1)
        guard try transport.receive(into: batch, timeout: .seconds(seconds)) == 1 else { return nil }
        return (batch.withDatagram(0) { Array($0) }, batch.address(0))
    }

    @Test func aDatagramAndItsAnswerCrossTheForwarder() throws {
        let loopback = try SocketAddress(numeric: "127.0.0.1:0")
        let target = try UDPTransport(bind: loopback)
        let source = try UDPTransport(bind: loopback)
        defer { target.close(); source.close() }
        let forwarder = try UDPForwarder(listen: loopback, target: target.localAddress,
                                         profile: try FaultProfile(delay: .milliseconds(5), jitter: .milliseconds(5)),
                                         seed: "live", clock: SystemClock())
        let stopped = DispatchSemaphore(value: 0)
        Thread { forwarder.run(); stopped.signal() }.start()
        defer {
            forwarder.stop()
            #expect(stopped.wait(timeout: .now() + 10) == .success, "run ends after stop")
        }

        try source.send(Array("ping".utf8), to: forwarder.listenAddress)
        let arrived = try #require(try receive(target), "the datagram reached the target")
        #expect(arrived.bytes == Array("ping".utf8))
        #expect(arrived.from != source.localAddress, "it comes from the session's own socket")
        try target.send(Array("pong".utf8), to: arrived.from)
        let answer = try #require(try receive(source), "the answer came back")
        #expect(answer.bytes == Array("pong".utf8))
        #expect(answer.from == forwarder.listenAddress)

        let report = forwarder.report
        #expect(report.counters.received == 2 && report.counters.forwarded == 2)
        #expect(report.sessions == 1 && report.strays == 0 && report.sendFailures == 0)
    }
}
