import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import SecIRCCore
import SecIRCCrypto
import Testing

/// A `secirc-relay` process on loopback with its own data dir and configuration files.
final class RelayProcess: @unchecked Sendable {
    // @unchecked: fields are set in init; `process` is only touched by the test that owns it.
    let name: String
    let directory: String
    let udpPort: UInt16
    let httpPort: UInt16
    let identity: SigningPrivateKey
    private(set) var process = Process()
    private let log: FileHandle

    var http: String { "http://127.0.0.1:\(httpPort)" }
    var id: ID { identity.publicKey.id }
    var adminToken: String {
        (try? String(contentsOfFile: directory + "/data/admin.token", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
    }

    /// Writes the configuration and a known identity key; `firstRing` nil makes this relay the
    /// first ring itself.
    init(name: String, root: String, firstRing: RelayProcess?, rotationSeconds: Int = 3_600, graceSeconds: Int = 60,
         extraServerYAML: String = "") throws {
        self.name = name
        directory = root + "/" + name
        try FileManager.default.createDirectory(atPath: directory + "/data", withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        var rng = SystemRandom()
        let seed = SecureBytes(randomCount: 32, using: &rng)
        identity = try SigningPrivateKey(seed: seed)
        try KeyFile.write(seed, to: directory + "/data/identity.key")
        udpPort = try FreePort.udp()
        httpPort = try FreePort.tcp()
        let server = """
            relay: {name: \(name), data_dir: \(directory)/data}
            udp: {listen: "127.0.0.1:\(udpPort)"}
            http: {listen: "127.0.0.1:\(httpPort)"}
            keys: {rotation_seconds: \(rotationSeconds), grace_seconds: \(graceSeconds)}
            directory: {period_seconds: 1}
            \(extraServerYAML)
            """
        try server.write(toFile: directory + "/server.yaml", atomically: true, encoding: .utf8)
        let members = firstRing.map { ring in
            "  members:\n    - {public_key: \(ring.identity.publicKey.rawValue.hex), udp: \"127.0.0.1:\(ring.udpPort)\", http: \"\(ring.http)\"}\n"
        } ?? "  members: []\n"
        try "first_ring:\n\(members)network: {mean_delay_ms: 5}\n".write(toFile: directory + "/security.yaml", atomically: true, encoding: .utf8)
        _ = FileManager.default.createFile(atPath: directory + "/relay.log", contents: nil)
        log = try FileHandle(forWritingTo: URL(fileURLWithPath: directory + "/relay.log"))
    }

    func start() throws {
        process.executableURL = Processes.productsDirectory.appendingPathComponent("secirc-relay")
        process.arguments = ["--config", directory + "/server.yaml", "--security", directory + "/security.yaml"]
        process.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("SECIRC_") }
        process.standardOutput = log
        process.standardError = log
        try process.run()
    }

    /// Stops the relay and starts it again with the same keys, ports and configuration: its
    /// mailboxes (memory only) are gone, its onion keys are new.
    func restart() throws {
        terminate()
        process = Process()
        try start()
    }

    var logText: String { (try? String(contentsOfFile: directory + "/relay.log", encoding: .utf8)) ?? "" }

    func terminate() {
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
    }

    /// GET or another method; returns status and body.
    func request(_ path: String, method: String = "GET", body: [UInt8]? = nil, token: String? = nil,
                 headers: [String: String] = [:]) async throws -> (status: Int, body: Data, headers: [AnyHashable: Any]) {
        var request = URLRequest(url: URL(string: http + path)!, timeoutInterval: 5)
        request.httpMethod = method
        if let body { request.httpBody = Data(body) }
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        for (key, value) in headers { request.setValue(value, forHTTPHeaderField: key) }
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = response as! HTTPURLResponse
        return (http.statusCode, data, http.allHeaderFields)
    }

    func json(_ path: String, token: String? = nil) async throws -> [String: Any] {
        let (_, data, _) = try await request(path, token: token)
        return (try JSONSerialization.jsonObject(with: data) as? [String: Any]) ?? [:]
    }
}

extension RelayProcess {
    /// Sends only a request head (no body) over a plain socket and returns the status code of
    /// the answer: for checks that the server answers on the headers alone (413 before the
    /// body), which a client that insists on writing the whole body would race.
    func statusForHeadOnly(_ head: String) throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EMFILE) }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = httpPort.bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw POSIXError(.ECONNREFUSED) }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let bytes = Array(head.utf8)
        guard send(fd, bytes, bytes.count, 0) == bytes.count else { throw POSIXError(.EPIPE) }
        var buffer = [UInt8](repeating: 0, count: 1024)
        let n = recv(fd, &buffer, buffer.count, 0)
        guard n > 12 else { throw POSIXError(.ETIMEDOUT) }
        let line = String(decoding: buffer[..<n], as: UTF8.self)
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
    }
}

enum FreePort {
    static func udp() throws -> UInt16 { try bindEphemeral(type: Int32(SOCK_DGRAM.rawValue)) }
    static func tcp() throws -> UInt16 { try bindEphemeral(type: Int32(SOCK_STREAM.rawValue)) }

    private static func bindEphemeral(type: Int32) throws -> UInt16 {
        let fd = socket(AF_INET, type, 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        guard bound == 0 else { throw POSIXError(.EADDRINUSE) }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return UInt16(bigEndian: address.sin_port)
    }
}

/// Awaits a condition with a deadline, checking it every `interval` (an event we cannot be
/// notified of, like another process becoming ready).
func eventually(_ what: String, within seconds: Double = 60, interval: Duration = .milliseconds(50),
                _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now.advanced(by: .milliseconds(Int64(seconds * 1000)))
    while ContinuousClock.now < deadline {
        if (try? await condition()) == true { return }
        try await Task.sleep(for: interval)
    }
    Issue.record("timed out waiting for \(what)")
    throw CancellationError()
}
