import ArgumentParser
import Foundation
import Glibc
import SecIRCAPI
import SecIRCCore
import SecIRCCrypto
import SecIRCLauncher
import SecIRCLock
import SecIRCNode
import SecIRCTransport

/// One ordinary process attacking a devnet while alice and bob keep messaging: what issue 10
/// found could stop today's network, run for a bounded time from one host (`--source`, another
/// loopback address than the daemons' 127.0.0.1: every budget is per host).
///
/// Phases: `--quiet` messages alice → bob one at a time (the quiet p50), then the attack for
/// `--duration` seconds while a message leaves every `--interval` seconds, alternately alice →
/// bob and bob → alice, then up to `--timeout` seconds for the last ones to arrive. Printed:
/// messages delivered of sent during the attack, p50 latency during against before, peak RSS
/// of the target relay (a) and of alice, what the attacker did, the target's refusal counters,
/// and last `delivered_percent <P>`. With `--require P` it exits 1 below P.
struct AttackBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "attack",
        abstract: "Attacks a devnet from one host while alice and bob message; last line: delivered_percent <P>.")

    enum Kind: String, CaseIterable, ExpressibleByArgument {
        case handshakeFlood = "handshake-flood"
        case slowloris
        case delayQueue = "delay-queue"
        case replay
        case garbage
        case mailboxFlood = "mailbox-flood"
        case descriptorFlood = "descriptor-flood"

        /// Initiations, packets or datagrams a second; for slowloris, connections held;
        /// for descriptor-flood, uploads.
        var defaultRate: Int {
            switch self {
            case .handshakeFlood: 2_000
            case .slowloris: 2_000
            case .delayQueue: 1_000
            case .replay: 1_000
            case .garbage: 5_000
            case .mailboxFlood: 1_000
            case .descriptorFlood: 300
            }
        }
    }

    @Argument(help: "handshake-flood | slowloris | delay-queue | replay | garbage | mailbox-flood | descriptor-flood")
    var kind: Kind

    @Option(help: "Seconds the attack lasts.")
    var duration: Double = 30

    @Option(help: "Per second (slowloris: connections held). Defaults: handshake-flood 2000, slowloris 2000, delay-queue 1000, replay 1000, garbage 5000, mailbox-flood 1000, descriptor-flood 300.")
    var rate: Int?

    @Option(help: "Seconds between messages during the attack.")
    var interval: Double = 0.5

    @Option(help: "Messages one at a time before the attack (the quiet latency).")
    var quiet = 10

    @Option(help: "Seconds a message may take once the attack is over before it counts as lost.")
    var timeout: Double = 60

    @Option(help: "The attacker's source address (one host; the daemons use 127.0.0.1).")
    var source = "127.0.0.2"

    @Option(name: .customLong("bin-dir"), help: "Run secirc-relay and secirc-client from here instead of building release ones.")
    var binDirectory: String?

    @Option(help: "Exit 1 when fewer than this percent of the messages sent during the attack arrive.")
    var require: Double?

    func validate() throws {
        guard duration > 0, interval > 0, quiet >= 1, timeout > 0 else {
            throw ValidationError("--duration, --interval and --timeout must be positive, --quiet at least 1")
        }
        if let rate, rate < 1 { throw ValidationError("--rate must be positive") }
    }

    func run() throws {
        raiseDescriptorLimit()
        let binaries = try binDirectory ?? MessagesBench.buildDaemons()
        var options = DevnetOptions(binDirectory: binaries)
        if kind == .descriptorFlood {
            // security.yaml's upload rate per host (30 a minute, bursts of 10) for the attacker's
            // host; b and c upload from 127.0.0.1 once a period (10 s), well within it.
            options.admission = [("max_relays_per_address", "16"), ("max_relays_per_prefix", "16"), ("probation_hours", "0")]
        }
        let percent = try withBenchDevnet(options) { devnet in
            guard let alice = devnet.client("alice"), let bob = devnet.client("bob"), let target = devnet.relay("a"),
                  let next = devnet.relay("b")
            else { throw BenchError("no alice, bob, a and b") }

            let arrivals = Arrivals()
            let tag = UUID().uuidString.prefix(8).lowercased()
            var readers: [(EventStream, DispatchSemaphore)] = []
            for client in [alice, bob] {
                let stream = try client.api.events()
                let done = DispatchSemaphore(value: 0)
                Thread {
                    while let event = try? stream.next() {
                        guard case let .message(message)? = APIEvent(event), message.text.hasPrefix("attack \(tag) ") else { continue }
                        _ = arrivals.record(message.text)
                    }
                    done.signal()
                }.start()
                readers.append((stream, done))
            }
            defer {
                for (stream, done) in readers {
                    stream.cancel()
                    done.wait()
                }
            }
            func send(_ text: String, from: Devnet.Client, to: Devnet.Client) throws -> ContinuousClock.Instant {
                let at = ContinuousClock.now
                try from.api.call("POST", "/v1/conversations/\(to.id)/messages", json: SendTextRequest(text: text))
                return at
            }
            func latencies(_ sent: [(text: String, at: ContinuousClock.Instant)]) -> [Double] {
                sent.compactMap { message in arrivals.time(of: message.text).map { MessagesBench.milliseconds($0 - message.at) } }.sorted()
            }
            func waitFor(_ texts: [String], seconds: Double) throws {
                let deadline = ContinuousClock.now.advanced(by: .milliseconds(Int64(seconds * 1000)))
                while !arrivals.containsAll(texts), ContinuousClock.now < deadline {
                    try devnet.checkChildren()
                    usleep(5_000)
                }
            }

            FileHandle.standardError.write(Data("quiet: \(quiet) messages, one at a time\n".utf8))
            var quietSent: [(text: String, at: ContinuousClock.Instant)] = []
            for index in 0..<quiet {
                let text = "attack \(tag) quiet \(index)"
                quietSent.append((text, try send(text, from: alice, to: bob)))
                try waitFor([text], seconds: timeout)
                guard arrivals.time(of: text) != nil else { throw BenchError("a quiet message took longer than \(Int(timeout)) s") }
            }
            let quietLatencies = latencies(quietSent)

            let rate = rate ?? kind.defaultRate
            let descriptor = try Self.descriptor(of: target), nextDescriptor = try Self.descriptor(of: next)
            let attack: any Attack
            switch kind {
            case .handshakeFlood: attack = try HandshakeFlood(target: descriptor, source: source, rate: rate)
            case .slowloris:
                attack = Slowloris(targets: [target.httpPort, UInt16(URL(string: alice.apiURL)?.port ?? 0)], source: source, connections: rate)
            case .delayQueue:
                attack = try DelayQueueFill(target: descriptor, next: nextDescriptor, delay: Self.maxDelay(of: target), source: source, rate: rate)
            case .replay: attack = try ReplayAttack(target: descriptor, source: source, rate: rate)
            case .garbage: attack = try Garbage(target: descriptor, httpPort: target.httpPort, source: source, rate: rate)
            case .mailboxFlood:
                // A stranger holding alice's and bob's invites (old ones would do) and nothing else.
                let invites = try [alice, bob].map { try $0.api.decode(InviteResponse.self, "/v1/invite") }
                attack = try MailboxFlood(relays: devnet.relays.map(Self.descriptor), introductions: invites.flatMap(\.mailboxes),
                                          source: source, rate: rate)
            case .descriptorFlood: attack = DescriptorFlood(target: target, source: source, rate: rate)
            }
            let before = Self.metrics(of: target)
            FileHandle.standardError.write(Data("attack: \(kind.rawValue) at \(rate) for \(duration) s from \(source)\n".utf8))
            let end = ContinuousClock.now.advanced(by: .milliseconds(Int64(duration * 1000)))
            let attackDone = DispatchSemaphore(value: 0)
            let report = Locked<String>("")
            Thread {
                let text = (try? attack.run(until: end)) ?? "the attacker failed"
                report.withLock { $0 = text }
                attackDone.signal()
            }.start()

            var sent: [(text: String, at: ContinuousClock.Instant)] = []
            var index = 0
            while ContinuousClock.now < end {
                let (from, to) = index % 2 == 0 ? (alice, bob) : (bob, alice)
                let text = "attack \(tag) during \(index)"
                // A send the daemon's API refuses under attack counts as sent and lost.
                let at = (try? send(text, from: from, to: to)) ?? ContinuousClock.now
                sent.append((text, at))
                index += 1
                try devnet.checkChildren()
                let due = at.advanced(by: .milliseconds(Int64(interval * 1000)))
                while ContinuousClock.now < min(due, end) { usleep(5_000) }
            }
            attackDone.wait()
            let peakTarget = devnet.pid(of: "a").map { residentMiB(pid: $0, peak: true) } ?? 0
            let peakAlice = devnet.pid(of: "alice").map { residentMiB(pid: $0, peak: true) } ?? 0
            try waitFor(sent.map(\.text), seconds: timeout)
            let during = latencies(sent)
            let after = Self.metrics(of: target)

            let quietP50 = percentile(quietLatencies, 0.5), duringP50 = percentile(during, 0.5)
            let percent = sent.isEmpty ? 0 : 100 * Double(during.count) / Double(sent.count)
            print("attack \(kind.rawValue): rate \(rate) for \(duration) s from \(source); a message every \(interval) s, alice ⇄ bob")
            print("attacker: " + report.withLock { $0 })
            for line in Self.refusals(before: before, after: after) { print("target a: \(line)") }
            if let replay = attack as? ReplayAttack {
                // Cover traffic is off: every `drop` packet the target peeled was one of the attacker's.
                let peeled = after["secirc_cover_dropped_total", default: 0] - before["secirc_cover_dropped_total", default: 0]
                print("replays_accepted \(max(0, peeled - replay.fresh)) of \(replay.replayed)")
            }
            print(String(format: "p50_quiet_ms %.1f", quietP50))
            print(String(format: "p50_during_ms %.1f (%.2f× quiet)", duringP50, quietP50 > 0 ? duringP50 / quietP50 : 0))
            print(String(format: "peak_rss_target_mib %.1f", peakTarget))
            print(String(format: "peak_rss_alice_mib %.1f", peakAlice))
            print("delivered \(during.count) of \(sent.count)")
            print(String(format: "delivered_percent %.1f", percent))
            return percent
        }
        if let require, percent < require { throw ExitCode(1) }
    }

    /// The relay's signed descriptor, from its `/v1/relay`.
    static func descriptor(of relay: Devnet.Relay) throws -> RelayDescriptor {
        guard let object = BlockingHTTP.json(relay.http + "/v1/relay"), let document = object["descriptor"],
              let data = try? JSONSerialization.data(withJSONObject: document)
        else { throw BenchError("no descriptor from \(relay.name)") }
        return try Unverified<RelayDescriptor>(json: Array(data)).verified()
    }

    /// The longest per-hop delay the network accepts (from the directory's mean delay).
    static func maxDelay(of relay: Devnet.Relay) throws -> UInt32 {
        func find(_ value: Any) -> Int? {
            if let object = value as? [String: Any] {
                if let network = object["network"] as? [String: Any], let mean = network["mean_delay_ms"] as? Int { return mean }
                return object.values.lazy.compactMap(find).first
            }
            if let array = value as? [Any] { return array.lazy.compactMap(find).first }
            // A signed document's body is base64 of the JSON that was signed.
            if let text = value as? String, let data = Data(base64Encoded: text),
               let object = try? JSONSerialization.jsonObject(with: data) {
                return find(object)
            }
            return nil
        }
        guard let directory = BlockingHTTP.json(relay.http + "/v1/directory"), let mean = find(directory) else {
            throw BenchError("no network parameters in \(relay.name)'s directory")
        }
        return NetworkParameters.maxDelayMilliseconds(meanDelayMs: Double(mean))
    }

    /// The relay's counters from `/metrics`, by sample name with labels.
    static func metrics(of relay: Devnet.Relay) -> [String: Int] {
        guard let (status, body) = BlockingHTTP.request(relay.http + "/metrics"), status == 200,
              let text = String(data: body, encoding: .utf8)
        else { return [:] }
        var samples: [String: Int] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let parts = line.split(separator: " ")
            if parts.count == 2, let value = Int(parts[1]) { samples[String(parts[0])] = value }
        }
        return samples
    }

    /// The refusal and drop counters that moved during the attack.
    static func refusals(before: [String: Int], after: [String: Int]) -> [String] {
        let watched = ["secirc_handshakes_refused_total", "secirc_handshakes_unconfirmed_expired_total", "secirc_packets_dropped_total",
                       "secirc_sphinx_replays_total", "secirc_onion_key_early_rotations_total", "secirc_cover_dropped_total",
                       "secirc_handshakes_total", "secirc_http_connections_refused_total", "secirc_http_header_timeouts_total",
                       "secirc_relay_uploads_total", "secirc_relay_challenges_total"]
        return after.keys.sorted().compactMap { name in
            guard watched.contains(where: { name.hasPrefix($0) }) else { return nil }
            let delta = after[name, default: 0] - before[name, default: 0]
            return delta == 0 ? nil : "\(name) +\(delta)"
        }
    }

    private func raiseDescriptorLimit() {
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        limit.rlim_cur = limit.rlim_max
        setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    }
}

