import ArgumentParser
import Foundation
import SecIRCCore
import SecIRCCrypto
import SecIRCLock
import SecIRCNode
import SecIRCLauncher
import SecIRCTransport
import Synchronization

/// Forwarding through a chain of three relays on loopback vs three `sphinx_hop_ref fwd`.
struct ForwardBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forward",
        abstract: "Packets/s and latency through three relays vs the C chain; last line: relay_forward_ratio_vs_c <x>.",
        discussion: """
            Starts three release-built secirc-relay processes (A is the first ring), registers an in-process sink \
            as a fourth relay, and sends pre-built Sphinx packets A → B → C → sink over a client link at rising \
            offered rates. The C reference is three sphinx_hop_ref fwd processes fed by udp_send and counted by \
            udp_sink at the same rates; latency by udp_pingpong through the same chain. The figure compared is the \
            highest rate delivered with ≥ 99.5% of packets.
            """)

    @Option(help: "Offered rates, packets per second, comma-separated.")
    var rates = "1500,3000,4500,6000,7500,9000"

    @Option(help: "Packets per rate.")
    var packets = 3_000

    @Option(help: "Packets for the latency measurement (sent at 200/s).")
    var latencyPackets = 600

    @Option(help: "Run the relays and C programs under `taskset -c <cpus>` (e.g. 0 for one core).")
    var cpus: String?

    @Option(help: "Relays in the chain: 3 (against the C chain) or 1 (one relay, peel-worker scaling).")
    var relays = 3

    @Option(help: "udp.workers of the relays, comma-separated; with --relays 1 each is run and the last line is the scaling ratio (default 1,2; with 3 relays: the relays' default).")
    var workers: String?

    func run() throws {
        guard relays == 1 || relays == 3 else { throw BenchError("--relays is 1 or 3") }
        if relays == 1 { return try runScaling() }
        let offered = rates.split(separator: ",").compactMap { Double($0) }
        guard !offered.isEmpty else { throw BenchError("no rates") }
        let reference = try Reference.locate()

        // Swift: three relays, a sink, a sender.
        let relayBinary = try buildRelay()
        let mesh = try BenchMesh(binary: relayBinary, cpus: cpus, workers: workers.flatMap { Int($0) })
        defer { mesh.stop() }
        let sink = try Sink()
        try sink.register(with: mesh)
        let idleRSS = mesh.relays.map { residentMiB(pid: mesh.pid(of: $0)) }
        let sender = try Sender(to: mesh.descriptor(of: mesh.relays[0]))
        let path = try [mesh.relays[0], mesh.relays[1], mesh.relays[2]].map { try mesh.descriptor(of: $0) }

        let latency = try measureLatency(sender: sender, sink: sink, path: path)
        sink.peelArrivals.store(false, ordering: .relaxed)
        var swiftTrials: [(rate: Double, delivered: Double, fraction: Double)] = []
        for rate in offered {
            let trial = try trial(rate: rate, sender: sender, sink: sink, path: path, mesh: mesh)
            swiftTrials.append(trial)
            print(String(format: "swift offered %.0f/s delivered %.0f/s (%.1f%%)", rate, trial.delivered, trial.fraction * 100))
        }
        let peakRSS = mesh.relays.map { residentMiB(pid: mesh.pid(of: $0), peak: true) }
        mesh.stop()
        sink.stop()

        // C: the same chain of plain forwarders.
        let forwarder = try reference.compile("sphinx_hop_ref", libraries: ["sodium"])
        let send = try reference.compile("udp_send", libraries: ["sodium"])
        let count = try reference.compile("udp_sink", libraries: ["sodium"])
        let pingpong = try reference.compile("udp_pingpong", libraries: ["sodium"])
        var cTrials: [(rate: Double, delivered: Double, fraction: Double)] = []
        for rate in offered {
            let trial = try cTrial(rate: rate, forwarder: forwarder, send: send, sink: count)
            cTrials.append(trial)
            print(String(format: "c     offered %.0f/s delivered %.0f/s (%.1f%%)", rate, trial.delivered, trial.fraction * 100))
        }
        let cLatency = try cLatency(forwarder: forwarder, pingpong: pingpong)

        func lossless(_ trials: [(rate: Double, delivered: Double, fraction: Double)]) -> Double {
            trials.filter { $0.fraction >= 0.995 }.map(\.delivered).max() ?? 0
        }
        let swiftRate = lossless(swiftTrials), cRate = lossless(cTrials)
        print(String(format: "swift_forward_lossless_pps %.0f", swiftRate))
        print(String(format: "ref_forward_lossless_pps %.0f", cRate))
        print(String(format: "swift_latency_us p50 %.0f p99 %.0f (client → A → B → C → sink, one way)", latency.p50, latency.p99))
        print(String(format: "ref_latency_us p50 %.0f p99 %.0f (client → f1 → f2 → f3 → client, plain UDP forwarding, udp_pingpong)", cLatency.p50, cLatency.p99))
        print(String(format: "relay_rss_idle_mib %@", idleRSS.map { String(format: "%.1f", $0) }.joined(separator: " ")))
        print(String(format: "relay_rss_peak_mib %@", peakRSS.map { String(format: "%.1f", $0) }.joined(separator: " ")))
        print(String(format: "relay_forward_ratio_vs_c %.3f", cRate > 0 ? swiftRate / cRate : 0))
    }

    /// One relay, A → sink, with each worker count in turn: packets sealed on the link ahead of
    /// time and sent by a plain pacing loop (no crypto at send time, as cheap as `udp_send`,
    /// which cannot speak the link), the sink only counting link-authentic arrivals. Last line:
    /// the lossless rate with the most workers over the rate with the fewest.
    private func runScaling() throws {
        let counts = (workers ?? "1,2").split(separator: ",").compactMap { Int($0) }
        guard !counts.isEmpty, counts.allSatisfy({ $0 >= 1 }) else { throw BenchError("--workers: counts ≥ 1, comma-separated") }
        let offered = rates.split(separator: ",").compactMap { Double($0) }
        guard !offered.isEmpty else { throw BenchError("no rates") }
        let relayBinary = try buildRelay()
        var lossless: [Int: Double] = [:]
        for count in counts {
            let mesh = try BenchMesh(binary: relayBinary, cpus: cpus, count: 1, workers: count)
            defer { mesh.stop() }
            let sink = try Sink()
            defer { sink.stop() }
            try sink.register(with: mesh)
            let sender = try Sender(to: mesh.descriptor(of: mesh.relays[0]))
            let path = [try mesh.descriptor(of: mesh.relays[0])]
            let latency = try measureLatency(sender: sender, sink: sink, path: path)
            sink.peelArrivals.store(false, ordering: .relaxed)
            var best = 0.0
            for rate in offered {
                let batch = sender.seal(try sender.build(count: packets, path: path, sink: sink))
                sink.reset()
                try sender.sendSealed(batch, rate: rate)
                try sink.waitIdle(expecting: batch.count)
                let (received, span) = sink.summary()
                let delivered = span > 0 ? Double(received - 1) / span : 0, fraction = Double(received) / Double(batch.count)
                if fraction >= 0.995 { best = max(best, delivered) }
                print(String(format: "workers %d offered %.0f/s delivered %.0f/s (%.1f%%)", count, rate, delivered, fraction * 100))
            }
            lossless[count] = best
            print(String(format: "workers %d lossless_pps %.0f latency_us p50 %.0f p99 %.0f (client → relay → sink, one way, 200/s)",
                         count, best, latency.p50, latency.p99))
            print(String(format: "workers %d relay_rss_peak_mib %.1f", count, residentMiB(pid: mesh.pid(of: mesh.relays[0]), peak: true)))
        }
        let first = lossless[counts[0]] ?? 0, last = lossless[counts[counts.count - 1]] ?? 0
        print(String(format: "relay_workers_scaling %.3f (%d → %d workers)", first > 0 ? last / first : 0, counts[0], counts[counts.count - 1]))
    }

    private func buildRelay() throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["swift", "build", "-c", "release", "--product", "secirc-relay", "--package-path", packageRoot.path]
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw BenchError("swift build -c release --product secirc-relay failed") }
        return packageRoot.appendingPathComponent(".build/release/secirc-relay").path
    }

    private func measureLatency(sender: Sender, sink: Sink, path: [RelayDescriptor]) throws -> (p50: Double, p99: Double) {
        let batch = try sender.build(count: latencyPackets, path: path, sink: sink)
        sink.reset()
        try sender.send(batch, rate: 200)
        try sink.waitIdle(expecting: batch.count)
        let latencies = sink.latencies(sendTimes: sender.sendTimes).sorted()
        return (percentile(latencies, 0.5), percentile(latencies, 0.99))
    }

    private func trial(rate: Double, sender: Sender, sink: Sink, path: [RelayDescriptor], mesh: BenchMesh) throws -> (rate: Double, delivered: Double, fraction: Double) {
        let batch = try sender.build(count: packets, path: path, sink: sink)
        sink.reset()
        try sender.send(batch, rate: rate)
        try sink.waitIdle(expecting: batch.count)
        let (received, span) = sink.summary()
        if ProcessInfo.processInfo.environment["SECIRC_BENCH_DEBUG"] != nil {
            for port in mesh.httpPorts {
                let text = String(decoding: BlockingHTTP.request("http://127.0.0.1:\(port)/metrics")?.body ?? Data(), as: UTF8.self)
                print(text.split(separator: "\n").filter { !$0.hasPrefix("#") && !$0.hasSuffix(" 0") }.joined(separator: "\n"))
            }
        }
        return (rate, span > 0 ? Double(received - 1) / span : 0, Double(received) / Double(batch.count))
    }

    private func taskset(_ arguments: [String]) -> (String, [String]) {
        guard let cpus else { return (arguments[0], Array(arguments.dropFirst())) }
        return ("/usr/bin/taskset", ["-c", cpus] + arguments)
    }

    private func start(_ arguments: [String], output: Pipe? = nil) throws -> Process {
        let process = Process()
        let (executable, rest) = taskset(arguments)
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = rest
        process.standardOutput = output ?? FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    private func cTrial(rate: Double, forwarder: String, send: String, sink: String) throws -> (rate: Double, delivered: Double, fraction: Double) {
        let ports = try (0..<4).map { _ in try FreePort.udp() }
        let seconds = String(Int(Double(packets) / rate) + 10)
        var chain: [Process] = []
        for i in 0..<3 { chain.append(try start([forwarder, "fwd", String(ports[i]), String(ports[i + 1]), seconds])) }
        let output = Pipe()
        let counter = try start([sink, String(ports[3]), String(packets), seconds], output: output)
        Thread.sleep(forTimeInterval: 0.2) // let the forwarders bind before the first datagram
        let sender = try start([send, String(ports[0]), String(packets), "1232", "0", String(Int(rate)), seconds])
        sender.waitUntilExit()
        counter.waitUntilExit()
        chain.forEach { $0.terminate() }
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let fields = Dictionary(uniqueKeysWithValues: text.split(separator: " ").compactMap { part -> (String, Double)? in
            let kv = part.split(separator: "=")
            guard kv.count == 2, let value = Double(kv[1].trimmingCharacters(in: .whitespacesAndNewlines)) else { return nil }
            return (String(kv[0]), value)
        })
        let rx = fields["rx"] ?? 0
        return (rate, fields["pps"] ?? 0, rx / Double(packets))
    }

    private func cLatency(forwarder: String, pingpong: String) throws -> (p50: Double, p99: Double) {
        let ports = try (0..<4).map { _ in try FreePort.udp() }
        var chain: [Process] = []
        for i in 0..<3 { chain.append(try start([forwarder, "fwd", String(ports[i]), String(i == 2 ? ports[3] : ports[i + 1]), "30"])) }
        Thread.sleep(forTimeInterval: 0.2)
        let output = Pipe()
        // sphinx_hop_ref does its hop only on full 1232-byte datagrams and rewrites their first
        // bytes, which udp_pingpong uses to recognise its echo: 1231 bytes measure the plain chain.
        let client = try start([pingpong, String(ports[3]), String(ports[0]), String(latencyPackets), "1231", "0", "20"], output: output)
        client.waitUntilExit()
        chain.forEach { $0.terminate() }
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        func value(_ key: String) -> Double {
            text.split(separator: " ").first { $0.hasPrefix(key + "=") }.flatMap { Double($0.dropFirst(key.count + 1)) } ?? 0
        }
        return (value("p50"), value("p99"))
    }
}

