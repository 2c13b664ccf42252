import Foundation
public import Glibc
public import SecIRCAPI
import SecIRCNode
import SecIRCRuntime

/// A secIRC network on this machine, as real processes: relays (the first ring, and relays
/// that trust it, like scripts/mesh.sh) and client daemons that have become each other's
/// contacts. `secirc devnet` runs one, and so do the integration tests and `secirc-bench`.
///
/// ``start()`` starts the whole network of ``DevnetOptions``; ``startRelay(_:trusting:)``,
/// ``waitForDirectory()``, ``startClient(_:coverTraffic:)``, ``waitForInvite(_:)`` and
/// ``introduce(_:to:)`` are its steps, for a network of another shape. Each writes the
/// configuration, starts the process and waits until it is ready.
///
/// Everything listens on 127.0.0.1: relays on ports the kernel picks (read from their start-up
/// banners), client APIs on free ports. Configuration, data and logs are in ``directory``: one
/// subdirectory per process, and `<name>.log` with its stdout and stderr. Every wait has a
/// deadline and notices a child that died. Not for concurrent use: one thread starts, checks
/// and stops it (the ``Client/api`` values may be used anywhere).
public final class Devnet {
    /// A relay of the network.
    public struct Relay: Sendable {
        public var name: String
        /// Its HTTP base URL (`https://` with ``DevnetOptions/selfSignedTLS``).
        public var http: String
        /// Its HTTP port.
        public var httpPort: UInt16
        /// Its UDP address, host:port.
        public var udp: String
        /// Its configuration directory: server.yaml, security.yaml and data/.
        public var directory: String
        public var dataDirectory: String
        public var adminTokenFile: String
        /// Its stdout and stderr.
        public var logPath: String
        /// Ed25519 identity key (hex), from its `/v1/relay`; empty for a relay serving HTTPS.
        public var identityKey: String
        /// With HTTPS, the SHA-256 pin (base64) of its key, from its banner; empty otherwise.
        public var tlsPin = ""

        /// What clients bootstrap from: ``http``, with the pin when it serves HTTPS.
        public var bootstrapURL: String { tlsPin.isEmpty ? http : http + "/#spki=" + tlsPin }
    }

    /// A client daemon of the network.
    public struct Client: Sendable {
        public var name: String
        /// Its API base URL.
        public var apiURL: String
        public var tokenFile: String
        /// Its configuration directory: client.yaml, security.yaml and data/.
        public var directory: String
        public var dataDirectory: String
        /// Its stdout and stderr.
        public var logPath: String
        /// Its id (what its contacts know it by).
        public var id: String
        /// A client of its API, with its token.
        public var api: APIClient
    }

    /// A process of the network, and how to start it again.
    private struct Daemon {
        var name: String
        var isClient: Bool
        var executable: String
        var arguments: [String]
        /// nil once stopped on purpose.
        var child: ChildProcess?
    }

    /// How the network is laid out.
    public let options: DevnetOptions
    /// Where everything is (``DevnetOptions/directory`` or a new temporary directory); empty
    /// until the first process is started.
    public private(set) var directory = ""
    /// The relays started, in order (the first is the first ring of ``start()``).
    public private(set) var relays: [Relay] = []
    /// The first ring: the relay started trusting nobody, or the members ``startRing(_:)`` made.
    public private(set) var ring: [Relay] = []
    /// The clients started, in order.
    public private(set) var clients: [Client] = []
    /// True when ``directory`` was made for this network (nothing of the user's is in it).
    public private(set) var directoryIsTemporary = false

    private var daemons: [Daemon] = []
    let progress: (String) -> Void
    let interrupted: () -> Bool

    /// `progress` receives one line per step; `interrupted` is polled by every wait (true ends
    /// it with ``DevnetError/interrupted``).
    public init(options: DevnetOptions, progress: @escaping (String) -> Void = { _ in },
                interrupted: @escaping () -> Bool = { false }) {
        self.options = options
        self.progress = progress
        self.interrupted = interrupted
    }

    deinit { stop() }

    /// The relay named `name`.
    public func relay(_ name: String) -> Relay? {
        relays.first { $0.name == name }
    }

    /// The client named `name`.
    public func client(_ name: String) -> Client? {
        clients.first { $0.name == name }
    }