/// One attacker: runs until `end` and says what it did.
protocol Attack: AnyObject, Sendable {
    func run(until end: ContinuousClock.Instant) throws -> String
}

/// Calls `body(n)` so that `rate` a second are done in all, until `end`; sleeps between batches.
func paced(rate: Int, until end: ContinuousClock.Instant, _ body: (Int) throws -> Void) rethrows {
    let start = ContinuousClock.now
    var done = 0
    while ContinuousClock.now < end {
        let due = Int(Double(rate) * MessagesBench.milliseconds(ContinuousClock.now - start) / 1000) - done
        if due > 0 {
            let batch = min(due, max(1, rate / 100))
            try body(batch)
            done += batch
        } else {
            usleep(1_000)
        }
    }
}

/// Valid anonymous (NK) initiations at `rate`, each with a new ephemeral key; cookie replies are
/// answered (the attacker owns its address), responses never confirmed.
/// Used by one thread at a time (the attack thread).
final class HandshakeFlood: Attack, @unchecked Sendable {
    let transport: UDPTransport
    let address: SocketAddress
    var initiator: LinkInitiator
    let rate: Int

    init(target: RelayDescriptor, source: String, rate: Int) throws {
        transport = try UDPTransport(bind: SocketAddress(host: source, port: 0))
        address = try SocketAddress(parsing: target.udp)
        initiator = LinkInitiator(anonymousTo: target.linkKey)
        self.rate = rate
    }