/// The fourth hop: a minimal relay in this process that peels the last layer and timestamps
/// arrivals. Its links are the node layer's `LinkManager`, as in the relay.
final class Sink: @unchecked Sendable {
    // @unchecked: link state is touched only by the sink thread; results are behind a lock.
    let transport: UDPTransport
    let identity: SigningPrivateKey
    let linkKey: AgreementPrivateKey
    let onionKey: OnionKey
    let mailbox: Bytes32
    private var links: LinkManager
    private var processor = SphinxProcessor()
    private var rng = SystemRandom()
    private let arrivals = Locked<[(Int, Double)]>([])
    private let stopped = Atomic<Bool>(false)
    /// Peel the last layer (to read the sequence number, for latency) or only count link-authentic
    /// arrivals (for throughput, as udp_sink only counts: the sink's own Sphinx work would
    /// otherwise take CPU from the three relays it measures).
    let peelArrivals = Atomic<Bool>(true)

    init() throws {
        transport = try UDPTransport(bind: SocketAddress(host: "127.0.0.1", port: 0))
        var rng = SystemRandom()
        identity = SigningPrivateKey(using: &rng)
        linkKey = AgreementPrivateKey(using: &rng)
        onionKey = OnionKey(epoch: 1, privateKey: AgreementPrivateKey(using: &rng))
        mailbox = try Bytes32(rng.bytes(32))
        links = LinkManager(configuration: LinkManager.Configuration(localStatic: linkKey), now: LinkTime.now(), rng: &rng)
        processor.install(onionKey)
        let thread = Thread { [self] in loop() }
        thread.start()
    }

