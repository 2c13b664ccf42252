import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing

/// A `secirc-client` process on loopback trusting relay A, with its own data dir and API port.
final class ClientProcess: @unchecked Sendable {
    // @unchecked: fields are set in init; `process` is only touched by the test that owns it.
    let name: String
    let directory: String
    let apiPort: UInt16
    private(set) var process = Process()
    private let log: FileHandle

    var api: String { "http://127.0.0.1:\(apiPort)" }
    var token: String {
        (try? String(contentsOfFile: directory + "/data/api.token", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
    }

    init(name: String, root: String, firstRing a: RelayProcess, bootstrap: [RelayProcess], cover: String = "off") throws {
        self.name = name
        directory = root + "/" + name
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        apiPort = try FreePort.tcp()
        let client = """
            client: {data_dir: \(directory)/data, display_name: \(name)}
            api: {listen: "127.0.0.1:\(apiPort)"}
            network: {bootstrap_urls: [\(bootstrap.map(\.http).joined(separator: ", "))], cover_traffic: \(cover), poll_interval_ms: 100}
            messages: {retry_initial_seconds: 1, retry_max_seconds: 4}
            """
        try client.write(toFile: directory + "/client.yaml", atomically: true, encoding: .utf8)
        let security = "first_ring:\n  members:\n    - {public_key: \(a.identity.publicKey.rawValue.hex), udp: \"127.0.0.1:\(a.udpPort)\", http: \"\(a.http)\"}\n"
        try security.write(toFile: directory + "/security.yaml", atomically: true, encoding: .utf8)
        _ = FileManager.default.createFile(atPath: directory + "/client.log", contents: nil)
        log = try FileHandle(forWritingTo: URL(fileURLWithPath: directory + "/client.log"))
        log.seekToEndOfFile()
    }

    func start() throws {
        process = Process()
        process.executableURL = Processes.productsDirectory.appendingPathComponent("secirc-client")
        process.arguments = ["--config", directory + "/client.yaml", "--security", directory + "/security.yaml"]
        process.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("SECIRC_") }
        process.standardOutput = log
        process.standardError = log
        try process.run()
    }

    /// SIGTERM, and the exit status.
    @discardableResult
    func terminate() -> Int32 {
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        return process.terminationStatus
    }

    var logText: String { (try? String(contentsOfFile: directory + "/client.log", encoding: .utf8)) ?? "" }

    func request(_ path: String, method: String = "GET", json: [String: Any]? = nil,
                 token: String? = nil) async throws -> (status: Int, object: [String: Any]) {
        var request = URLRequest(url: URL(string: api + path)!, timeoutInterval: 10)
        request.httpMethod = method
        if let json { request.httpBody = try JSONSerialization.data(withJSONObject: json) }
        request.setValue("Bearer \(token ?? self.token)", forHTTPHeaderField: "Authorization")
        let (data, response) = try await URLSession.shared.data(for: request)
        let object = (try? JSONSerialization.jsonObject(with: data) as? [String: Any]) ?? [:]
        return ((response as! HTTPURLResponse).statusCode, object)
    }

    func get(_ path: String) async throws -> [String: Any] { try await request(path).object }

    /// Waits until the API answers and the client holds a verified directory (its invite exists).
    func waitReady() async throws {
        try await eventually("\(name) has a verified directory") { try await request("/v1/invite").status == 200 }
    }

    func contacts() async throws -> [[String: Any]] { try await get("/v1/contacts")["contacts"] as? [[String: Any]] ?? [] }

    func messages(with contact: String) async throws -> [[String: Any]] {
        try await get("/v1/conversations/\(contact)/messages?limit=500")["messages"] as? [[String: Any]] ?? []
    }

    func send(_ text: String, to contact: String) async throws -> String {
        let (status, object) = try await request("/v1/conversations/\(contact)/messages", method: "POST", json: ["text": text])
        #expect(status == 202)
        return object["id"] as? String ?? ""
    }
}