    func run(until end: ContinuousClock.Instant) throws -> String {
        var rng = SystemRandom()
        let batch = DatagramBatch(capacity: 64)
        var sent = 0, responses = 0, cookies = 0
        try paced(rate: rate, until: end) { count in
            for _ in 0..<count {
                try? transport.send(try initiator.initiation(now: LinkTime.now(), rng: &rng), to: address)
                sent += 1
            }
            while case let n = try transport.receive(into: batch, timeout: .zero), n > 0 {
                for i in 0..<n {
                    let bytes = batch.withDatagram(i) { Array($0) }
                    switch LinkPacket.messageType(of: bytes) {
                    case .response?: responses += 1
                    case .cookieReply?:
                        cookies += 1
                        _ = initiator.receive(bytes, now: LinkTime.now())
                    default: break
                    }
                }
            }
        }
        transport.close()
        return "\(sent) initiations, \(responses) answered, \(cookies) cookie replies"
    }
}

/// Half-open HTTP connections: each sends a request line and then one header byte every few
/// seconds, never finishing; closed ones are opened again (at most `connections` a second).
/// Used by one thread at a time (the attack thread).
final class Slowloris: Attack, @unchecked Sendable {
    let ports: [UInt16]
    let source: String
    let connections: Int

    init(targets: [UInt16], source: String, connections: Int) {
        ports = targets.filter { $0 != 0 }
        self.source = source
        self.connections = connections
    }

