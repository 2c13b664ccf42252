import Foundation
import Glibc
public import SecIRCAPI

/// A whole secIRC network on this machine, as real processes: relays (the first is the first
/// ring, the others trust it, like scripts/mesh.sh) and clients that have become each other's
/// contacts. `secirc devnet` runs one; so does `secirc-bench messages`.
///
/// Everything listens on 127.0.0.1 at free ports. Configuration, data and logs
/// (`<name>.log`, each child's stdout and stderr) are in ``directory``; `devnet.json` lists the
/// endpoints. Every wait has a deadline and notices a child that died. Not for concurrent use:
/// one thread starts, checks and stops it (the ``Client/api`` values may be used anywhere).
public final class Devnet {
    /// A relay of the network.
    public struct Relay: Sendable {
        public var name: String
        /// Its HTTP base URL.
        public var http: String
        /// Its UDP address, host:port.
        public var udp: String
        public var dataDirectory: String
        public var adminTokenFile: String
        /// Ed25519 identity key (hex), from its `/v1/relay`.
        public var identityKey: String
    }

    /// A client daemon of the network.
    public struct Client: Sendable {
        public var name: String
        /// Its API base URL.
        public var apiURL: String
        public var tokenFile: String
        public var dataDirectory: String
        /// Its id (what its contacts know it by).
        public var id: String
        /// A client of its API, with its token.
        public var api: APIClient
    }

    public let options: DevnetOptions
    /// Where everything is (``DevnetOptions/directory`` or a new temporary directory).
    public private(set) var directory = ""
    public private(set) var relays: [Relay] = []
    public private(set) var clients: [Client] = []
    /// True when ``directory`` was made for this network (nothing of the user's is in it).
    public private(set) var directoryIsTemporary = false

    private var children: [ChildProcess] = []
    let progress: (String) -> Void
    let interrupted: () -> Bool

    /// `progress` receives one line per step; `interrupted` is polled by every wait (a set
    /// ``StopFlag``'s `isSet` ends start-up with ``DevnetError/interrupted``).
    public init(options: DevnetOptions, progress: @escaping (String) -> Void = { _ in },
                interrupted: @escaping () -> Bool = { false }) {
        self.options = options
        self.progress = progress
        self.interrupted = interrupted
    }

    deinit { stop() }

    /// The client named `name`.
    public func client(_ name: String) -> Client? {
        clients.first { $0.name == name }
    }

    // MARK: Start

    /// Starts the relays, then the clients, and introduces every pair of clients. On failure
    /// the children started so far keep running until ``stop()`` (their logs explain).
    public func start() throws(DevnetError) {
        let relayBinary = options.binDirectory + "/secirc-relay"
        let clientBinary = options.binDirectory + "/secirc-client"
        for binary in [relayBinary, clientBinary] where !FileManager.default.isExecutableFile(atPath: binary) {
            throw .missingExecutable(path: binary)
        }
        try prepareDirectory()
        guard let firstName = options.relayNames.first else { throw .cannotPrepare(path: directory, reason: "no relays") }

        let first = try startRelay(firstName, binary: relayBinary, firstRing: nil)
        for name in options.relayNames.dropFirst() {
            _ = try startRelay(name, binary: relayBinary, firstRing: first)
        }
        try waitForDirectory()

        for name in options.clientNames {
            try startClient(name, binary: clientBinary)
        }
        for client in clients {
            try waitForInvite(client)
        }
        for i in clients.indices {
            for j in clients.indices where j > i {
                try introduce(clients[i], to: clients[j])
            }
        }
        try writeManifest()
    }

