import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
public import Logging
internal import SecIRCConfig
public import SecIRCCore
public import SecIRCCrypto
internal import SecIRCHTTP
public import SecIRCTransport
import Synchronization

/// One relay: its keys, UDP data plane, HTTP API, and the control loop that keeps the directory
/// (signing it when this relay is the first ring, fetching it otherwise) and its own descriptor
/// current. `start()` binds and launches everything; `shutdown()` drains and stops.
public final class RelayNode: Sendable {
    public let settings: RelaySettings
    public let identity: RelayIdentity
    public let state: RelayState
    public let metrics = RelayMetrics()
    public let logLevel: LogLevelControl
    /// Where the UDP socket is bound (port resolved when 0 was asked).
    public let udpAddress: SocketAddress
    private let logger: Logger
    private let linkKey: AgreementPrivateKey
    private let transport: UDPTransport
    private let dataPlane: DataPlane
    private let http: HTTPServer
    private let adminToken: HTTPBearerToken
    private let tls: (HTTPTLS, fingerprint: String)?
    private let clock: @Sendable () -> UnixTime
    private let stopFlag = StopFlag()
    private let finished = Mutex<[CheckedContinuation<Void, Never>]>([])
    private let done = Atomic<Bool>(false)

    /// Loads or creates the keys in the data directory and binds both sockets. Throws with a
    /// message for the operator when something is in the way (address in use, bad key file).
    public init(settings: RelaySettings, logLevel: LogLevelControl, logger: Logger,
                clock: @escaping @Sendable () -> UnixTime = RelayNode.systemClock) throws {
        self.settings = settings
        self.logLevel = logLevel
        self.logger = logger
        self.clock = clock
        let server = settings.server
        var rng = SystemRandom()
        identity = try RelayIdentity.loadOrCreate(dataDirectory: server.relay.dataDirectory, using: &rng)
        linkKey = try LinkKey.loadOrCreate(dataDirectory: server.relay.dataDirectory, using: &rng)
        adminToken = try HTTPBearerToken.loadOrCreate(path: server.relay.dataDirectory + "/admin.token")

        switch server.http.tls {
        case .off: tls = nil
        case .selfSigned: tls = try HTTPTLS.loadOrCreateSelfSigned(directory: server.relay.dataDirectory, commonName: "secirc-relay")
        case .files: tls = try HTTPTLS.load(certificateFile: server.http.certificateFile, keyFile: server.http.keyFile)
        }

        transport = try UDPTransport(bind: SocketAddress(host: server.udp.listen.host, port: server.udp.listen.port),
                                     receiveBufferBytes: server.udp.socketBufferBytes, sendBufferBytes: server.udp.socketBufferBytes)
        udpAddress = transport.localAddress

        let trusted = try Self.trustedRoster(settings: settings, identity: identity)
        let isAuthority = trusted.members.count == 1 && trusted.members[0].identityKey == identity.signingKey.publicKey
        let network = NetworkParameters(coverRate: settings.security.network.coverRatePerSecond,
                                        meanDelayMs: settings.security.network.meanDelayMilliseconds)
        let authority = isAuthority
            ? DirectoryAuthority(identity: identity.signingKey, roster: trusted, network: network,
                                 period: .seconds(server.directory.periodSeconds))
            : nil
        state = RelayState(relayID: identity.id, trustedRoster: trusted, authority: authority, tlsFingerprint: tls?.fingerprint)

        var configuration = DataPlane.Configuration(
            relayID: identity.id, linkKey: linkKey,
            mailbox: MailboxStore.Limits(ttl: .seconds(server.mailbox.ttlSeconds),
                                         maxMessagesPerMailbox: server.mailbox.maxMessagesPerMailbox,
                                         maxMailboxes: server.mailbox.maxMailboxes, maxTotalBytes: server.mailbox.maxTotalBytes),
            keyPeriod: .seconds(server.keys.rotationSeconds), keyGrace: .seconds(server.keys.graceSeconds))
        configuration.batchSize = server.udp.batch
        configuration.delayQueueCapacity = server.udp.queuePackets
        let keysChanged = KeysChangedRelay()
        dataPlane = DataPlane(configuration: configuration, transport: transport, metrics: metrics, logger: logger,
                              clock: clock, keysChanged: { entries in keysChanged.fire(entries) })

        var httpConfiguration = HTTPServerConfiguration(host: server.http.listen.host, port: server.http.listen.port)
        httpConfiguration.threads = server.http.threads
        httpConfiguration.maxBodyBytes = server.http.maxBodyBytes
        httpConfiguration.tls = tls?.0
        let routes = RelayRoutes(
            state: state, metrics: metrics, settings: settings, adminToken: adminToken, logLevel: logLevel,
            commands: { [dataPlane] in dataPlane.send($0) }, onionKeys: { [dataPlane] in dataPlane.onionKeyEntries },
            clock: clock, drain: { [stopFlag] in stopFlag.set() })
        let metrics = self.metrics
        http = HTTPServer(configuration: httpConfiguration, router: routes.router(), metrics: { metrics.countHTTP(status: $0) })
        keysChanged.node.withLock { $0 = WeakNode(self) }
    }

