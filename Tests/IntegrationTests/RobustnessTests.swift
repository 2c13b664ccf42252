import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import SecIRCCore
import SecIRCCrypto
import SecIRCTransport
import Testing

/// A relay under garbage: random datagrams, bit-flipped real ones, malformed HTTP. It must count
/// them, answer 4xx JSON, and stay healthy; SIGTERM must stop it cleanly.
@Suite(.serialized) struct RobustnessTests {
    @Test func garbageDatagramsAndBadHTTPLeaveTheRelayHealthy() async throws {
        let root = try Processes.temporaryDirectory()
        let relay = try RelayProcess(name: "solo", root: root, firstRing: nil)
        try relay.start()
        defer {
            relay.terminate()
            try? FileManager.default.removeItem(atPath: root)
        }
        try await eventually("ready") { try await relay.request("/readyz").status == 200 }

        // 10,000 datagrams: random, and bit-flipped copies of a real initiation and transport packet.
        let (_, data, _) = try await relay.request("/v1/relay")
        let object = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        let documentData = try JSONSerialization.data(withJSONObject: object["descriptor"]!)
        let descriptor = try Unverified<RelayDescriptor>(json: Array(documentData)).verified()
        let client = try LinkClient(to: descriptor)
        var rng = SystemRandom()
        let realTransport = try #require(client.sealed(.padding))
        var initiator = LinkInitiator(anonymousTo: descriptor.linkKey)
        let realInitiation = try initiator.initiation(now: LinkClient.now(), rng: &rng)
        let target = client.relay.address
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
                if i % 1_024 == 1_023 { _ = try client.transport.receive(into: DatagramBatch(capacity: 1), timeout: .milliseconds(5)) }
            }
        }
        _ = try client.transport.send(batch)

        // HTTP: unknown routes and methods, malformed and oversized bodies.
        #expect(try await relay.request("/nope").status == 404)
        #expect(try await relay.request("/v1/directory", method: "DELETE").status == 405)
        for body in ["", "{", "[1,2", "{\"type\":1}", "{\"a\":1,\"a\":2}", String(repeating: "[", count: 500), "\u{0}\u{1}"] {
            let (status, data, _) = try await relay.request("/v1/descriptors", method: "POST", body: Array(body.utf8))
            #expect((400..<500).contains(status), "body \(body.prefix(20)) gave \(status)")
            let error = (try? JSONSerialization.jsonObject(with: data) as? [String: Any])?["error"] as? [String: Any]
            #expect(error?["code"] is String)
        }
        // Refused on its Content-Length, before any of the body is read.
        let head = "POST /v1/descriptors HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 200000\r\n\r\n"
        #expect(try relay.statusForHeadOnly(head) == 413)
        #expect(try await relay.request("/v1/admin/status").status == 401)
        #expect(try await relay.request("/v1/admin/status", token: "wrong").status == 401)

        // Still healthy, and the garbage was counted.
        try await eventually("drops counted") {
            let metrics = String(decoding: try await relay.request("/metrics").body, as: UTF8.self)
            let received = metrics.split(separator: "\n").first { $0.hasPrefix("secirc_datagrams_received_total ") }
            return (received.flatMap { Int($0.split(separator: " ")[1]) } ?? 0) >= 9_000
        }
        #expect(try await relay.request("/healthz").status == 200)
        #expect(try await relay.request("/readyz").status == 200)
        #expect(relay.process.isRunning)
        let metrics = String(decoding: try await relay.request("/metrics").body, as: UTF8.self)
        for status in ["200", "400", "401", "404", "405", "413"] {
            #expect(metrics.contains("secirc_http_requests_total{status=\"\(status)\"}"), "HTTP \(status) counted")
        }
        #expect(metrics.contains("secirc_packets_dropped_total{layer=\"link\",reason=\"bad_mac1\"}"))
        #expect(!metrics.contains("secirc_packets_dropped_total{layer=\"link\",reason=\"bad_mac1\"} 0\n"), "flipped initiations counted")
        let status = try await relay.json("/v1/admin/status", token: relay.adminToken)
        #expect((status["drops"] as? Int ?? 0) > 1_000)
    }

    @Test func sigtermDrainsAndExitsCleanly() async throws {
        let root = try Processes.temporaryDirectory()
        let relay = try RelayProcess(name: "term", root: root, firstRing: nil)
        try relay.start()
        defer { try? FileManager.default.removeItem(atPath: root) }
        try await eventually("ready") { try await relay.request("/readyz").status == 200 }
        relay.process.interrupt() // SIGINT first…
        relay.process.waitUntilExit()
        #expect(relay.process.terminationStatus == 0)
        #expect(relay.logText.contains("stopped"))

        let again = try RelayProcess(name: "term2", root: root, firstRing: nil)
        try again.start()
        try await eventually("ready") { try await again.request("/readyz").status == 200 }
        again.process.terminate() // …and SIGTERM
        again.process.waitUntilExit()
        #expect(again.process.terminationStatus == 0)
    }
}
