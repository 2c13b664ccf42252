import Foundation
import Glibc
import SecIRCAPI
import SecIRCCore
import SecIRCCrypto
import SecIRCLauncher

/// A relay of a ``TestNetwork`` (the launcher's `Devnet.Relay`) with what the tests ask of it.
final class RelayProcess {
    let relay: Devnet.Relay
    let devnet: Devnet
    let identityKey: SigningPublicKey
    /// A client of its HTTP API.
    let api: APIClient

    init(_ relay: Devnet.Relay, in devnet: Devnet) throws {
        self.relay = relay
        self.devnet = devnet
        identityKey = SigningPublicKey(rawValue: try Bytes32(hex: relay.identityKey))
        api = try APIClient(baseURL: relay.http, timeout: 5)
    }

    var name: String { relay.name }
    var http: String { relay.http }
    var udp: String { relay.udp }
    var id: ID { identityKey.id }
    var adminToken: String {
        (try? String(contentsOfFile: relay.adminTokenFile, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
    }
    /// Everything it logged, over restarts.
    var logText: String { (try? String(contentsOfFile: relay.logPath, encoding: .utf8)) ?? "" }
    var isRunning: Bool { devnet.isRunning(name) }

    /// Stops the relay and starts it again with the same keys, ports and configuration: its
    /// mailboxes (memory only) are gone; its onion keys (and a first ring's directory serial and
    /// chain) are read back from its data directory.
    func restart() throws {
        try devnet.restart(name)
    }

    /// Stops it with `signal`; how it ended.
    @discardableResult
    func stop(signal: Int32 = SIGTERM) -> ChildProcess.Termination? {
        devnet.stop(name, signal: signal)
    }

    /// `method path` with an optional body and bearer token; the response whatever its status.
    func request(_ path: String, method: String = "GET", body: [UInt8]? = nil, token: String? = nil) throws -> APIResponse {
        var api = self.api
        api.token = token
        return try api.send(method, path, body: body)
    }

    /// The value of one sample of its `/metrics` (name with labels, as written), 0 when absent.
    func metric(_ sample: String) throws -> Int {
        let text = String(decoding: try request("/metrics").body, as: UTF8.self)
        for line in text.split(separator: "\n") where line.hasPrefix(sample + " ") {
            return Int(line.dropFirst(sample.count + 1)) ?? 0
        }
        return 0
    }

    func json(_ path: String, token: String? = nil) throws -> [String: Any] {
        (try JSONSerialization.jsonObject(with: Data(request(path, token: token).body)) as? [String: Any]) ?? [:]
    }

    /// Sends only a request head (no body) and returns the status code of the answer: for
    /// checks that the server answers on the headers alone (413 before the body), which a
    /// client that insists on writing the whole body would race.
    func statusForHeadOnly(_ head: String) throws -> Int {
        try api.send(raw: Array(head.utf8)).status
    }
}
