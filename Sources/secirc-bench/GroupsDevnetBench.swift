import Foundation
import SecIRCAPI
import SecIRCLauncher

/// A group on a devnet of real processes (issue 13: "groups of 10 (devnet)"): three relays and
/// `size` clients in one group; the first client posts, one post at a time. Measured: the real
/// packets the poster sends per post (its `packets_sent` less `cover_packets_sent` in
/// `GET /v1/network`, counted until the end of the idle phase below, at least 45 s, so that the
/// deposits made again are in; with cover traffic a real packet takes a cover slot), the time until 99% of
/// the other members showed it (their `group_message` events), and the CPU each process spends
/// per post (utime + stime from /proc, less what it spends idle in as long, measured after).
extension GroupsBench {
    struct DevnetFigures {
        var posts = 0
        var packetsPerPost = 0.0
        var reach99: [Double] = []
        var senderCPUms = 0.0
        var memberCPUms = 0.0
    }

    func runDevnet(size: Int, posts: Int, cover: String) throws -> DevnetFigures {
        var options = DevnetOptions(binDirectory: try MessagesBench.buildDaemons())
        options.clientNames = (0..<size).map { "m\($0)" }
        options.coverTraffic = cover
        return try withBenchDevnet(options) { devnet in
            let group = try devnet.makeGroup("bench")
            // Every member reads the poster's chain first.
            let warm = try devnet.groupSmoke(group, timeout: 180, label: "warm-up")
            guard warm.passed else { throw BenchError("the warm-up post did not reach every member: \(warm.lines.joined(separator: "; "))") }
            let poster = devnet.clients[0], readers = Array(devnet.clients.dropFirst())
            let needed = Int((Double(readers.count) * 0.99).rounded(.up))
            let tag = UUID().uuidString.prefix(8).lowercased()
            let arrivals = readers.map { _ in Arrivals() }
            var streams: [EventStream] = []
            let readersDone = DispatchGroup()
            for (index, reader) in readers.enumerated() {
                let stream = try reader.api.events()
                streams.append(stream)
                readersDone.enter()
                Thread {
                    while let event = try? stream.next() {
                        guard case let .groupMessage(message)? = APIEvent(event), message.text.hasPrefix("bench \(tag) ") else { continue }
                        _ = arrivals[index].record(message.text)
                    }
                    readersDone.leave()
                }.start()
            }
            defer {
                for stream in streams { stream.cancel() }
                readersDone.wait()
            }
            let pids = try devnet.clients.map { client in
                guard let pid = devnet.pid(of: client.name) else { throw BenchError("\(client.name) is not running") }
                return pid
            }
            func cpu() throws -> [Double] { try pids.map(Self.cpuSeconds) }
            func realPackets() throws -> Int {
                let status = try poster.api.decode(NetworkStatus.self, "/v1/network")
                return status.packetsSent - status.coverPacketsSent
            }

            // The posts, one at a time, each until `needed` members showed it.
            FileHandle.standardError.write(Data("groups devnet: \(posts) posts to \(readers.count) members\n".utf8))
            var figures = DevnetFigures()
            let cpuBefore = try cpu(), packetsBefore = try realPackets(), started = ContinuousClock.now
            for index in 0..<posts {
                try devnet.checkChildren()
                let text = "bench \(tag) \(index)"
                let at = ContinuousClock.now
                try poster.api.call("POST", "/v1/groups/\(group.id)/messages", json: SendTextRequest(text: text))
                let deadline = at.advanced(by: .seconds(60))
                var times: [Double] = []
                while times.count < needed {
                    guard ContinuousClock.now < deadline else { throw BenchError("post \(index) reached \(times.count) of \(readers.count) members in 60 s") }
                    usleep(2_000)
                    times = arrivals.compactMap { $0.time(of: text) }.map { MessagesBench.milliseconds($0 - at) }.sorted()
                }
                figures.reach99.append(times[needed - 1])
            }
            let elapsed = ContinuousClock.now - started
            let cpuPosting = zip(try cpu(), cpuBefore).map { $0 - $1 }

            // Idle: what the processes spend without posts (cover traffic, polls), per second.
            let idleBefore = try cpu(), idleStarted = ContinuousClock.now
            usleep(UInt32(max(MessagesBench.milliseconds(elapsed), 45_000) * 1000))
            let idleSeconds = MessagesBench.milliseconds(ContinuousClock.now - idleStarted) / 1000
            let idle = zip(try cpu(), idleBefore).map { ($0 - $1) / idleSeconds * MessagesBench.milliseconds(elapsed) / 1000 }
            figures.packetsPerPost = Double(try realPackets() - packetsBefore) / Double(posts)
            let perPost = zip(cpuPosting, idle).map { max($0 - $1, 0) / Double(posts) * 1000 }
            figures.posts = posts
            figures.senderCPUms = perPost[0]
            figures.memberCPUms = perPost.dropFirst().reduce(0, +) / Double(readers.count)
            figures.reach99.sort()
            return figures
        }
    }

    /// utime + stime of `pid` so far (/proc/<pid>/stat fields 14 and 15, in clock ticks).
    static func cpuSeconds(_ pid: pid_t) throws -> Double {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { throw BenchError("cannot read /proc/\(pid)/stat") }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else {
            throw BenchError("/proc/\(pid)/stat has no CPU times")
        }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }
}