    private func open(_ port: UInt16) -> Int32? {
        LoopbackTCP.connect(from: source, to: port, nonBlocking: true)
    }

    func run(until end: ContinuousClock.Instant) throws -> String {
        guard !ports.isEmpty else { return "no target" }
        var held: [(fd: Int32, port: UInt16, sent: Int)] = []
        var opened = 0, closedByServer = 0, refused = 0, maxHeld = 0
        let request = Array("GET /v1/directory HTTP/1.1\r\nHost: localhost\r\nX-Slow: ".utf8)
        var lastTrickle = ContinuousClock.now
        while ContinuousClock.now < end {
            // Top up to `connections`, at most a tenth of them each round (10 rounds a second).
            var budget = max(1, connections / 10)
            while held.count < connections, budget > 0 {
                budget -= 1
                let port = ports[opened % ports.count]
                guard let fd = open(port) else {
                    refused += 1
                    continue
                }
                opened += 1
                held.append((fd, port, 0))
            }
            maxHeld = max(maxHeld, held.count)
            let trickle = ContinuousClock.now - lastTrickle >= .seconds(2)
            if trickle { lastTrickle = ContinuousClock.now }
            var kept: [(fd: Int32, port: UInt16, sent: Int)] = []
            kept.reserveCapacity(held.count)
            for var connection in held {
                var probe: UInt8 = 0
                let read = recv(connection.fd, &probe, 1, Int32(MSG_DONTWAIT) | Int32(MSG_PEEK))
                if read == 0 || (read < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOTCONN) {
                    close(connection.fd)
                    closedByServer += 1
                    continue
                }
                if read > 0 { // an answer (an error page): the server is done with it
                    close(connection.fd)
                    closedByServer += 1
                    continue
                }
                if connection.sent < request.count || trickle {
                    let byte = connection.sent < request.count ? request[connection.sent] : UInt8(ascii: "a")
                    var value = byte
                    let written = send(connection.fd, &value, 1, Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT))
                    if written == 1 {
                        connection.sent += 1
                    } else if errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOTCONN {
                        close(connection.fd)
                        closedByServer += 1
                        continue
                    }
                }
                kept.append(connection)
            }
            held = kept
            usleep(100_000)
        }
        for connection in held { close(connection.fd) }
        return "\(opened) connections opened, at most \(maxHeld) held, \(closedByServer) closed by the servers, \(refused) not opened"
    }
}