    var descriptor: RelayDescriptor {
        let now = LinkTime.now().seconds
        return RelayDescriptor(identityKey: identity.publicKey, linkKey: linkKey.publicKey, udp: transport.localAddress.description,
                               http: "http://127.0.0.1:9", onionKeys: [.init(epoch: 1, key: onionKey.publicKey, validAfter: now - 60,
                                                                               validUntil: now + 86_400)],
                               capacity: 1, flags: ["bench-sink"], published: now)
    }

    /// Uploads the sink's descriptor to the first ring, waits until every relay lists it, and
    /// keeps uploading it every 2 s (as a relay does) so it stays in the directory.
    func register(with mesh: BenchMesh) throws {
        let url = "http://127.0.0.1:\(mesh.httpPorts[0])/v1/descriptors"
        guard BlockingHTTP.request(url, method: "POST", body: try descriptor.signed(by: identity).jsonBytes())?.status == 202 else {
            throw BenchError("sink descriptor refused")
        }
        try mesh.waitForRelays(mesh.relays.count + 1)
        let thread = Thread { [self] in
            while !stopped.load(ordering: .acquiring) {
                Thread.sleep(forTimeInterval: 2)
                if let document = try? descriptor.signed(by: identity) {
                    _ = BlockingHTTP.request(url, method: "POST", body: document.jsonBytes())
                }
            }
        }
        thread.start()
    }