    public static let systemClock: @Sendable () -> UnixTime = {
        var t = timespec()
        clock_gettime(CLOCK_REALTIME, &t)
        return UnixTime(nanoseconds: Int64(t.tv_sec) * 1_000_000_000 + Int64(t.tv_nsec))
    }

    /// The HTTP port actually bound.
    public var httpPort: UInt16 { http.boundPort }

    /// The roster this relay trusts: security.yaml's members, or itself alone when none are listed.
    static func trustedRoster(settings: RelaySettings, identity: RelayIdentity) throws -> Roster {
        let ring = settings.security.firstRing
        if ring.members.isEmpty {
            let server = settings.server
            return Roster(members: [Roster.Member(identityKey: identity.signingKey.publicKey,
                                                  udp: server.udp.listen.description, http: "http://\(server.http.listen)")])
        }
        let roster = Roster(members: ring.members.map { Roster.Member(identityKey: $0.publicKey, udp: $0.udp.description, http: $0.http) },
                            threshold: ring.effectiveThreshold(memberCount: ring.members.count))
        if roster.members.count > 1, roster.keys.contains(identity.signingKey.publicKey) {
            throw ConfigError(file: "security.yaml", keyPath: "first_ring.members",
                              message: "this relay is one of \(roster.members.count) members; a multi-member first ring (voting) is not supported yet: list only this relay, or leave it out")
        }
        return roster
    }

    /// Starts the HTTP server, the data-plane thread and the control loop.
    public func start() throws {
        try http.start()
        state.setUDPReady()
        publishDescriptor()
        let thread = Thread { [dataPlane] in dataPlane.run() }
        thread.name = "secirc-dataplane"
        thread.stackSize = 1 << 20
        thread.start()
        Task.detached { [self] in await controlLoop() }
        logger.info("relay started", metadata: [
            "id": "\(identity.id)", "udp": "\(udpAddress)", "http_port": "\(httpPort)",
            "first_ring": "\(state.isAuthority)", "tls_fingerprint": "\(tls?.fingerprint ?? "none")",
        ])
    }

    /// Asks the relay to drain and stop (SIGTERM, `POST /v1/admin/drain`).
    public func shutdown() { stopFlag.set() }