/// One-hop packets through a link to the target asking for the longest delay the network
/// accepts: half to a real next relay (they count against the attacker's share of the delay
/// queue), half to random next hops (refused before they wait).
/// Used by one thread at a time (the attack thread).
final class DelayQueueFill: Attack, @unchecked Sendable {
    let sender: Sender
    let key: RelayDescriptor.OnionKeyEntry
    let next: Bytes32
    let delay: UInt32
    let rate: Int

    init(target: RelayDescriptor, next: RelayDescriptor, delay: UInt32, source: String, rate: Int) throws {
        sender = try Sender(to: target, from: source)
        guard let key = target.onionKeys.first else { throw BenchError("no onion key") }
        self.key = key
        self.next = next.id.rawValue
        self.delay = delay
        self.rate = rate
    }

    func run(until end: ContinuousClock.Instant) throws -> String {
        var rng = SystemRandom()
        let builder = SphinxPacketBuilder()
        var sent = 0
        try paced(rate: rate, until: end) { count in
            for _ in 0..<count {
                let relay = sent % 2 == 0 ? next : Bytes32 { rng.fill($0) }
                let hop = SphinxHop(onionKey: key.key, epoch: key.epoch, command: .forward(to: relay, delayMilliseconds: delay, nextEpoch: 0))
                let packet = try builder.build(path: [hop], body: [], using: &rng)
                if try sender.send(LinkFrame.sphinx(packet).encoded()) { sent += 1 }
            }
        }
        return "\(sent) packets asking for \(delay) ms (the most accepted), half to relay b, half to random next hops"
    }
}