    private func loop() {
        let batch = DatagramBatch(capacity: 64, maxDatagramSize: 2048)
        var out: [Datagram] = []
        while !stopped.load(ordering: .acquiring) {
            let n: Int
            do { n = try transport.receive(into: batch, timeout: .milliseconds(50)) } catch {
                if case .closed = error { return }
                FileHandle.standardError.write(Data("sink: receive failed: \(error)\n".utf8))
                continue
            }
            let now = LinkTime.now()
            for i in 0..<n {
                let bytes = batch.withDatagram(i) { Array($0) }
                guard let delivery = links.receive(bytes, from: batch.address(i), now: now, rng: &rng, out: &out),
                      case let .sphinx(packet)? = try? LinkFrame.decode(delivery.frame)
                else { continue }
                if !peelArrivals.load(ordering: .relaxed) {
                    let at = Date().timeIntervalSince1970
                    arrivals.withLock { $0.append((-1, at)) }
                    continue
                }
                var peeled = packet
                guard case .deliver = processor.peel(&peeled) else { continue }
                let body = processor.body(ofDelivered: peeled)
                let sequence = body.prefix(8).reduce(0) { $0 << 8 | Int($1) }
                let at = Date().timeIntervalSince1970
                arrivals.withLock { $0.append((sequence, at)) }
            }
            for datagram in out { try? transport.send(datagram.bytes, to: datagram.address) }
            out.removeAll(keepingCapacity: true)
        }
    }

