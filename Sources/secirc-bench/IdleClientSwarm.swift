import Foundation
import Glibc
import SecIRCCore
import SecIRCCrypto
import SecIRCLock
import SecIRCNode
import SecIRCRuntime
import SecIRCTransport
import Synchronization

/// Many idle clients in one process, for loading one relay as that many real idle clients
/// would: each is a real ``ClientEngine`` (with its own in-memory ``Messenger``, so its own
/// identity and mailbox key) on its own UDP socket, all driven by one thread. Each fetches the
/// directory over HTTP as a client does (every 30 s, answered 304), chooses the relay as its
/// mailbox relay, links to it with Noise NK, fetches its mailbox and subscribes to push, polls
/// every `push_poll_interval` (10 s), and rekeys its link every two minutes — all of it the
/// engines' own timers. Nobody sends messages; cover traffic is off (a cover packet needs a
/// three-relay path, and would make this a forwarding load rather than an idle one).
///
/// The relay counts handshakes per source address (`HandshakeAdmission`: 10 a second, a burst
/// of 40, 256 sessions per address; on IPv4 each address of 127/8 counts alone): the clients
/// are spread over `hosts` addresses from 127.0.0.2 and started at `rampPerSecond`, within
/// those limits, rather than raising them.
final class IdleClientSwarm: @unchecked Sendable {
    // @unchecked: everything but `stopping`, `counters` and the wake pipe is touched only by the
    // swarm's thread once `start()` ran.

    struct Counters: Sendable {
        var started = 0
        var datagramsSent = 0
        var datagramsReceived = 0
        var directoryFetches = 0
        var problems = 0
    }

    private struct Member {
        var engine: ClientEngine
        let socket: Int32
        /// When it starts (the ramp), then nil once started.
        var startAt: UnixTime?
        /// Its engine's `nextDeadline`, kept after every call into it.
        var deadline: UnixTime?
    }

    private var members: [Member] = []
    /// The system's randomness (it keeps no state of its own: one for every engine).
    private var random = SystemRandom()
    private let relay: SocketAddress
    private var relaySockaddr = sockaddr_in()
    private let stopping = Atomic<Bool>(false)
    private let wakePipe: (read: Int32, write: Int32)
    private let finished = DispatchSemaphore(value: 0)
    let counters = Locked(Counters())

    /// - Parameters:
    ///   - relayUDP: the relay's UDP address (`127.0.0.1:port`); `relayHTTP` its base URL.
    ///   - roster: the first ring (the relay itself, on a one-relay devnet).
    init(count: Int, relayUDP: String, relayHTTP: String, roster: Roster, hosts: Int, rampPerSecond: Double) throws {
        relay = try SocketAddress(numeric: relayUDP)
        relaySockaddr = try Self.inetAddress(host: relay.host, port: relay.port)
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw BenchError("pipe: errno \(errno)") }
        wakePipe = (fds[0], fds[1])
        Self.raiseDescriptorLimit(to: count + 64)