/// The attacker's own one-hop packets through the target for the first half, then the first
/// thousand of them again and again: every replay must be refused.
/// Used by one thread at a time (the attack thread).
final class ReplayAttack: Attack, @unchecked Sendable {
    let sender: Sender
    let key: RelayDescriptor.OnionKeyEntry
    let rate: Int
    /// Own packets sent, and replays of them (read once `run` returned).
    private(set) var fresh = 0, replayed = 0

    init(target: RelayDescriptor, source: String, rate: Int) throws {
        sender = try Sender(to: target, from: source)
        guard let key = target.onionKeys.first else { throw BenchError("no onion key") }
        self.key = key
        self.rate = rate
    }

    func run(until end: ContinuousClock.Instant) throws -> String {
        var rng = SystemRandom()
        let builder = SphinxPacketBuilder()
        let half = ContinuousClock.now.advanced(by: (end - ContinuousClock.now) / 2)
        var recorded: [[UInt8]] = []
        try paced(rate: rate, until: half) { count in
            for _ in 0..<count {
                let hop = SphinxHop(onionKey: key.key, epoch: key.epoch, command: .drop)
                let frame = LinkFrame.sphinx(try builder.build(path: [hop], body: [], using: &rng)).encoded()
                if recorded.count < 1_000 { recorded.append(frame) }
                if try sender.send(frame) { fresh += 1 }
            }
        }
        guard !recorded.isEmpty else { return "\(fresh) own packets, nothing to replay" }
        try paced(rate: rate, until: end) { count in
            for _ in 0..<count {
                if try sender.send(recorded[replayed % recorded.count]) { replayed += 1 }
            }
        }
        return "\(fresh) own packets, then \(replayed) replays of the first \(recorded.count)"
    }
}

/// Random datagrams (0–1,500 bytes) at the relay's UDP port, and random bytes on new HTTP
/// connections (one every 10 ms).
/// Used by one thread at a time (the attack thread).
final class Garbage: Attack, @unchecked Sendable {
    let transport: UDPTransport
    let address: SocketAddress
    let slowloris: Slowloris
    let rate: Int

    init(target: RelayDescriptor, httpPort: UInt16, source: String, rate: Int) throws {
        transport = try UDPTransport(bind: SocketAddress(host: source, port: 0))
        address = try SocketAddress(parsing: target.udp)
        slowloris = Slowloris(targets: [httpPort], source: source, connections: 1)
        self.rate = rate
    }

    func run(until end: ContinuousClock.Instant) throws -> String {
        var rng = SystemRandom()
        var sent = 0, http = 0
        var lastHTTP = ContinuousClock.now
        paced(rate: rate, until: end) { count in
            for _ in 0..<count {
                var length = 0
                withUnsafeMutableBytes(of: &length) { rng.fill(UnsafeMutableRawBufferPointer(rebasing: $0[0..<2])) }
                try? transport.send(rng.bytes(length % 1_501), to: address)
                sent += 1
            }
            if ContinuousClock.now - lastHTTP >= .milliseconds(10) {
                lastHTTP = ContinuousClock.now
                http += slowloris.garble(with: rng.bytes(512)) ? 1 : 0
            }
        }
        transport.close()
        return "\(sent) random datagrams, \(http) HTTP connections of random bytes"
    }
}

extension Slowloris {
    /// Opens a connection, writes `bytes` and closes it; false when it could not connect.
    func garble(with bytes: [UInt8]) -> Bool {
        guard let port = ports.first, let fd = open(port) else { return false }
        var pollee = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
        _ = poll(&pollee, 1, 100)
        _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT)) }
        close(fd)
        return true
    }
}

/// Deposits from one host straight to every relay: at the mailbox relays of alice's and bob's
/// invites half to their introduction addresses (what a stranger holding an old invite has),
/// the rest to random addresses. Each contact writes to a queue of its own, so neither may keep their mail out.
/// Used by one thread at a time (the attack thread).
final class MailboxFlood: Attack, @unchecked Sendable {
    struct Target {
        let sender: Sender
        let key: RelayDescriptor.OnionKeyEntry
        let introductions: [Bytes32]
    }

    let targets: [Target]
    let rate: Int