    func reset() { arrivals.withLock { $0.removeAll() } }

    /// Waits until `expecting` packets arrived or nothing arrived for a second.
    func waitIdle(expecting: Int) throws {
        var lastCount = -1
        var lastChange = Date()
        while true {
            let count = arrivals.withLock { $0.count }
            if count >= expecting { return }
            if count != lastCount {
                lastCount = count
                lastChange = Date()
            } else if Date().timeIntervalSince(lastChange) > 1.0 {
                return
            }
            Thread.sleep(forTimeInterval: 0.02)
        }
    }

    /// Packets received and the time from the first to the last arrival.
    func summary() -> (Int, Double) {
        arrivals.withLock { list in
            guard let first = list.first?.1, let last = list.last?.1 else { return (0, 0) }
            return (list.count, last - first)
        }
    }

    /// One-way latencies in microseconds.
    func latencies(sendTimes: [Double]) -> [Double] {
        arrivals.withLock { list in
            list.compactMap { sequence, at in sequence < sendTimes.count ? (at - sendTimes[sequence]) * 1e6 : nil }
        }
    }

    func stop() {
        stopped.store(true, ordering: .releasing)
    }
}

/// The client: an anonymous link to A (the node layer's `LinkManager`), pre-built packets, paced sending.
final class Sender {
    let transport: UDPTransport
    let entry: LinkPeer
    private var links: LinkManager
    private var rng = SystemRandom()
    private var out: [Datagram] = []
    private(set) var sendTimes: [Double] = []

    /// A link to `relay` from a socket on `host` (the attack harness uses another loopback
    /// address than the daemons').
    init(to relay: RelayDescriptor, from host: String = "127.0.0.1") throws {
        transport = try UDPTransport(bind: SocketAddress(host: host, port: 0))
        entry = LinkPeer(id: relay.id, address: try SocketAddress(parsing: relay.udp), linkKey: relay.linkKey)
        links = LinkManager(configuration: .client, now: LinkTime.now(), rng: &rng)
        // A padding frame makes the link; it is established when the relay's response arrives.
        links.send(LinkFrame.padding.encoded(), to: entry, now: LinkTime.now(), rng: &rng, out: &out)
        try flush()
        let batch = DatagramBatch(capacity: 8)
        let deadline = Date().addingTimeInterval(5)
        while !links.linkedPeers.contains(entry.id), Date() < deadline {
            let n = try transport.receive(into: batch, timeout: .milliseconds(100))
            for i in 0..<n {
                _ = links.receive(batch.withDatagram(i) { Array($0) }, from: batch.address(i), now: LinkTime.now(), rng: &rng, out: &out)
            }
            _ = links.tick(now: LinkTime.now(), rng: &rng, out: &out)
            try flush()
        }
        guard links.linkedPeers.contains(entry.id) else { throw BenchError("no link to the entry relay") }
    }

