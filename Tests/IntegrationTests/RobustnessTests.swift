import Foundation
import SecIRCAPI
import SecIRCCore
import SecIRCCrypto
import SecIRCTransport
import Testing

/// A relay under garbage: random datagrams, bit-flipped real ones, malformed HTTP. It must count
/// them, answer 4xx JSON, and stay healthy; SIGTERM must stop it cleanly.
@Suite(.serialized) struct RobustnessTests {
    @Test func garbageDatagramsAndBadHTTPLeaveTheRelayHealthy() async throws {
        let network = try TestNetwork()
        defer { network.stop() }
        let relay = try network.startRelay("solo", trusting: nil)
        try await eventually("ready") { try relay.request("/readyz").status == 200 }

        // 10,000 datagrams: random, and bit-flipped copies of a real initiation and transport packet.
        let object = try relay.json("/v1/relay")
        let documentData = try JSONSerialization.data(withJSONObject: object["descriptor"]!)
        let descriptor = try Unverified<RelayDescriptor>(json: Array(documentData)).verified()
        let client = try LinkClient(to: descriptor)
        let seed = ProcessInfo.processInfo.environment["SECIRC_TEST_SEED"] ?? String(UInt64.random(in: 0...UInt64.max))
        print("RobustnessTests: random input seed \(seed) (rerun with SECIRC_TEST_SEED=\(seed))")
        var rng = SeededRandom(seed: seed)
        let realTransport = try #require(client.sealed(.padding))
        var initiator = LinkInitiator(anonymousTo: descriptor.linkKey)
        let realInitiation = try initiator.initiation(now: LinkClient.now(), rng: &rng)
        let target = client.relay.address
        func datagramsReceived() throws -> Int {
            let metrics = String(decoding: try relay.request("/metrics").body, as: UTF8.self)
            let received = metrics.split(separator: "\n").first { $0.hasPrefix("secirc_datagrams_received_total ") }
            return received.flatMap { Int($0.split(separator: " ")[1]) } ?? 0
        }
        let batch = DatagramBatch(capacity: 32, maxDatagramSize: 2048)
        for i in 0..<10_000 {
            var bytes: [UInt8]
            switch i % 4 {
            case 0: bytes = rng.bytes(Int.random(in: 0...1500, using: &rng))
            case 1:
                bytes = realTransport
                bytes[Int.random(in: 0..<bytes.count, using: &rng)] ^= UInt8(1 << Int.random(in: 0..<8, using: &rng))
            case 2:
                bytes = realInitiation
                bytes[Int.random(in: 0..<bytes.count, using: &rng)] ^= UInt8(1 << Int.random(in: 0..<8, using: &rng))
            default:
                bytes = [UInt8.random(in: 0...8, using: &rng)] + rng.bytes(Int.random(in: 0...1300, using: &rng))
            }
            batch.append(bytes, to: target)
            if batch.count == batch.capacity {
                _ = try client.transport.send(batch)
                batch.removeAll()
                if i % 1_024 == 1_023 {
                    _ = try client.transport.receive(into: DatagramBatch(capacity: 1), timeout: .milliseconds(5))
                    // Paced by what the relay took, so a slow build (sanitizers) is not flooded
                    // past its socket buffer: at most 2,048 datagrams in flight.
                    try await eventually("the relay takes datagram \(i - 1_024)") { try datagramsReceived() >= i - 1_024 }
                }
            }
        }
        _ = try client.transport.send(batch)

        // HTTP: unknown routes and methods, malformed and oversized bodies.
        #expect(try relay.request("/nope").status == 404)
        #expect(try relay.request("/v1/directory", method: "DELETE").status == 405)
        for body in ["", "{", "[1,2", "{\"type\":1}", "{\"a\":1,\"a\":2}", String(repeating: "[", count: 500), "\u{0}\u{1}"] {
            let response = try relay.request("/v1/descriptors", method: "POST", body: Array(body.utf8))
            #expect((400..<500).contains(response.status), "body \(body.prefix(20)) gave \(response.status)")
            #expect((try? APIClient.decode(ErrorBody.self, from: response.body)) != nil, "a JSON error body")
        }
        // Refused on its Content-Length, before any of the body is read.
        let head = "POST /v1/descriptors HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 200000\r\n\r\n"
        #expect(try relay.statusForHeadOnly(head) == 413)
        #expect(try relay.request("/v1/admin/status").status == 401)
        #expect(try relay.request("/v1/admin/status", token: "wrong").status == 401)

        // Still healthy, and the garbage was counted.
        try await eventually("drops counted") { try datagramsReceived() >= 9_000 }
        #expect(try relay.request("/healthz").status == 200)
        #expect(try relay.request("/readyz").status == 200)
        #expect(relay.isRunning)
        let metrics = String(decoding: try relay.request("/metrics").body, as: UTF8.self)
        for status in ["200", "400", "401", "404", "405", "413"] {
            #expect(metrics.contains("secirc_http_requests_total{status=\"\(status)\"}"), "HTTP \(status) counted")
        }
        #expect(metrics.contains("secirc_packets_dropped_total{layer=\"link\",reason=\"bad_mac1\"}"))
        #expect(!metrics.contains("secirc_packets_dropped_total{layer=\"link\",reason=\"bad_mac1\"} 0\n"), "flipped initiations counted")
        let status = try relay.json("/v1/admin/status", token: relay.adminToken)
        #expect((status["drops"] as? Int ?? 0) > 1_000)
    }

    @Test func sigtermDrainsAndExitsCleanly() async throws {
        let network = try TestNetwork()
        defer { network.stop() }
        let relay = try network.startRelay("term", trusting: nil)
        try await eventually("ready") { try relay.request("/readyz").status == 200 }
        #expect(relay.stop(signal: SIGINT) == .exited(0)) // SIGINT first…
        #expect(relay.logText.contains("stopped"))

        let again = try network.startRelay("term2", trusting: nil)
        try await eventually("ready") { try again.request("/readyz").status == 200 }
        #expect(again.stop(signal: SIGTERM) == .exited(0)) // …and SIGTERM
    }
}