    private var relayBinary: String { options.binDirectory + "/secirc-relay" }
    private var clientBinary: String { options.binDirectory + "/secirc-client" }

    // MARK: Start

    /// Starts ``DevnetOptions/relayNames`` (the first is the first ring) and waits for their
    /// directory, then ``DevnetOptions/clientNames``, and introduces every pair of clients. On
    /// failure the children started so far keep running until ``stop()`` (their logs explain).
    public func start() throws(DevnetError) {
        for binary in [relayBinary, clientBinary] where !FileManager.default.isExecutableFile(atPath: binary) {
            throw .missingExecutable(path: binary)
        }
        try prepareDirectory()
        guard let firstName = options.relayNames.first else { throw .cannotPrepare(path: directory, reason: "no relays") }

        if options.ringSize > 1 {
            let ring = try startRing(Array(options.relayNames.prefix(options.ringSize)))
            for name in options.relayNames.dropFirst(options.ringSize) { _ = try startRelay(name, trustingRing: ring) }
        } else {
            let first = try startRelay(firstName, trusting: nil)
            for name in options.relayNames.dropFirst() { _ = try startRelay(name, trusting: first) }
        }
        try waitForDirectory()

        for name in options.clientNames {
            _ = try startClient(name)
        }
        for client in clients {
            try waitForInvite(client)
        }
        for i in clients.indices {
            for j in clients.indices where j > i {
                try introduce(clients[i], to: clients[j])
            }
        }
    }

    private func prepareDirectory() throws(DevnetError) {
        guard directory.isEmpty else { return }
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

    private func logPath(_ name: String) -> String { directory + "/\(name).log" }

    /// Starts `executable` as the process `name` (a fresh log on its first start, appended to
    /// on a restart).
    private func spawn(_ name: String, executable: String, arguments: [String], fresh: Bool) throws(DevnetError) -> ChildProcess {
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("SECIRC_") }
        environment["SECIRC_DEVNET"] = directory
        let command = options.commandPrefix + [executable] + arguments
        do {
            if fresh { try? FileManager.default.removeItem(atPath: logPath(name)) }
            return try ChildProcess(name: name, executable: command[0], arguments: Array(command.dropFirst()),
                                    environment: environment, logPath: logPath(name))
        } catch {
            throw .cannotStart(name: name, reason: error.description)
        }
    }

    /// Writes the configuration of relay `name` and starts it: the first ring when `firstRing`
    /// is nil, else trusting `firstRing`. Returns once it has said where it listens and (unless
    /// it serves HTTPS) answered `GET /v1/relay`.
    @discardableResult
    public func startRelay(_ name: String, trusting firstRing: Relay?) throws(DevnetError) -> Relay {
        let relay = try startRelay(name, trustingRing: firstRing.map { [$0] } ?? [])
        if firstRing == nil, ring.isEmpty { ring = [relay] }
        return relay
    }

    /// Relay `name`, trusting the first ring `members` (none: it is the first ring alone).
    @discardableResult
    public func startRelay(_ name: String, trustingRing members: [Relay]) throws(DevnetError) -> Relay {
        guard FileManager.default.isExecutableFile(atPath: relayBinary) else { throw .missingExecutable(path: relayBinary) }
        try prepareDirectory()
        let base = directory + "/" + name
        let data = base + "/data"
        progress("starting relay \(name)" + (members.isEmpty ? " (first ring)" : " (trusting \(members.map(\.name).joined(separator: ", ")))"))
        try write(serverYAML(name, data: data), to: base + "/server.yaml")
        try write(securityYAML(ring: members), to: base + "/security.yaml")
        let arguments = ["--config", base + "/server.yaml", "--security", base + "/security.yaml"]
        let child = try spawn(name, executable: relayBinary, arguments: arguments, fresh: true)
        daemons.append(Daemon(name: name, isClient: false, executable: relayBinary, arguments: arguments, child: child))
        return try relayStarted(name, child: child, base: base, data: data)
    }