    init(relays: [RelayDescriptor], introductions: [Mailbox], source: String, rate: Int) throws {
        targets = try relays.compactMap { relay in
            let here = try introductions.filter { $0.relayID == relay.id.hex }.map { try Bytes32(hex: $0.mailboxID) }
            guard let key = relay.onionKeys.first else { return nil }
            return Target(sender: try Sender(to: relay, from: source), key: key, introductions: here)
        }
        guard targets.contains(where: { !$0.introductions.isEmpty }) else { throw BenchError("no relay holds a mailbox of the invites") }
        self.rate = rate
    }

    func run(until end: ContinuousClock.Instant) throws -> String {
        var rng = SystemRandom()
        let builder = SphinxPacketBuilder()
        var toIntroductions = 0, toRandom = 0
        try paced(rate: rate, until: end) { count in
            for _ in 0..<count {
                let n = toIntroductions + toRandom
                let target = targets[n % targets.count]
                let random = target.introductions.isEmpty || (n / targets.count) % 2 == 1
                let address = random ? Bytes32 { rng.fill($0) } : target.introductions[(n / (2 * targets.count)) % target.introductions.count]
                let hop = SphinxHop(onionKey: target.key.key, epoch: target.key.epoch, command: .deliver(to: address))
                let body = (0..<PacketGeometry.standard.bodyLength).map { _ in UInt8.random(in: 0...255) }
                guard try target.sender.send(LinkFrame.sphinx(try builder.build(path: [hop], body: body, using: &rng)).encoded()) else {
                    continue
                }
                if random { toRandom += 1 } else { toIntroductions += 1 }
            }
        }
        return "\(toIntroductions) deposits to the invites' introduction addresses and \(toRandom) to random addresses, "
            + "at \(targets.count) mailbox relays"
    }
}

/// Issue 11's directory flood: descriptors with fresh keys, flags `mailbox,first_ring` and
/// capacity 100,000, uploaded to the first ring (relay a) from one host, each advertising a UDP
/// address in another /24 where nobody answers; every other one carries a 2 KB `http` field
/// (what pushed the signed directory over 4 MiB). Says what came back, and how many relays the
/// first ring's directory lists at the end.
/// Used by one thread at a time (the attack thread).
final class DescriptorFlood: Attack, @unchecked Sendable {
    let target: Devnet.Relay
    let source: String
    let rate: Int

    init(target: Devnet.Relay, source: String, rate: Int) {
        self.target = target
        self.source = source
        self.rate = rate
    }

    func run(until end: ContinuousClock.Instant) throws -> String {
        var rng = SystemRandom()
        var statuses: [Int: Int] = [:]
        var sent = 0
        try paced(rate: rate, until: end) { count in
            for _ in 0..<count {
                let key = SigningPrivateKey(using: &rng)
                let now = Int64(Date().timeIntervalSince1970)
                let http = sent % 2 == 0 ? "http://\(source):9" : "http://\(source):9/" + String(repeating: "x", count: 2_000)
                let document = try RelayDescriptor(
                    identityKey: key.publicKey, linkKey: AgreementPrivateKey(using: &rng).publicKey,
                    udp: "127.\(20 + sent % 200).\(sent / 200 % 256).1:6690", http: http,
                    onionKeys: [.init(epoch: 1, key: AgreementPrivateKey(using: &rng).publicKey, validAfter: now - 60, validUntil: now + 86_400)],
                    capacity: 100_000, flags: ["mailbox", "first_ring"], published: now).signed(by: key)
                let status = LoopbackTCP.post(from: source, to: target.httpPort, path: "/v1/descriptors", body: document.jsonBytes())
                statuses[status ?? 0, default: 0] += 1
                sent += 1
            }
        }
        let listed = (BlockingHTTP.json(target.http + "/v1/relays")?["relays"] as? [Any])?.count ?? -1
        let answers = statuses.keys.sorted().map { "\($0 == 0 ? "none" : String($0)) ×\(statuses[$0]!)" }.joined(separator: ", ")
        return "\(sent) uploads with fresh keys (half with a 2 KB http field): \(answers); the first ring's directory lists \(listed) relays"
    }
}