    private func prepareDirectory() throws(DevnetError) {
        do {
            if let requested = options.directory {
                directory = URL(fileURLWithPath: requested).standardizedFileURL.path
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                        attributes: [.posixPermissions: 0o700])
            } else {
                var template = Array((FileManager.default.temporaryDirectory.path + "/secirc-devnet-XXXXXX").utf8CString)
                guard let made = mkdtemp(&template) else { throw SystemCallError(call: "mkdtemp", errno: errno) }
                directory = String(cString: made)
                directoryIsTemporary = true
            }
        } catch {
            throw .cannotPrepare(path: options.directory ?? "a temporary directory", reason: "\(error)")
        }
    }

    private func write(_ text: String, to path: String) throws(DevnetError) {
        do {
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                    withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            try text.write(toFile: path, atomically: true, encoding: .utf8)
        } catch {
            throw .cannotPrepare(path: path, reason: "\(error)")
        }
    }

    private func spawn(_ name: String, binary: String, arguments: [String]) throws(DevnetError) -> ChildProcess {
        let logPath = directory + "/\(name).log"
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("SECIRC_") }
        environment["SECIRC_DEVNET"] = directory
        do {
            // A fresh log per run: the banner lines are read from it.
            try? FileManager.default.removeItem(atPath: logPath)
            let child = try ChildProcess(name: name, executable: binary, arguments: arguments,
                                         environment: environment, logPath: logPath)
            children.append(child)
            return child
        } catch {
            throw .cannotStart(name: name, reason: error.description)
        }
    }

    private func startRelay(_ name: String, binary: String, firstRing: Relay?) throws(DevnetError) -> Relay {
        let base = directory + "/" + name
        let data = base + "/data"
        progress("starting relay \(name)" + (firstRing.map { " (trusting \($0.name))" } ?? " (first ring)"))
        try write("""
            # secirc devnet: relay \(name)
            relay: {name: \(Self.yaml(name)), data_dir: \(Self.yaml(data))}
            udp: {listen: "127.0.0.1:0"}
            http: {listen: "127.0.0.1:0"}
            directory: {period_seconds: \(options.directoryPeriodSeconds)}

            """, to: base + "/server.yaml")
        try write(securityYAML(firstRing: firstRing), to: base + "/security.yaml")
        let child = try spawn(name, binary: binary, arguments: ["--config", base + "/server.yaml", "--security", base + "/security.yaml"])

        let (udp, httpPort) = try waitFor("relay \(name) to start (its banner in \(child.logPath))") { () -> (String, String)? in
            guard let udp = child.banner("udp "), let port = child.banner("http port ") else { return nil }
            return (udp, port)
        }
        let http = "http://127.0.0.1:\(httpPort)"
        let relayAPI = try api(http, token: nil)
        let identityKey = try waitFor("relay \(name)'s \(http)/v1/relay") { () throws -> String? in
            let body = try relayAPI.call("GET", "/v1/relay")
            return (try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])?["identity_key"] as? String
        }
        let relay = Relay(name: name, http: http, udp: udp, dataDirectory: data, adminTokenFile: data + "/admin.token",
                          identityKey: identityKey)
        relays.append(relay)
        return relay
    }

    private func securityYAML(firstRing: Relay?) -> String {
        var text = "# secirc devnet\nfirst_ring:\n"
        if let ring = firstRing {
            text += "  members:\n    - {public_key: \(ring.identityKey), udp: \(Self.yaml(ring.udp)), http: \(Self.yaml(ring.http))}\n"
        } else {
            text += "  members: []\n"
        }
        if let delay = options.meanDelayMilliseconds { text += "network: {mean_delay_ms: \(delay)}\n" }
        return text
    }

    /// Waits until every relay is ready and holds a directory listing all of them.
    private func waitForDirectory() throws(DevnetError) {
        progress("waiting for a directory of \(relays.count) relays")
        for relay in relays {
            let relayAPI = try api(relay.http, token: nil)
            try waitFor("relay \(relay.name) to be ready with all \(relays.count) relays in its directory") { () throws -> Bool? in
                guard try relayAPI.send("GET", "/readyz").status == 200 else { return nil }
                let body = try relayAPI.call("GET", "/v1/relays")
                let listed = ((try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])?["relays"] as? [Any])?.count
                return listed == relays.count ? true : nil
            }
        }
    }

    private func startClient(_ name: String, binary: String) throws(DevnetError) {
        let base = directory + "/" + name
        let data = base + "/data"
        progress("starting client \(name)")
        let port: UInt16
        do { port = try FreePort.tcp() } catch { throw .cannotStart(name: name, reason: "no free port: \(error)") }
        let bootstrap = relays.map { Self.yaml($0.http) }.joined(separator: ", ")
        try write("""
            # secirc devnet: client \(name)
            client: {data_dir: \(Self.yaml(data)), display_name: \(Self.yaml(name))}
            api: {listen: "127.0.0.1:\(port)"}
            network:
              bootstrap_urls: [\(bootstrap)]
              path_length: \(options.pathLength)
              cover_traffic: \(Self.yaml(options.coverTraffic))
              poll_interval_ms: \(options.pollIntervalMilliseconds)
            messages: {retry_initial_seconds: \(options.retryInitialSeconds), retry_max_seconds: \(options.retryMaxSeconds)}

            """, to: base + "/client.yaml")
        guard let ring = relays.first else { throw .cannotStart(name: name, reason: "no relays") }
        try write(securityYAML(firstRing: ring), to: base + "/security.yaml")
        let child = try spawn(name, binary: binary, arguments: [
            "--config", base + "/client.yaml", "--security", base + "/security.yaml",
            "--data-dir", data, "--api-listen", "127.0.0.1:\(port)",
        ])
        let (id, apiURL, tokenFile) = try waitFor("client \(name) to start (its banner in \(child.logPath))") {
            () -> (String, String, String)? in
            guard let id = child.banner("client id ") else { return nil }
            var url = child.banner("api ") ?? "http://127.0.0.1:\(port)"
            if url.hasSuffix(":0") { url = "http://127.0.0.1:\(port)" }
            let tokenFile = child.banner("token ") ?? data + "/api.token"
            guard FileManager.default.fileExists(atPath: tokenFile) else { return nil }
            return (id.trimmingCharacters(in: .whitespaces), url.trimmingCharacters(in: .whitespaces),
                    tokenFile.trimmingCharacters(in: .whitespaces))
        }
        let token = try waitFor("\(tokenFile) to hold a token") { () -> String? in
            let text = (try? String(contentsOfFile: tokenFile, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
            return text?.isEmpty == false ? text : nil
        }
        clients.append(Client(name: name, apiURL: apiURL, tokenFile: tokenFile, dataDirectory: data, id: id,
                              api: try api(apiURL, token: token)))
    }

    /// Waits until the client can make an invite (it holds a verified directory) that names
    /// its mailbox relays (two, the default `mailbox_relays`, or every relay when fewer).
    private func waitForInvite(_ client: Client) throws(DevnetError) {
        progress("waiting for \(client.name) to verify the directory and register its mailboxes")
        let wanted = min(2, relays.count)
        try waitFor("\(client.name)'s GET /v1/invite to name \(wanted) mailbox relays (a verified directory)") { () throws -> Bool? in
            let body = try client.api.call("GET", "/v1/invite")
            let mailboxes = (try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])?["mailboxes"] as? [Any]
            return (mailboxes?.count ?? 0) >= wanted ? true : nil
        }
    }

    /// `first` adds `second` from its invite; waits until `second` lists `first`, named right.
    private func introduce(_ first: Client, to second: Client) throws(DevnetError) {
        progress("introducing \(first.name) and \(second.name)")
        let invite = try waitFor("\(second.name)'s invite") { () throws -> String? in
            let body = try second.api.call("GET", "/v1/invite")
            return (try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])?["uri"] as? String
        }
        do {
            try first.api.call("POST", "/v1/contacts", json: ["invite": invite, "name": second.name])
        } catch .api(409, _, _) {
            // Already contacts (a --dir reused from an earlier run).
        } catch {
            throw .requestFailed(what: "\(first.name): POST /v1/contacts with \(second.name)'s invite", error: error)
        }
        let contact = try waitFor("\(second.name) to list \(first.name) as a contact (the session set-up to arrive)") {
            () throws -> [String: Any]? in
            let body = try second.api.call("GET", "/v1/contacts")
            let list = (try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])?["contacts"] as? [[String: Any]]
            return list?.first { $0["id"] as? String == first.id }
        }
        if contact["name"] as? String != first.name {
            do {
                try second.api.call("PUT", "/v1/contacts/\(first.id)", json: ["name": first.name])
            } catch {
                throw .requestFailed(what: "\(second.name): renaming its contact \(first.id.prefix(16)) to \(first.name)", error: error)
            }
        }
    }

    // MARK: Running

    /// Throws ``DevnetError/childExited(name:how:log:tail:)`` if any child has ended.
    public func checkChildren() throws(DevnetError) {
        for child in children {
            if let end = child.poll() {
                throw .childExited(name: child.name, how: end.description, log: child.logPath, tail: child.logTail())
            }
        }
    }

    /// Stops every child: clients first, then relays; SIGTERM, then SIGKILL after
    /// ``DevnetOptions/stopTimeout``. Idempotent.
    public func stop() {
        let clientNames = Set(options.clientNames)
        let (clientChildren, relayChildren) = (children.filter { clientNames.contains($0.name) },
                                               children.filter { !clientNames.contains($0.name) })
        for group in [clientChildren, relayChildren] where group.contains(where: \.isRunning) {
            group.forEach { $0.send(SIGTERM) }
            let deadline = ContinuousClock.now.advanced(by: .milliseconds(Int64(options.stopTimeout * 1000)))
            while group.contains(where: \.isRunning), ContinuousClock.now < deadline {
                Self.pause()
            }
            for child in group where child.isRunning {
                kill(child.pid, SIGKILL)
                while child.isRunning { Self.pause() }
            }
        }
    }

    /// Removes ``directory`` (when it is temporary, or the caller wants its data gone).
    public func removeDirectory() {
        guard !directory.isEmpty else { return }
        try? FileManager.default.removeItem(atPath: directory)
    }

    // MARK: Plumbing

    /// Polls `attempt` every 50 ms until it returns a value; the deadline is the stage timeout.
    /// A dead child or an interruption ends the wait at once.
    @discardableResult
    func waitFor<T>(_ what: String, _ attempt: () throws -> T?) throws(DevnetError) -> T {
        let deadline = ContinuousClock.now.advanced(by: .milliseconds(Int64(options.stageTimeout * 1000)))
        var problem: String?
        while true {
            if interrupted() { throw .interrupted }
            try checkChildren()
            do {
                if let value = try attempt() { return value }
            } catch {
                problem = "\(error)"
            }
            guard ContinuousClock.now < deadline else { throw .timedOut(waitingFor: what, seconds: options.stageTimeout, lastProblem: problem) }
            Self.pause()
        }
    }

    static func pause() {
        usleep(50_000)
    }

    private func api(_ url: String, token: String?) throws(DevnetError) -> APIClient {
        do {
            return try APIClient(baseURL: url, token: token, timeout: 10)
        } catch {
            throw .requestFailed(what: "the API at \(url)", error: error)
        }
    }

    /// A YAML single-quoted scalar.
    static func yaml(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "''") + "'"
    }
}
