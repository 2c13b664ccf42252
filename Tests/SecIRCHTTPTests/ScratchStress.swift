import Foundation
import SecIRCCrypto
@testable import SecIRCHTTP
import Synchronization
import Testing

@Test func scratchStress() async throws {
    for cycle in 0..<30 {
        let streams = LiveEventStreamTests.Streams()
        let router = LiveEventStreamTests.makeRouter(streams)
        router.post("/echo") { r in HTTPResponse(body: r.body) }
        let server = try startServer(router, maxBodyBytes: 4096)
        let port = server.boundPort
        let stop = Flag()
        let tasks = (0..<6).map { worker in
            Task.detached {
                var rng = SeededRandom(seed: "stress \(cycle) \(worker)")
                var kept: [RawHTTPConnection] = []
                while !stop.v.load(ordering: .relaxed) {
                    switch worker {
                    case 0, 1:
                        if let c = try? RawHTTPConnection(port: port, timeout: 1) {
                            try? c.send("GET /v1/events HTTP/1.1\r\nHost: x\r\n\r\n")
                            if rng.next() % 2 == 0 { _ = try? c.readHead() }
                            if rng.next() % 3 == 0 { kept.append(c) }
                            if kept.count > 20 { kept.removeFirst(5) }
                        }
                    case 2:
                        if let c = try? RawHTTPConnection(port: port, timeout: 0.2) {
                            try? c.send(rng.bytes(Int(rng.next() % 3000)))
                            if rng.next() % 2 == 0 { _ = try? c.receiveMore() }
                        }
                    case 3:
                        let r = try? rawRequest(port: port, "POST", "/echo", body: rng.bytes(Int(rng.next() % 5000)))
                        if let r { #expect(r.status == 200 || r.status == 413) }
                    default:
                        for s in streams.made.withLock({ $0 }) { s.send(event: "e", data: "x") }
                        await Task.yield()
                    }
                }
            }
        }
        try await Task.sleep(for: .milliseconds(150))
        let t0 = Date()
        server.stop()
        let elapsed = Date().timeIntervalSince(t0)
        stop.v.store(true, ordering: .relaxed)
        for t in tasks { await t.value }
        #expect(elapsed < 3)
        print("cycle \(cycle) stop \(elapsed) streams \(streams.made.withLock { $0.count })")
    }
}

final class Flag: Sendable { let v = Atomic<Bool>(false) }