    /// A first ring of `names.count` members (threshold: a majority): each member's ports are
    /// chosen and its identity (and with ``DevnetOptions/selfSignedTLS`` its HTTPS key, whose
    /// pin its URL carries) made first (`secirc-relay --print-identity`), so every member's
    /// security.yaml lists them all before any starts.
    @discardableResult
    public func startRing(_ names: [String]) throws(DevnetError) -> [Relay] {
        guard FileManager.default.isExecutableFile(atPath: relayBinary) else { throw .missingExecutable(path: relayBinary) }
        try prepareDirectory()
        var planned: [(name: String, base: String, data: String, key: String, udp: UInt16, http: String, httpPort: UInt16)] = []
        for name in names {
            let base = directory + "/" + name, data = base + "/data"
            let udp: UInt16, httpPort: UInt16
            do { (udp, httpPort) = (try FreePort.udp(), try FreePort.tcp()) } catch {
                throw .cannotStart(name: name, reason: "no free port: \(error)")
            }
            try write(serverYAML(name, data: data, udp: "127.0.0.1:\(udp)", http: "127.0.0.1:\(httpPort)"), to: base + "/server.yaml")
            let identity = try spawn(name + "-identity", executable: relayBinary,
                                     arguments: ["--config", base + "/server.yaml", "--print-identity"], fresh: true)
            guard identity.wait(timeout: options.stageTimeout) == .exited(0), let key = identity.banner("identity_key ") else {
                throw .cannotStart(name: name, reason: "secirc-relay --print-identity failed: \(identity.logTail())")
            }
            var http = "http://127.0.0.1:\(httpPort)"
            if options.selfSignedTLS {
                guard let pin = identity.banner("tls spki pin ") else {
                    throw .cannotStart(name: name, reason: "secirc-relay --print-identity printed no TLS pin: \(identity.logTail())")
                }
                http = "https://127.0.0.1:\(httpPort)/#spki=\(pin)"
            }
            planned.append((name, base, data, key, udp, http, httpPort))
        }
        let members = planned.map { "    - {public_key: \($0.key), udp: \(Self.yaml("127.0.0.1:\($0.udp)")), http: \(Self.yaml($0.http))}" }
        var started: [Relay] = []
        for plan in planned {
            progress("starting relay \(plan.name) (first ring of \(names.count))")
            try write(securityYAML(members: members), to: plan.base + "/security.yaml")
            let arguments = ["--config", plan.base + "/server.yaml", "--security", plan.base + "/security.yaml"]
            let child = try spawn(plan.name, executable: relayBinary, arguments: arguments, fresh: true)
            daemons.append(Daemon(name: plan.name, isClient: false, executable: relayBinary, arguments: arguments, child: child))
            started.append(try relayStarted(plan.name, child: child, base: plan.base, data: plan.data))
        }
        ring = started
        return started
    }

    /// Waits for a started relay's banner (and, over HTTP, its `/v1/relay`) and records it.
    private func relayStarted(_ name: String, child: ChildProcess, base: String, data: String) throws(DevnetError) -> Relay {
        let (udp, httpPort) = try waitForRelayBanner(child)
        let scheme = options.selfSignedTLS ? "https" : "http"
        let http = "\(scheme)://127.0.0.1:\(httpPort)"
        let pin = child.banner("tls spki pin ") ?? ""
        let identityKey = try waitFor("relay \(name)'s \(http)/v1/relay") { () throws -> String? in
            let answer = try relayGET(http, pin: pin, "/v1/relay")
            guard answer.status == 200 else { return nil }
            return (try JSONSerialization.jsonObject(with: Data(answer.body)) as? [String: Any])?["identity_key"] as? String
        }
        let relay = Relay(name: name, http: http, httpPort: httpPort, udp: udp, directory: base, dataDirectory: data,
                          adminTokenFile: data + "/admin.token", logPath: logPath(name), identityKey: identityKey, tlsPin: pin)
        relays.append(relay)
        return relay
    }

    private func waitForRelayBanner(_ child: ChildProcess) throws(DevnetError) -> (udp: String, httpPort: UInt16) {
        try waitFor("relay \(child.name) to start (its banner in \(child.logPath))") { () -> (String, UInt16)? in
            guard let udp = child.banner("udp "), let port = child.banner("http port ").flatMap(UInt16.init) else { return nil }
            return (udp, port)
        }
    }