        let now = Self.now()
        var rng = SystemRandom()
        for i in 0..<count {
            var configuration = ClientEngine.Configuration(roster: roster, bootstrapURLs: [relayHTTP])
            configuration.mailboxRelays = 1
            configuration.coverRateFactor = 0
            let messenger = try Messenger(store: MemoryMessengerStore(), displayName: "idle\(i)",
                                          retry: RetrySchedule(initialMs: 2_000, maximumMs: 300_000), policy: .autoAccept, rng: &rng)
            let host = "127.0.0.\(2 + i % hosts)"
            let socket = try Self.udpSocket(host: host)
            let startAt = now.adding(.nanoseconds(Int64(Double(i) / rampPerSecond * 1e9)))
            members.append(Member(engine: ClientEngine(configuration: configuration, messenger: messenger, now: now, rng: &rng),
                                  socket: socket, startAt: startAt))
        }
    }

    deinit {
        for member in members { close(member.socket) }
        close(wakePipe.read)
        close(wakePipe.write)
    }

    /// Starts the swarm's thread.
    func start() {
        let thread = Thread { [self] in
            run()
            finished.signal()
        }
        thread.name = "idle-swarm"
        thread.start()
    }

    /// Stops the thread and waits until it has ended. Idempotent.
    func stop() {
        stopping.store(true, ordering: .releasing)
        var byte: UInt8 = 1
        _ = write(wakePipe.write, &byte, 1)
        finished.wait()
        finished.signal() // a second stop returns at once too
    }

    /// Clients whose engine reports a link to the relay (read after ``stop()``).
    var linkedCount: Int { members.reduce(0) { $0 + ($1.engine.status.linked.isEmpty ? 0 : 1) } }

    // MARK: The loop

    private func run() {
        var descriptors = members.map { pollfd(fd: $0.socket, events: Int16(POLLIN), revents: 0) }
        descriptors.append(pollfd(fd: wakePipe.read, events: Int16(POLLIN), revents: 0))
        var buffer = [UInt8](repeating: 0, count: 2048)
        var effects = NodeEffects<ClientEngine.Event>()
        while !stopping.load(ordering: .acquiring) {
            var next = UnixTime(nanoseconds: .max)
            for member in members {
                if let due = member.startAt ?? member.deadline { next = min(next, due) }
            }
            let wait = next.nanoseconds == .max ? -1 : Int32(clamping: max(0, (next.nanoseconds - Self.now().nanoseconds + 999_999) / 1_000_000))
            _ = poll(&descriptors, nfds_t(descriptors.count), wait)
            let now = Self.now()
            for i in members.indices {
                if descriptors[i].revents != 0 { receive(i, buffer: &buffer, now: now, effects: &effects) }
                if let startAt = members[i].startAt {
                    guard startAt <= now else { continue }
                    members[i].startAt = nil
                    counters.withLock { $0.started += 1 }
                    members[i].engine.start(now: now, rng: &random, effects: &effects)
                    carryOut(i, &effects)
                } else if let due = members[i].deadline, due <= now {
                    members[i].engine.tick(now: now, rng: &random, effects: &effects)
                    carryOut(i, &effects)
                }
            }
        }
    }

    /// Every datagram queued on client `i`'s socket, from the relay, into its engine.
    private func receive(_ i: Int, buffer: inout [UInt8], now: UnixTime, effects: inout NodeEffects<ClientEngine.Event>) {
        var received = 0
        while true {
            var source = sockaddr_in()
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let count = buffer.withUnsafeMutableBytes { bytes in
                withUnsafeMutablePointer(to: &source) {
                    $0.withMemoryRebound(to: Glibc.sockaddr.self, capacity: 1) {
                        recvfrom(members[i].socket, bytes.baseAddress, bytes.count, 0, $0, &length)
                    }
                }
            }
            guard count > 0 else { break }
            // Only the relay talks to these sockets.
            guard source.sin_port == relaySockaddr.sin_port, source.sin_addr.s_addr == relaySockaddr.sin_addr.s_addr else { continue }
            received += 1
            members[i].engine.receive(Array(buffer[0..<count]), from: relay, now: now, rng: &random, effects: &effects)
        }
        counters.withLock { $0.datagramsReceived += received }
        carryOut(i, &effects)
    }

    /// Client `i`'s datagrams to the relay; its directory fetches made at once through the
    /// daemons' fetcher (blocking: a 304 from a relay on this machine takes about a
    /// millisecond) and answered into it.
    private func carryOut(_ i: Int, _ effects: inout NodeEffects<ClientEngine.Event>) {
        while true {
            var sent = 0
            for datagram in effects.datagrams where datagram.address == relay {
                let result = datagram.bytes.withUnsafeBytes { bytes in
                    withUnsafePointer(to: &relaySockaddr) {
                        $0.withMemoryRebound(to: Glibc.sockaddr.self, capacity: 1) {
                            sendto(members[i].socket, bytes.baseAddress, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                        }
                    }
                }
                if result > 0 { sent += 1 }
            }
            let problems = effects.events.reduce(0) { count, event in
                if case .problem = event { return count + 1 }
                return count
            }
            let fetches = effects.fetches
            counters.withLock {
                $0.datagramsSent += sent
                $0.problems += problems
                $0.directoryFetches += fetches.count
            }
            effects.removeAll()
            guard !fetches.isEmpty else {
                members[i].deadline = members[i].engine.nextDeadline
                return
            }
            for request in fetches {
                members[i].engine.fetched(HTTPFetcher.exchange(request), now: Self.now(), rng: &random, effects: &effects)
            }
        }
    }

    // MARK: Sockets and time

    static func now() -> UnixTime {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return UnixTime(nanoseconds: Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec))
    }

    private static func inetAddress(host: String, port: UInt16) throws -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else { throw BenchError("not an IPv4 address: \(host)") }
        return address
    }

    /// A non-blocking UDP socket bound to `host` on a port of the kernel's choice.
    private static func udpSocket(host: String) throws -> Int32 {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard socket >= 0 else { throw BenchError("socket: errno \(errno)") }
        var address = try inetAddress(host: host, port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: Glibc.sockaddr.self, capacity: 1) { bind(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else {
            close(socket)
            throw BenchError("bind \(host): errno \(errno)")
        }
        return socket
    }

    /// One socket per client: the soft limit on open files is raised towards the hard one.
    private static func raiseDescriptorLimit(to wanted: Int) {
        var limit = rlimit()
        let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
        guard getrlimit(resource, &limit) == 0, limit.rlim_cur < rlim_t(wanted) else { return }
        limit.rlim_cur = min(limit.rlim_max, rlim_t(wanted))
        _ = setrlimit(resource, &limit)
    }
}
