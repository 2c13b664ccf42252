import ArgumentParser
import Foundation
import SecIRCAPI
import SecIRCConfig
import SecIRCCore
import SecIRCCrypto
import SecIRCHTTP
import SecIRCNode
import SecIRCLauncher
import SecIRCRelay

/// The relay's directory endpoint under load: requests per second of the relay's own routes
/// (`RelayRoutes`, in-process on an `HTTPServer`) serving `GET /v1/directory` — a real signed
/// directory of `--relays` relays, with its ETag — against
/// `mhd_ref` (plain C libmicrohttpd, same body size, same thread count), both driven by
/// `wrk -t2 -c64`.
struct HTTPBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "http",
        abstract: "GET /v1/directory requests per second vs the C libmicrohttpd reference; last line: http_directory_ratio_vs_c <x>.")

    @Option(help: "Relays in the signed directory served (5 give about 6 KB).")
    var relays: Int = 5

    @Option(help: "Seconds of wrk load per measurement.")
    var seconds: Int = 10

    @Option(help: "Rounds of each (alternating Swift and C); medians are reported.")
    var rounds: Int = 3

    @Option(help: "Seconds of unmeasured wrk load before each measurement.")
    var warmup: Int = 1

    @Option(help: "Server threads (Swift thread pool and mhd_ref THREADS).")
    var threads: Int = 2

    @Option(help: "wrk connections.")
    var connections: Int = 64

    @Option(help: "mhd_ref mode: static (one shared response) or dyn (a response per request).")
    var refMode: String = "static"

    func validate() throws {
        guard (1...1000).contains(relays) else { throw ValidationError("--relays must be 1...1000") }
        guard seconds >= 1, rounds >= 1, threads >= 1, connections >= 1, warmup >= 0 else {
            throw ValidationError("--seconds, --rounds, --threads and --connections must be positive, --warmup not negative")
        }
        guard ["static", "dyn"].contains(refMode) else { throw ValidationError("--ref-mode is static or dyn") }
    }

    func run() throws {
        guard let wrk = ["/usr/bin/wrk", "/usr/local/bin/wrk"].first(where: FileManager.default.isExecutableFile) else {
            throw BenchError("wrk not found (apt-get install wrk)")
        }
        let reference = try Reference.locate()
        let (router, body) = try Self.relayDirectoryRoutes(relays: relays)
        let bodyBytes = body.count
        let refBinary = try compileReference(reference, bodyBytes: bodyBytes)
        let bodyFile = reference.buildDirectory.appendingPathComponent("directory.json")
        try Data(body).write(to: bodyFile)

        let server = HTTPServer(configuration: HTTPServerConfiguration(host: "127.0.0.1", port: 0, threads: threads),
                                router: router)
        try server.start()
        defer { server.stop() }
        try Self.checkBodyLength(port: server.boundPort, expected: bodyBytes, who: "HTTPServer")
        FileHandle.standardError.write(Data("serving \(bodyBytes)-byte bodies; wrk -t2 -c\(connections) -d\(seconds)s, \(rounds) round(s)\n".utf8))

        var swiftRates: [Double] = [], cRates: [Double] = []
        var swiftCPU: [Double] = [], cCPU: [Double] = []
        for _ in 0..<rounds {
            // Our process is the server (wrk is a child, not counted in /proc/self/stat).
            if warmup > 0 { _ = try runWrk(wrk, reference, port: server.boundPort, seconds: warmup) }
            let cpuBefore = Self.cpuSeconds()
            let swift = try runWrk(wrk, reference, port: server.boundPort)
            swiftCPU.append((Self.cpuSeconds() - cpuBefore) / swift.requests * 1e6)
            swiftRates.append(swift.rate)
            let (c, cSeconds) = try measureReference(refBinary, reference, wrk: wrk, bodyFile: bodyFile.path, bodyBytes: bodyBytes)
            cRates.append(c.rate)
            cCPU.append(cSeconds / c.requests * 1e6)
            FileHandle.standardError.write(Data(String(
                format: "round: swift %.0f req/s %.1f cpu-us/req, ref %.0f req/s %.1f cpu-us/req\n",
                swift.rate, swiftCPU.last!, c.rate, cCPU.last!).utf8))
        }
        let swiftRate = median(swiftRates), cRate = median(cRates)
        print("http_body_bytes \(bodyBytes)")
        // Server CPU per request: steadier than req/s when other work shares the machine.
        print(String(format: "swift_http_cpu_us_per_req %.2f", median(swiftCPU)))
        print(String(format: "ref_http_cpu_us_per_req %.2f", median(cCPU)))
        print(String(format: "swift_http_req_per_s %.0f", swiftRate))
        print(String(format: "ref_http_req_per_s %.0f", cRate))
        print(String(format: "http_directory_ratio_vs_c %.3f", swiftRate / cRate))
    }

    /// mhd_ref reads at most 4096 bytes of its body file (`static char body[4096]`); for larger
    /// bodies a copy with only that buffer enlarged is compiled, so both serve the same bytes.
    private func compileReference(_ reference: Reference, bodyBytes: Int) throws -> String {
        let source = try String(contentsOf: reference.sourceDirectory.appendingPathComponent("mhd_ref.c"), encoding: .utf8)
        let buffer = "static char body[4096];"
        guard bodyBytes > 4096, source.contains(buffer) else {
            return try reference.compile("mhd_ref", libraries: ["microhttpd"])
        }
        let patched = source.replacingOccurrences(of: buffer, with: "static char body[\(bodyBytes)];")
        try patched.write(to: reference.buildDirectory.appendingPathComponent("mhd_ref_sized.c"), atomically: true, encoding: .utf8)
        FileHandle.standardError.write(Data("note: mhd_ref compiled with body[\(bodyBytes)] instead of body[4096]\n".utf8))
        let local = Reference(sourceDirectory: reference.buildDirectory, buildDirectory: reference.buildDirectory)
        return try local.compile("mhd_ref_sized", libraries: ["microhttpd"])
    }

    /// Runs mhd_ref under wrk; the load and the CPU seconds mhd_ref used meanwhile.
    private func measureReference(_ binary: String, _ reference: Reference, wrk: String, bodyFile: String, bodyBytes: Int) throws -> (Load, Double) {
        let port = try FreePort.tcp()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = [String(port), bodyFile, String(threads), refMode, String(seconds + warmup + 30)]
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        defer {
            process.terminate()
            process.waitUntilExit()
        }
        try Self.waitForListener(port: port, deadline: 5)
        try Self.checkBodyLength(port: port, expected: bodyBytes, who: "mhd_ref")
        if warmup > 0 { _ = try runWrk(wrk, reference, port: port, seconds: warmup) }
        let pid = String(process.processIdentifier)
        let cpuBefore = Self.cpuSeconds(pid: pid)
        let load = try runWrk(wrk, reference, port: port)
        return (load, Self.cpuSeconds(pid: pid) - cpuBefore)
    }

    /// `wrk -t2 -c<connections> -d<seconds>s` on /v1/directory; requests per second. Any non-2xx
    /// answer fails the run.
    private func runWrk(_ wrk: String, _ reference: Reference, port: UInt16, seconds: Int? = nil) throws -> Load {
        let duration = seconds ?? self.seconds
        let result = try reference.run(wrk, ["-t2", "-c\(connections)", "-d\(duration)s", "http://127.0.0.1:\(port)/v1/directory"])
        guard result.status == 0 else { throw BenchError("wrk failed: \(result.output)") }
        if result.output.contains("Non-2xx") { throw BenchError("non-2xx answers under load: \(result.output)") }
        var rate: Double?
        var requests: Double?
        for line in result.output.split(separator: "\n") {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("Requests/sec:") {
                rate = Double(trimmed.dropFirst("Requests/sec:".count).trimmingCharacters(in: .whitespaces))
            } else if trimmed.contains(" requests in ") {
                requests = Double(trimmed.split(separator: " ")[0])
            }
        }
        guard let rate, let requests else { throw BenchError("no Requests/sec in wrk output: \(result.output)") }
        return Load(rate: rate, requests: requests)
    }

    /// What one wrk run achieved.
    struct Load {
        let rate: Double
        let requests: Double
    }

    /// CPU seconds (user + system) used so far by process `pid` (`self` for this process).
    static func cpuSeconds(pid: String = "self") -> Double {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = text.lastIndex(of: ")") else { return 0 }
        let fields = text[text.index(after: close)...].split(separator: " ")
        // After the command: state is field 3, utime 14, stime 15 (1-based in proc(5)).
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// A JSON document shaped like a signed relay directory, exactly `bytes` long.
    /// The relay's real routes over a signed directory of `relays` relays; returns the router and
    /// the exact bytes `GET /v1/directory` serves.
    static func relayDirectoryRoutes(relays: Int) throws -> (HTTPRouter, [UInt8]) {
        var rng = SeededRandom(seed: "http bench directory")
        let now = UnixTime(seconds: Int64(Date().timeIntervalSince1970))
        let ring = SigningPrivateKey(using: &rng)
        let roster = Roster(members: [Roster.Member(identityKey: ring.publicKey, udp: "127.0.0.1:6690", http: "http://127.0.0.1:6691")])
        var authority = DirectoryAuthority(identity: ring, roster: roster, network: NetworkParameters(coverRate: 2, meanDelayMs: 50),
                                           period: .seconds(3_600))
        let state = RelayState(relayID: ring.publicKey.id, trustedRoster: roster, isAuthority: true, tlsFingerprint: nil)
        func descriptor(_ key: SigningPrivateKey, _ i: Int) throws -> SignedDocument {
            try RelayDescriptor(
                identityKey: key.publicKey, linkKey: AgreementPrivateKey(using: &rng).publicKey, udp: "10.0.0.\(i + 1):6690",
                http: "http://10.0.0.\(i + 1):6691",
                onionKeys: [.init(epoch: 1, key: AgreementPrivateKey(using: &rng).publicKey, validAfter: now.seconds, validUntil: now.seconds + 86_400),
                            .init(epoch: 2, key: AgreementPrivateKey(using: &rng).publicKey, validAfter: now.seconds + 86_400,
                                  validUntil: now.seconds + 172_800)],
                capacity: 10_000, flags: ["mailbox"], published: now.seconds).signed(by: key)
        }
        let own = try descriptor(ring, 0)
        state.setDescriptor(own)
        try authority.setOwn(own)
        for i in 1..<relays { try authority.accept(descriptor(SigningPrivateKey(using: &rng), i), now: now) }
        let (document, directory) = authority.sign(now: now)
        state.install(document: document, directory: directory, descriptors: try directory.descriptors())
        state.setUDPReady()
        let settings = try RelaySettings.load(serverPath: nil, securityPath: nil, environment: [:])
        var tokenRNG = SystemRandom()
        let routes = RelayRoutes(
            state: state, metrics: RelayMetrics(), settings: settings,
            adminToken: HTTPBearerToken(SecureBytes(Array(Hex.encode(tokenRNG.bytes(32)).utf8))), logLevel: LogLevelControl(.warning),
            perform: { _ in .done }, clock: ManualClock(now), drain: {})
        return (routes.router(), state.directory?.json ?? [])
    }

    /// Waits (polling every 10 ms) until something answers HTTP on `port`.
    static func waitForListener(port: UInt16, deadline seconds: Double) throws {
        let client = try APIClient(baseURL: "http://127.0.0.1:\(port)", timeout: 5)
        let end = monotonicSeconds() + seconds
        while monotonicSeconds() < end {
            if (try? client.send("GET", "/v1/directory")) != nil { return }
            usleep(10_000)
        }
        throw BenchError("nothing listening on port \(port) after \(seconds) s")
    }

    /// One GET /v1/directory; fails unless it is 200 with a Content-Length of `expected`.
    static func checkBodyLength(port: UInt16, expected: Int, who: String) throws {
        let response: APIResponse
        do {
            response = try APIClient(baseURL: "http://127.0.0.1:\(port)", timeout: 5).send("GET", "/v1/directory")
        } catch {
            throw BenchError("\(who): \(error)")
        }
        guard response.status == 200, response.head.headers["content-length"] == String(expected), response.body.count == expected else {
            throw BenchError("\(who) does not serve a \(expected)-byte body: HTTP \(response.status) "
                             + String(decoding: response.body.prefix(200), as: UTF8.self))
        }
    }
}