    func serverYAML(_ name: String, data: String, udp udpListen: String = "127.0.0.1:0", http httpListen: String = "127.0.0.1:0") -> String {
        var udp = "listen: \"\(udpListen)\""
        if let queue = options.relayQueuePackets { udp += ", queue_packets: \(queue)" }
        if let workers = options.relayWorkers { udp += ", workers: \(workers)" }
        var text = """
            # secirc devnet: relay \(name)
            relay: {name: \(Self.yaml(name)), data_dir: \(Self.yaml(data))}
            udp: {\(udp)}
            http: {listen: "\(httpListen)"\(options.selfSignedTLS ? ", tls: self_signed" : "")}
            directory: {period_seconds: \(options.directoryPeriodSeconds)}

            """
        var keys: [String] = []
        if let rotation = options.keyRotationSeconds { keys.append("rotation_seconds: \(rotation)") }
        if let grace = options.keyGraceSeconds { keys.append("grace_seconds: \(grace)") }
        if !keys.isEmpty { text += "keys: {\(keys.joined(separator: ", "))}\n" }
        if let level = options.relayLogLevel { text += "log: {level: \(Self.yaml(level))}\n" }
        return text
    }

    func securityYAML(ring: [Relay]) -> String {
        securityYAML(members: ring.map { "    - {public_key: \($0.identityKey), udp: \(Self.yaml($0.udp)), http: \(Self.yaml($0.bootstrapURL))}" })
    }

    /// `members`: one YAML line each (none: this relay is the first ring alone).
    func securityYAML(members: [String]) -> String {
        var text = "# secirc devnet\nfirst_ring:\n"
        text += members.isEmpty ? "  members: []\n" : "  members:\n" + members.joined(separator: "\n") + "\n"
        let network = [options.meanDelayMilliseconds.map { "mean_delay_ms: \($0)" }, options.coverRatePerSecond.map { "cover_rate_per_s: \($0)" },
                       options.loopRatePerSecond.map { "loop_rate_per_s: \($0)" },
                       options.relayCoverRatePerSecond.map { "relay_cover_rate_per_s: \($0)" }]
            .compactMap { $0 }
        if !network.isEmpty { text += "network: {\(network.joined(separator: ", "))}\n" }
        if !options.admission.isEmpty {
            text += "admission: {\(options.admission.map { "\($0.key): \($0.value)" }.joined(separator: ", "))}\n"
        }
        return text
    }

    /// Waits until every relay is ready and holds a directory listing all of them.
    public func waitForDirectory() throws(DevnetError) {
        try waitForDirectory(listing: relays.count)
    }

    /// Waits until every relay is ready and holds a directory listing `count` relays (more than
    /// ``relays`` when something else, like a benchmark's sink, has joined).
    public func waitForDirectory(listing count: Int) throws(DevnetError) {
        progress("waiting for a directory of \(count) relays")
        for relay in relays {
            try waitFor("relay \(relay.name) to be ready with all \(count) relays in its directory") { () throws -> Bool? in
                guard try relayGET(relay.http, pin: relay.tlsPin, "/readyz").status == 200 else { return nil }
                let answer = try relayGET(relay.http, pin: relay.tlsPin, "/v1/relays")
                guard answer.status == 200 else { return nil }
                let listed = ((try JSONSerialization.jsonObject(with: Data(answer.body)) as? [String: Any])?["relays"] as? [Any])?.count
                return listed == count ? true : nil
            }
        }
    }