    /// Returns once the relay has stopped.
    public func waitUntilStopped() async {
        await withCheckedContinuation { continuation in
            let resumeNow = finished.withLock { list -> Bool in
                if done.load(ordering: .acquiring) { return true }
                list.append(continuation)
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }

    // MARK: Control loop

    private func controlLoop() async {
        let server = settings.server
        let period = Duration.seconds(server.directory.periodSeconds)
        let refresh = min(max(period / 2, .seconds(1)), .seconds(30))
        var lastSigned: UnixTime?
        var lastFetch: UnixTime?
        var uploadedVersion = -1
        var lastUpload: UnixTime?
        var lastPublished = clock()
        // Re-sign the own descriptor so its published time stays fresh for the first ring.
        let republish = min(period, .seconds(300))
        while !stopFlag.isSet {
            let now = clock()
            if now.duration(since: lastPublished) >= republish {
                lastPublished = now
                publishDescriptor()
            }
            if state.isAuthority {
                let due = lastSigned.map { now.duration(since: $0) >= period } ?? true
                if let (document, directory) = state.signDirectoryIfNeeded(now: now, force: due) {
                    lastSigned = now
                    install(document: document, now: now)
                    logger.debug("signed directory", metadata: ["serial": "\(directory.serial)", "relays": "\(directory.relays.count)"])
                }
            } else {
                // Until the directory lists this relay (just uploaded), ask every second.
                let listed = state.directory?.descriptors.contains { $0.id == identity.id } ?? false
                if lastFetch.map({ now.duration(since: $0) >= (listed ? refresh : .seconds(1)) }) ?? true {
                    lastFetch = now
                    await fetchDirectory(now: now)
                }
                let version = state.descriptorVersion
                if version != uploadedVersion || lastUpload.map({ now.duration(since: $0) >= period }) ?? true {
                    if await uploadDescriptor() {
                        uploadedVersion = version
                        lastUpload = now
                    }
                }
            }
            try? await Task.sleep(for: .milliseconds(200))
        }
        await drainAndStop()
    }

    private func drainAndStop() async {
        logger.info("draining")
        state.setDraining()
        dataPlane.send(.drain)
        let deadline = ContinuousClock.now.advanced(by: .seconds(10))
        while !dataPlane.isIdle, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        dataPlane.stop()
        http.stop()
        logger.info("stopped")
        let waiting = finished.withLock { list -> [CheckedContinuation<Void, Never>] in
            done.store(true, ordering: .releasing)
            defer { list.removeAll() }
            return list
        }
        for continuation in waiting { continuation.resume() }
    }

    /// Signs and publishes this relay's descriptor with the data plane's current onion keys.
    fileprivate func publishDescriptor() {
        let server = settings.server
        let advertise = server.udp.advertise?.description
            ?? HostPort(host: server.udp.listen.isWildcard ? "127.0.0.1" : server.udp.listen.host, port: udpAddress.port).description
        let scheme = tls == nil ? "http" : "https"
        let httpHost = server.http.listen.isWildcard ? "127.0.0.1" : server.http.listen.host
        let publicURL = server.http.publicURL ?? "\(scheme)://\(HostPort(host: httpHost, port: httpPort))"
        let descriptor = RelayDescriptor(
            identityKey: identity.signingKey.publicKey, linkKey: linkKey.publicKey, udp: advertise, http: publicURL,
            onionKeys: dataPlane.onionKeyEntries, capacity: 10_000,
            flags: state.isAuthority ? ["first_ring", "mailbox"] : ["mailbox"], published: clock().seconds)
        do {
            state.setDescriptor(try descriptor.signed(by: identity.signingKey), now: clock())
        } catch {
            logger.error("cannot sign own descriptor", metadata: ["error": "\(error)"])
        }
    }

    /// Verifies and installs a directory, and gives its relays to the data plane as peers.
    private func install(document: SignedDocument, now: UnixTime) {
        do {
            let directory = try Unverified<RelayDirectory>(document).verified(trusting: state.trustedRoster, now: now.seconds)
            guard directory.network.packetSize == PacketGeometry.standard.datagramSize,
                  directory.network.maxHops == PacketGeometry.standard.maxHops
            else { throw DirectoryError.invalid("network geometry differs from this relay's") }
            if let held = state.directory?.directory, directory.serial <= held.serial, held.validUntil > now.seconds,
               !(state.isAuthority && directory.serial == held.serial) {
                return
            }
            let descriptors = try directory.descriptors()
            state.install(document: document, directory: directory, descriptors: descriptors)
            var peers: [PeerInfo] = []
            for descriptor in descriptors where descriptor.id != identity.id {
                guard let hostPort = try? HostPort(parsing: descriptor.udp),
                      let address = try? SocketAddress(host: hostPort.host, port: hostPort.port)
                else { continue }
                peers.append(PeerInfo(id: descriptor.id, address: address, linkKey: descriptor.linkKey))
            }
            dataPlane.send(.setDirectoryPeers(peers))
        } catch {
            logger.warning("directory refused", metadata: ["error": "\(error)"])
        }
    }

    private var bootstrapURLs: [String] {
        let configured = settings.server.directory.bootstrapURLs
        return configured.isEmpty ? state.trustedRoster.members.map(\.http) : configured
    }

    private func fetchDirectory(now: UnixTime) async {
        for base in bootstrapURLs {
            guard let url = URL(string: base.trimmingSuffix("/") + "/v1/directory") else { continue }
            var request = URLRequest(url: url, timeoutInterval: 5)
            if let etag = state.directory?.etag { request.setValue(etag, forHTTPHeaderField: "If-None-Match") }
            guard let (data, response) = try? await URLSession.shared.data(for: request),
                  let status = (response as? HTTPURLResponse)?.statusCode
            else { continue }
            if status == 304 { return }
            guard status == 200, let document = try? SignedDocument.decode(json: Array(data)) else { continue }
            install(document: document, now: clock())
            return
        }
    }

    private func uploadDescriptor() async -> Bool {
        guard let descriptor = state.descriptor else { return false }
        var anyAccepted = false
        for member in state.trustedRoster.members {
            guard let url = URL(string: member.http.trimmingSuffix("/") + "/v1/descriptors") else { continue }
            var request = URLRequest(url: url, timeoutInterval: 5)
            request.httpMethod = "POST"
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.httpBody = Data(descriptor.jsonBytes())
            if let (_, response) = try? await URLSession.shared.data(for: request),
               (response as? HTTPURLResponse)?.statusCode == 202 {
                anyAccepted = true
            }
        }
        return anyAccepted
    }
}

/// A one-way flag another thread may set.
private final class StopFlag: Sendable {
    private let value = Atomic<Bool>(false)
    func set() { value.store(true, ordering: .releasing) }
    var isSet: Bool { value.load(ordering: .acquiring) }
}

/// Lets the data plane's rotation callback reach the node once it exists.
private final class KeysChangedRelay: Sendable {
    let node = Mutex<WeakNode?>(nil)
    func fire(_ entries: [RelayDescriptor.OnionKeyEntry]) {
        node.withLock { $0?.node }?.publishDescriptor()
    }
}

private struct WeakNode: Sendable {
    weak var node: RelayNode?
    init(_ node: RelayNode) { self.node = node }
}

/// The relay's X25519 link static key (Noise), `<data-dir>/link.key`, 0600, made on first start.
public enum LinkKey {
    public static let fileName = "link.key"

    public static func loadOrCreate(dataDirectory: String, using rng: inout some RandomSource) throws -> AgreementPrivateKey {
        let path = dataDirectory + "/" + fileName
        if FileManager.default.fileExists(atPath: path) {
            let secret = try KeyFile.read(path, maximumSize: 1024)
            guard secret.count == AgreementPrivateKey.byteCount else {
                throw CryptoError.keyFile(path: path, reason: "holds \(secret.count) bytes, expected a 32-byte X25519 key")
            }
            return try AgreementPrivateKey(secret: secret)
        }
        let key = AgreementPrivateKey(using: &rng)
        try KeyFile.write(key.withUnsafeScalar { SecureBytes(Array($0)) }, to: path)
        return key
    }
}

extension String {
    func trimmingSuffix(_ suffix: String) -> String {
        hasSuffix(suffix) ? String(dropLast(suffix.count)) : self
    }
}