    /// Sends one frame on the link (counted as not sent when the link refuses it), then reads
    /// what came back and runs the link's timers, without waiting.
    @discardableResult
    func send(_ frame: [UInt8]) throws -> Bool {
        let sent = links.send(frame, to: entry.id, now: LinkTime.now(), rng: &rng, out: &out) == .sent
        let n = try transport.receive(into: pollBatch, timeout: .zero)
        for i in 0..<n {
            _ = links.receive(pollBatch.withDatagram(i) { Array($0) }, from: pollBatch.address(i), now: LinkTime.now(), rng: &rng, out: &out)
        }
        _ = links.tick(now: LinkTime.now(), rng: &rng, out: &out)
        try flush()
        return sent
    }

    private let pollBatch = DatagramBatch(capacity: 32)

    private func flush() throws {
        for datagram in out { try transport.send(datagram.bytes, to: datagram.address) }
        out.removeAll(keepingCapacity: true)
    }

    /// `count` packets A → B → C → sink, the sequence number in the first 8 body bytes.
    func build(count: Int, path: [RelayDescriptor], sink: Sink) throws -> [[UInt8]] {
        var rng = SystemRandom()
        let builder = SphinxPacketBuilder()
        var hops = path.enumerated().map { i, relay in
            SphinxHop(onionKey: relay.onionKeys[0].key, epoch: relay.onionKeys[0].epoch,
                      command: .forward(to: (i + 1 < path.count ? path[i + 1].id : sink.identity.publicKey.id).rawValue,
                                        delayMilliseconds: 0, nextEpoch: 0))
        }
        hops.append(SphinxHop(onionKey: sink.onionKey.publicKey, epoch: 1, command: .deliver(to: sink.mailbox)))
        return try (0..<count).map { sequence in
            var body = [UInt8](repeating: 0, count: 64)
            for b in 0..<8 { body[b] = UInt8(truncatingIfNeeded: sequence >> (56 - 8 * b)) }
            return LinkFrame.sphinx(try builder.build(path: hops, body: body, using: &rng)).encoded()
        }
    }

    /// The frames sealed on the link now, ready to send as they are (in this order).
    func seal(_ frames: [[UInt8]]) -> [[UInt8]] {
        var sealed: [[UInt8]] = []
        sealed.reserveCapacity(frames.count)
        for frame in frames {
            var datagrams: [Datagram] = []
            if links.send(frame, to: entry.id, now: LinkTime.now(), rng: &rng, out: &datagrams) == .sent {
                sealed += datagrams.map(\.bytes)
            }
        }
        return sealed
    }

    /// Sends sealed datagrams at `rate` per second (no crypto on the way: a pacing loop).
    func sendSealed(_ datagrams: [[UInt8]], rate: Double) throws {
        let start = Date().timeIntervalSince1970
        for (sequence, datagram) in datagrams.enumerated() {
            let ahead = start + Double(sequence) / rate - Date().timeIntervalSince1970
            if ahead > 0 { Thread.sleep(forTimeInterval: ahead) }
            try transport.send(datagram, to: entry.address)
        }
    }

    /// Sends the frames at `rate` per second, recording each send time by sequence number.
    func send(_ frames: [[UInt8]], rate: Double) throws {
        sendTimes = [Double](repeating: 0, count: frames.count)
        let start = Date().timeIntervalSince1970
        for (sequence, frame) in frames.enumerated() {
            let ahead = start + Double(sequence) / rate - Date().timeIntervalSince1970
            if ahead > 0 { Thread.sleep(forTimeInterval: ahead) } // as udp_send paces: sleep, never spin
            guard links.send(frame, to: entry.id, now: LinkTime.now(), rng: &rng, out: &out) == .sent else {
                throw BenchError("link refused to send")
            }
            sendTimes[sequence] = Date().timeIntervalSince1970
            try flush()
        }
    }
}

enum LinkTime {
    static func now() -> UnixTime { UnixTime(nanoseconds: Int64(Date().timeIntervalSince1970 * 1e9)) }
}