    /// Writes the configuration of client `name` (bootstrapping from every relay, trusting the
    /// first as the first ring; `coverTraffic` overrides ``DevnetOptions/coverTraffic``) and
    /// starts it. Returns once it has said who it is and its API token is written.
    @discardableResult
    public func startClient(_ name: String, coverTraffic: String? = nil) throws(DevnetError) -> Client {
        guard FileManager.default.isExecutableFile(atPath: clientBinary) else { throw .missingExecutable(path: clientBinary) }
        guard !ring.isEmpty || !relays.isEmpty else { throw .cannotStart(name: name, reason: "no relays") }
        let ring = self.ring.isEmpty ? [relays[0]] : self.ring
        let base = directory + "/" + name
        let data = base + "/data"
        progress("starting client \(name)")
        let port: UInt16
        do { port = try FreePort.tcp() } catch { throw .cannotStart(name: name, reason: "no free port: \(error)") }
        let bootstrap = relays.map { Self.yaml($0.bootstrapURL) }.joined(separator: ", ")
        try write("""
            # secirc devnet: client \(name)
            client: {data_dir: \(Self.yaml(data)), display_name: \(Self.yaml(name))}
            api: {listen: "127.0.0.1:\(port)"}
            network:
              bootstrap_urls: [\(bootstrap)]
              path_length: \(options.pathLength)
              cover_traffic: \(Self.yaml(coverTraffic ?? options.coverTraffic))
              poll_interval_ms: \(options.pollIntervalMilliseconds)
              push: \(options.push)
            contacts: {auto_accept: \(options.autoAccept)}
            messages: {retry_initial_seconds: \(options.retryInitialSeconds), retry_max_seconds: \(options.retryMaxSeconds)}

            """, to: base + "/client.yaml")
        try write(securityYAML(ring: ring), to: base + "/security.yaml")
        let arguments = [
            "--config", base + "/client.yaml", "--security", base + "/security.yaml",
            "--data-dir", data, "--api-listen", "127.0.0.1:\(port)",
        ]
        let child = try spawn(name, executable: clientBinary, arguments: arguments, fresh: true)
        daemons.append(Daemon(name: name, isClient: true, executable: clientBinary, arguments: arguments, child: child))
        let (id, apiURL, tokenFile) = try waitForClientBanner(child, port: port, data: data)
        let token = try waitFor("\(tokenFile) to hold a token") { () -> String? in
            let text = (try? String(contentsOfFile: tokenFile, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
            return text?.isEmpty == false ? text : nil
        }
        let client = Client(name: name, apiURL: apiURL, tokenFile: tokenFile, directory: base, dataDirectory: data,
                            logPath: logPath(name), id: id, api: try api(apiURL, token: token))
        clients.append(client)
        return client
    }

    private func waitForClientBanner(_ child: ChildProcess, port: UInt16, data: String) throws(DevnetError)
        -> (id: String, apiURL: String, tokenFile: String) {
        try waitFor("client \(child.name) to start (its banner in \(child.logPath))") { () -> (String, String, String)? in
            guard let id = child.banner("client id ") else { return nil }
            var url = child.banner("api ") ?? "http://127.0.0.1:\(port)"
            if url.hasSuffix(":0") { url = "http://127.0.0.1:\(port)" }
            let tokenFile = child.banner("token ") ?? data + "/api.token"
            guard FileManager.default.fileExists(atPath: tokenFile) else { return nil }
            return (id.trimmingCharacters(in: .whitespaces), url.trimmingCharacters(in: .whitespaces),
                    tokenFile.trimmingCharacters(in: .whitespaces))
        }
    }

    /// Waits until the client can make an invite (it holds a verified directory) that names
    /// its mailbox relays (two, the default `mailbox_relays`, or every relay when fewer).
    public func waitForInvite(_ client: Client) throws(DevnetError) {
        progress("waiting for \(client.name) to verify the directory and register its mailboxes")
        let wanted = min(2, relays.count)
        try waitFor("\(client.name)'s GET /v1/invite to name \(wanted) mailbox relays (a verified directory)") { () throws -> Bool? in
            try client.api.decode(InviteResponse.self, "/v1/invite").mailboxes.count >= wanted ? true : nil
        }
    }

    /// `first` adds `second` from its invite; waits until `second` lists `first` (accepting its
    /// contact request when `second` does not accept them by itself), named right.
    public func introduce(_ first: Client, to second: Client) throws(DevnetError) {
        progress("introducing \(first.name) and \(second.name)")
        let invite = try waitFor("\(second.name)'s invite") { () throws -> String? in
            try second.api.decode(InviteResponse.self, "/v1/invite").uri
        }
        do {
            try first.api.call("POST", "/v1/contacts", json: AddContactRequest(invite: invite, name: second.name))
        } catch .api(409, _, _) {
            // Already contacts (a --dir reused from an earlier run).
        } catch {
            throw .requestFailed(what: "\(first.name): POST /v1/contacts with \(second.name)'s invite", error: error)
        }
        let contact = try waitFor("\(second.name) to list \(first.name) as a contact (the session set-up to arrive)") {
            () throws -> Contact? in
            try second.api.decode(ContactList.self, "/v1/contacts").contacts.first { $0.id == first.id }
        }
        if contact.state == "requested" {
            do {
                try second.api.call("POST", "/v1/contacts/\(first.id)/accept")
            } catch {
                throw .requestFailed(what: "\(second.name): accepting \(first.name)'s contact request", error: error)
            }
        }
        if contact.name != first.name {
            do {
                try second.api.call("PUT", "/v1/contacts/\(first.id)", json: RenameContactRequest(name: first.name))
            } catch {
                throw .requestFailed(what: "\(second.name): renaming its contact \(first.id.prefix(16)) to \(first.name)", error: error)
            }
        }
    }

    // MARK: Running

    /// Throws ``DevnetError/childExited(name:how:log:tail:)`` if a child has ended (other than
    /// by ``stop(_:signal:)``).
    public func checkChildren() throws(DevnetError) {
        for daemon in daemons {
            if let child = daemon.child, let end = child.poll() {
                throw .childExited(name: child.name, how: end.description, log: child.logPath, tail: child.logTail())
            }
        }
    }

    /// True while the process `name` runs.
    public func isRunning(_ name: String) -> Bool {
        daemons.first { $0.name == name }?.child?.isRunning ?? false
    }

    /// The process id of `name` while it runs.
    public func pid(of name: String) -> pid_t? {
        daemons.first { $0.name == name && $0.child?.isRunning == true }?.child?.pid
    }

    /// Stops the process `name` with `signal` (SIGKILL after ``DevnetOptions/stopTimeout``);
    /// how it ended, nil if it was not running. ``restart(_:)`` starts it again.
    @discardableResult
    public func stop(_ name: String, signal: Int32 = SIGTERM) -> ChildProcess.Termination? {
        guard let index = daemons.firstIndex(where: { $0.name == name }), let child = daemons[index].child else { return nil }
        daemons[index].child = nil
        return child.stop(signal: signal, timeout: options.stopTimeout)
    }

    /// Stops the process `name` if it runs and starts it again with the same configuration,
    /// data and ports (a relay's data plane loses what it held in memory; its keys stay).
    /// Returns once it has printed its banner again.
    public func restart(_ name: String) throws(DevnetError) {
        guard let index = daemons.firstIndex(where: { $0.name == name }) else {
            throw .cannotStart(name: name, reason: "no such process in this devnet")
        }
        stop(name)
        var daemon = daemons[index]
        progress("restarting \(name)")
        if let relay = relay(name) {
            daemon.arguments += ["--udp-listen", relay.udp, "--http-listen", "127.0.0.1:\(relay.httpPort)"]
        }
        let child = try spawn(name, executable: daemon.executable, arguments: daemon.arguments, fresh: false)
        daemons[index].child = child
        if daemon.isClient, let client = client(name) {
            _ = try waitForClientBanner(child, port: client.api.port, data: client.dataDirectory)
        } else {
            _ = try waitForRelayBanner(child)
        }
    }

    /// Stops every child: clients first, then relays; SIGTERM, then SIGKILL after
    /// ``DevnetOptions/stopTimeout``. Idempotent.
    public func stop() {
        let running = daemons.compactMap { daemon in daemon.child.map { (daemon.isClient, $0) } }
        for i in daemons.indices { daemons[i].child = nil }
        for group in [running.filter(\.0).map(\.1), running.filter { !$0.0 }.map(\.1)] where group.contains(where: \.isRunning) {
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

    /// `GET path` on a relay's API: plain HTTP, or HTTPS through libcurl checking the relay's
    /// key against `pin` (its self-signed certificate is trusted for that key alone).
    func relayGET(_ base: String, pin: String, _ path: String) throws -> (status: Int, body: [UInt8]) {
        guard base.hasPrefix("https://") else {
            let answer = try api(base, token: nil).send("GET", path)
            return (answer.status, answer.body)
        }
        let response = HTTPFetcher.exchange(FetchRequest(id: 0, method: .get, url: base + path + (pin.isEmpty ? "" : "#spki=" + pin),
                                                         timeout: .seconds(10)))
        guard let status = response.status else {
            throw DevnetError.requestFailed(what: "GET \(base)\(path)",
                                            error: .connection(url: base, reason: response.failure.map { "\($0)" } ?? "no answer"))
        }
        return (status, response.body)
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
