import Foundation
public import Logging
internal import SecIRCConfig
import SecIRCCore
public import SecIRCCrypto
internal import SecIRCHTTP
import SecIRCLock
public import SecIRCNode
public import SecIRCRuntime
public import SecIRCTransport
import Synchronization

/// One relay process, composed: keys from the data directory, the UDP socket, the relay's
/// engine (`SecIRCNode.RelayEngine`: links, onion layer, mailboxes, directory) driven by one
/// ``NodeLoop`` thread, and the HTTP API on libmicrohttpd's threads reading what the loop
/// publishes. `start()` binds the HTTP port and starts the loop; `shutdown()` drains and stops.
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
    private let transport: any DatagramTransport
    private let http: HTTPServer
    private let tls: (HTTPTLS, fingerprint: String)?
    private let clock: any NodeClock
    private let files: RelayStateFiles
    /// The last directory installed (relays that are not first-ring members).
    private let cache: DirectoryCacheFile
    /// What the data directory held at start (onion keys; the first ring's last directory).
    private let savedKeys: OnionKeyRing.Saved?
    private let savedDirectory: SignedDocument?
    private let savedGovernance: GovernanceState?
    private let savedAdmission: AdmissionLists
    private let replayTags: ReplayTagFiles
    /// The replay tags saved for the restored epochs.
    private let savedTags: [UInt32: [ReplayFilter.Tag]]
    private let control = Control()
    private let shutdownStarted = Atomic<Bool>(false)
    private let finished = Locked<(done: Bool, waiting: [CheckedContinuation<Void, Never>])>((false, []))

    /// Loads or creates the keys in the data directory and binds the UDP socket (or uses
    /// `transport`, e.g. an in-memory network in tests). Throws with a message for the operator
    /// when something is in the way (address in use, bad key file).
    public init(settings: RelaySettings, logLevel: LogLevelControl, logger: Logger, clock: any NodeClock = SystemClock(),
                transport: (any DatagramTransport)? = nil) throws {
        self.settings = settings
        self.logLevel = logLevel
        self.logger = logger
        self.clock = clock
        let server = settings.server
        var rng = SystemRandom()
        identity = try RelayIdentity.loadOrCreate(dataDirectory: server.relay.dataDirectory, using: &rng)
        linkKey = try LinkKey.loadOrCreate(dataDirectory: server.relay.dataDirectory, using: &rng)
        let adminToken = try HTTPBearerToken.loadOrCreate(path: server.relay.dataDirectory + "/admin.token")
        files = RelayStateFiles(dataDirectory: server.relay.dataDirectory)
        cache = DirectoryCacheFile(dataDirectory: server.relay.dataDirectory)
        savedKeys = try files.loadOnionKeys()
        savedDirectory = try files.loadDirectory()
        savedGovernance = try files.loadGovernance()
        savedAdmission = try files.loadAdmission()
        replayTags = ReplayTagFiles(dataDirectory: server.relay.dataDirectory)
        let restoredEpochs = savedKeys.map { saved in
            Set([saved.current.epoch, saved.next.epoch] + (saved.previous.map { [$0.key.epoch] } ?? []))
        } ?? []
        savedTags = try replayTags.load(epochs: restoredEpochs, maximum: ReplayFilter.defaultCapacity)

        switch server.http.tls {
        case .off: tls = nil
        case .selfSigned: tls = try HTTPTLS.loadOrCreateSelfSigned(directory: server.relay.dataDirectory, commonName: "secirc-relay")
        case .files: tls = try HTTPTLS.load(certificateFile: server.http.certificateFile, keyFile: server.http.keyFile)
        }

        self.transport = try transport ?? UDPTransport(
            bind: SocketAddress(host: server.udp.listen.host, port: server.udp.listen.port),
            receiveBufferBytes: server.udp.socketBufferBytes, sendBufferBytes: server.udp.socketBufferBytes)
        udpAddress = self.transport.localAddress
        let trusted = try Self.trustedRoster(settings: settings, identity: identity)
        let isAuthority = trusted.keys.contains(identity.signingKey.publicKey)
        let tlsPin = try tls.map { try SelfSignedCertificate.spkiPin(ofPEM: $0.0.certificatePEM) }
        state = RelayState(relayID: identity.id, trustedRoster: trusted, isAuthority: isAuthority, tlsFingerprint: tls?.fingerprint,
                           tlsPin: tlsPin)

        var httpConfiguration = HTTPServerConfiguration(host: server.http.listen.host, port: server.http.listen.port)
        httpConfiguration.threads = server.http.threads
        httpConfiguration.maxBodyBytes = server.http.maxBodyBytes
        // A ring member's vote carries every descriptor it accepts: as large as a directory may be.
        httpConfiguration.bodyLimits = ["/v1/ring/votes": max(SignedDocument.maximumEncodedLength, server.http.maxBodyBytes)]
        httpConfiguration.maxConnections = server.http.maxConnections
        httpConfiguration.maxConnectionsPerIP = server.http.maxConnectionsPerIP
        httpConfiguration.headerTimeoutSeconds = server.http.headerTimeoutSeconds
        httpConfiguration.tls = tls?.0
        let control = self.control
        let admission = settings.security.admission
        let routes = RelayRoutes(
            state: state, metrics: metrics, settings: settings, adminToken: adminToken, logLevel: logLevel,
            perform: { command in control.loop.withLock { $0 }?.perform(command, timeout: .seconds(5)) },
            clock: clock, drain: { control.drain.withLock { $0 }?() },
            uploads: UploadLimiter(perMinute: admission.uploadsPerMinute, burst: admission.uploadBurst))
        let metrics = self.metrics
        http = HTTPServer(configuration: httpConfiguration, router: routes.router(), metrics: { metrics.countHTTP(status: $0) })
        metrics.readHTTPLimits { [weak http] in http?.limitCounters ?? HTTPLimitCounters() }
        control.drain.withLock { $0 = { [weak self] in self?.shutdown() } }
    }

    /// The HTTP port actually bound.
    public var httpPort: UInt16 { http.boundPort }

    /// With HTTPS, the SHA-256 pin (base64) of its key, for bootstrap URLs:
    /// `https://host:port/#spki=<pin>`.
    public var tlsPin: String? { state.tlsPin }

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
        if roster.members.count > 1, roster.keys.contains(identity.signingKey.publicKey), settings.server.directory.periodSeconds < 4 {
            // A round: a quarter of the period (at least 1 s) to vote, the rest to sign.
            throw ConfigError(file: "server.yaml", keyPath: "directory.period_seconds",
                              message: "a member of a first ring of several needs a period of at least 4 s, not \(settings.server.directory.periodSeconds)")
        }
        return roster
    }

    /// Starts the HTTP server (its port goes into the descriptor) and the relay's loop.
    public func start() throws {
        try http.start()
        state.setUDPReady()
        let configuration = try engineConfiguration()
        var rng = SystemRandom()
        let now = clock.now()
        var engine = RelayEngine(configuration: configuration, savedKeys: savedKeys, savedTags: savedTags,
                                 governance: savedGovernance, now: now, rng: &rng)
        if engine.roster.epoch > 0 {
            logger.info("roster changes restored", metadata: ["file": "\(files.governancePath)", "epoch": "\(engine.roster.epoch)",
                                                             "members": "\(engine.roster.members.count)"])
        }
        if savedDirectory != nil, !engine.isFirstRing {
            // A member the ring removed: what it signed is history.
            logger.info("not a first-ring member: the directory it signed before is not used",
                        metadata: ["file": "\(files.directoryPath)"])
        } else if let savedDirectory {
            do {
                try engine.restore(signedDirectory: savedDirectory, now: now)
            } catch {
                throw StateFileError(path: files.directoryPath, reason: "\(error) (move it away to start again at serial 1)")
            }
        }
        if !engine.isFirstRing, let cached = try? cache.load() {
            // Only a cache: one that no longer verifies or has expired is left for the next save.
            do {
                try engine.restore(cachedDirectory: cached, now: now)
                logger.info("cached directory restored", metadata: ["file": "\(cache.path)", "serial": "\(engine.directory?.directory.serial ?? 0)"])
            } catch {
                logger.info("cached directory not used", metadata: ["file": "\(cache.path)", "reason": "\(error)"])
            }
        }
        if let savedKeys {
            logger.info("onion keys restored", metadata: ["file": "\(files.onionKeysPath)", "epoch": "\(savedKeys.current.epoch)",
                                                          "replay_tags": "\(savedTags.values.reduce(0) { $0 + $1.count })"])
        }
        if let directory = engine.latestSigned {
            logger.info("directory chain restored", metadata: ["file": "\(files.directoryPath)", "serial": "\(directory.serial)"])
        }
        let workers = settings.server.udp.effectiveWorkers
        let deliverTo = Locked<WeakLoop?>(nil)
        let pool = workers > 1 ? PeelPool(threads: workers, name: "secirc-relay-peel") { jobs in
            deliverTo.withLock { $0?.loop }?.send(.peeled(jobs))
        } : nil
        control.pool.withLock { $0 = pool }
        let publisher = Publisher(state: state, metrics: metrics, logger: logger, files: files, replayTags: replayTags, pool: pool,
                                  cache: engine.isFirstRing ? nil : cache)
        let dnsServer = settings.server.directory.dnsServer.flatMap { TXTLookup.Server(host: $0.host, port: $0.port) }
        let newLoop = NodeLoop(
            engine: engine, transport: transport, clock: clock, random: SystemRandom(), fetcher: HTTPFetcher(dnsServer: dnsServer),
            hooks: NodeLoop<RelayEngine>.Hooks(events: { publisher.events($0) }, turn: { publisher.turn($0, at: $1) }),
            batchSize: settings.server.udp.batch)
        publisher.loop.withLock { $0 = WeakLoop(newLoop) }
        deliverTo.withLock { $0 = WeakLoop(newLoop) }
        control.loop.withLock { $0 = newLoop }
        newLoop.start(name: "secirc-relay-loop")
        logger.info("relay started", metadata: [
            "id": "\(identity.id)", "udp": "\(udpAddress)", "http_port": "\(httpPort)",
            "first_ring": "\(state.isAuthority)", "workers": "\(workers)", "tls_fingerprint": "\(tls?.fingerprint ?? "none")",
            "tls_spki_pin": "\(state.tlsPin ?? "none")",
        ])
    }

    private func engineConfiguration() throws -> RelayEngine.Configuration {
        let server = settings.server
        let advertised = server.udp.advertise
            ?? HostPort(host: server.udp.listen.isWildcard ? "127.0.0.1" : server.udp.listen.host, port: udpAddress.port)
        // Descriptors carry numeric addresses only (nobody resolves a name from the directory):
        // the operator's own name is resolved here, once, before the loop starts.
        let advertisedUDP: String
        do {
            advertisedUDP = try SocketAddress(host: advertised.host, port: advertised.port).description
        } catch {
            throw ConfigError(file: "server.yaml", keyPath: "udp.advertise", message: "\(advertised): \(error)")
        }
        let scheme = tls == nil ? "http" : "https"
        let httpHost = server.http.listen.isWildcard ? "127.0.0.1" : server.http.listen.host
        // A self-signed key is pinned in the URL the descriptor publishes, so relays and clients
        // that fetch the directory from this relay as a peer (docs/PROTOCOL.md §3.7) can check it.
        let pin = server.http.tls == .selfSigned ? state.tlsPin.map { "/#spki=" + $0 } ?? "" : ""
        let publicURL = server.http.publicURL ?? "\(scheme)://\(HostPort(host: httpHost, port: httpPort))" + pin
        var configuration = RelayEngine.Configuration(
            identity: identity.signingKey, linkKey: linkKey, roster: state.trustedRoster,
            network: NetworkParameters(coverRate: settings.security.network.coverRatePerSecond,
                                       loopRate: settings.security.network.loopRatePerSecond,
                                       relayCoverRate: settings.security.network.relayCoverRatePerSecond,
                                       meanDelayMs: settings.security.network.meanDelayMilliseconds),
            directoryPeriod: .seconds(server.directory.periodSeconds), advertisedUDP: advertisedUDP, advertisedHTTP: publicURL,
            mailbox: Self.mailboxLimits(server.mailbox),
            keyPeriod: .seconds(server.keys.rotationSeconds), keyGrace: .seconds(server.keys.graceSeconds))
        configuration.bootstrapURLs = server.directory.bootstrapURLs
        configuration.ringValidity = .seconds(settings.security.firstRing.validitySeconds)
        let admission = settings.security.admission
        configuration.admission = AdmissionPolicy(
            mode: admission.mode == .allowlist ? .allowlist : .open, maxRelaysPerAddress: admission.maxRelaysPerAddress,
            maxRelaysPerPrefix: admission.maxRelaysPerPrefix, newRelaysPerPeriod: admission.newRelaysPerPeriod,
            probation: .seconds(Int64(admission.probationHours) * 3_600), recheckInterval: .seconds(Int64(admission.recheckMinutes) * 60),
            maximumCapacity: admission.maxCapacity)
        configuration.admissionLists = savedAdmission
        if !server.directory.bootstrapDNS.isEmpty {
            // A `dns:` source: the tracker looks the domain's TXT records up for more bootstrap
            // URLs. The roster's URLs stay sources when no URL is configured.
            let urls = configuration.bootstrapURLs.isEmpty ? state.trustedRoster.members.map(\.http) : configuration.bootstrapURLs
            configuration.bootstrapURLs = urls + ["dns:" + server.directory.bootstrapDNS]
        }
        configuration.delayQueueCapacity = server.udp.queuePackets
        configuration.savesReplayTags = true
        configuration.peelWorkers = server.udp.effectiveWorkers
        return configuration
    }

    /// Asks the relay to drain and stop (SIGTERM, `POST /v1/admin/drain`): it stops taking
    /// packets and handshakes, forwards what waits (10 s at most), then stops. Idempotent.
    public func shutdown() {
        guard shutdownStarted.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else { return }
        guard let loop = control.loop.withLock({ $0 }) else { return finish(loop: nil) }
        Task.detached { [self] in
            logger.info("draining")
            state.setDraining()
            // Idle only counts when a turn that began after the drain has published it.
            let mark = state.idleness.turns
            _ = loop.perform(.drain, timeout: .seconds(5))
            let deadline = ContinuousClock.now.advanced(by: .seconds(10))
            while ContinuousClock.now < deadline {
                let (idle, turns) = state.idleness
                if idle, turns &- mark >= 2 { break }
                try? await Task.sleep(for: .milliseconds(20))
            }
            finish(loop: loop)
        }
    }

    private func finish(loop: NodeLoop<RelayEngine>?) {
        loop?.stop()
        loop?.waitUntilStopped()
        control.loop.withLock { $0 = nil }
        control.pool.withLock { $0 }?.stop()
        transport.close()
        http.stop()
        logger.info("stopped")
        let waiting = finished.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.done = true
            defer { state.waiting.removeAll() }
            return state.waiting
        }
        for continuation in waiting { continuation.resume() }
    }

    /// Returns once the relay has stopped.
    public func waitUntilStopped() async {
        await withCheckedContinuation { continuation in
            let now = finished.withLock { state -> Bool in
                if state.done { return true }
                state.waiting.append(continuation)
                return false
            }
            if now { continuation.resume() }
        }
    }
}

/// What the HTTP handlers reach once the relay has started: its loop, and the drain action.
private final class Control: Sendable {
    let loop = Locked<NodeLoop<RelayEngine>?>(nil)
    /// What `POST /v1/admin/drain` calls (set once the node exists).
    let drain = Locked<(@Sendable () -> Void)?>(nil)
    /// The peel workers, when `udp.workers` > 1 (stopped after the loop).
    let pool = Locked<PeelPool?>(nil)
}

/// Carries what the relay's loop reports into the state HTTP reads, the metrics and the log,
/// on the loop thread.
private final class Publisher: Sendable {
    let state: RelayState
    let metrics: RelayMetrics
    let logger: Logger
    let files: RelayStateFiles
    let replayTags: ReplayTagFiles
    let pool: PeelPool?
    /// Where an installed directory is saved (nil for a first-ring member, which keeps what it signs).
    let cache: DirectoryCacheFile?
    let loop = Locked<WeakLoop?>(nil)
    private let lastPublish = Locked(UnixTime(nanoseconds: 0))
    /// When a failure to save replay tags was last logged (at most once a minute).
    private let lastTagError = Locked<UnixTime?>(nil)

    init(state: RelayState, metrics: RelayMetrics, logger: Logger, files: RelayStateFiles, replayTags: ReplayTagFiles,
         pool: PeelPool?, cache: DirectoryCacheFile?) {
        self.pool = pool
        self.cache = cache
        self.state = state
        self.metrics = metrics
        self.logger = logger
        self.files = files
        self.replayTags = replayTags
    }

    func events(_ events: [RelayEngine.Event]) {
        for event in events {
            switch event {
            case let .descriptorSigned(document):
                state.setDescriptor(document)
            case let .directoryInstalled(held):
                state.install(held)
                logger.debug("directory installed", metadata: ["serial": "\(held.directory.serial)", "relays": "\(held.descriptors.count)",
                                                               "channel": "\(held.channel.rawValue)"])
                if let cache, held.channel != .cache {
                    do { try cache.save(held.document) } catch {
                        logger.warning("cannot save the directory cache", metadata: ["error": "\(error)"])
                    }
                }
            case let .directoryRefused(reason):
                if case .unreachable = reason {
                    logger.debug("directory source did not answer", metadata: ["reason": "\(reason)"])
                } else {
                    logger.warning("directory refused", metadata: ["error": "\(reason)"])
                }
            case let .keysRotated(epoch):
                logger.debug("onion keys rotated", metadata: ["epoch": "\(epoch)"])
            case let .saveOnionKeys(saved):
                // A failure leaves the keys in memory only: a restart would then drop packets
                // built against them, as before there were files. Said loudly, not fatal.
                do { try files.saveOnionKeys(saved) } catch {
                    logger.error("cannot save onion keys; a restart would lose them", metadata: ["error": "\(error)"])
                }
            case let .saveReplayTags(records):
                do { try replayTags.append(records) } catch {
                    let now = UnixTime(nanoseconds: Int64(Date().timeIntervalSince1970 * 1e9))
                    let log = lastTagError.withLock { last -> Bool in
                        guard last.map({ now.duration(since: $0) >= .seconds(60) }) ?? true else { return false }
                        last = now
                        return true
                    }
                    if log {
                        logger.error("cannot save replay tags; after a restart those packets could be replayed once",
                                     metadata: ["error": "\(error)"])
                    }
                }
            case let .forgetReplayTags(epoch):
                replayTags.forget(epoch)
            case let .peel(jobs):
                pool?.submit(jobs)
            case let .equivocation(proof):
                logger.warning("a first-ring member signed two things for one round (proof: GET /v1/ring/status)",
                               metadata: ["member": "\(proof.member.rawValue.hex)", "round": "\(proof.serial)", "kind": "\(proof.kind.rawValue)"])
            case let .saveGovernance(governance):
                do { try files.saveGovernance(governance) } catch {
                    logger.error("cannot save the roster changes; a restart would follow them from the network again",
                                 metadata: ["error": "\(error)"])
                }
            case let .rosterChanged(roster):
                logger.notice("the first ring changed", metadata: [
                    "epoch": "\(roster.epoch)", "members": "\(roster.members.count)", "threshold": "\(roster.threshold)",
                ])
            case let .saveAdmission(lists):
                do { try files.saveAdmission(lists) } catch {
                    logger.error("cannot save the admission lists; a restart would lose the change", metadata: ["error": "\(error)"])
                }
            case let .saveDirectory(document):
                do { try files.saveDirectory(document) } catch {
                    logger.error("cannot save the signed directory; a restart would start its serial again",
                                 metadata: ["error": "\(error)"])
                }
            }
        }
    }

    /// After each turn: counters a few times a second, readiness for a drain, onion keys.
    func turn(_ engine: RelayEngine, at now: UnixTime) {
        let due = lastPublish.withLock { last -> Bool in
            guard now.duration(since: last) >= .milliseconds(100) || now < last else { return false }
            last = now
            return true
        }
        state.endTurn(idle: engine.isIdle)
        guard due else { return }
        var counters = engine.counters
        let notSent = loop.withLock { $0?.loop?.datagramsNotSent } ?? 0
        counters.sendFailures = notSent
        counters.datagramsSent -= notSent
        metrics.publish(counters)
        state.setOnionKeys(engine.onionKeyEntries)
        state.setRingStatus(engine.ringStatus)
        state.setGovernance(engine.governanceStatus, chain: engine.rosterChain)
    }
}

private struct WeakLoop: Sendable {
    weak var loop: NodeLoop<RelayEngine>?
    init(_ loop: NodeLoop<RelayEngine>) { self.loop = loop }
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

extension RelayNode {
    /// The mailbox store's limits from server.yaml's `mailbox` section.
    static func mailboxLimits(_ m: ServerConfig.Mailbox) -> MailboxStore.Limits {
        MailboxStore.Limits(ttl: .seconds(m.ttlSeconds), maxMessagesPerQueue: m.maxMessagesPerQueue,
                            maxMessagesPerGroup: m.maxMessagesPerGroup, maxQueuesPerMailbox: m.maxQueuesPerMailbox, maxQueues: m.maxQueues, maxMailboxes: m.maxMailboxes,
                            maxTotalBytes: m.maxTotalBytes,
                            intro: MailboxStore.Intro(maxMessages: m.introMaxMessages, perMinute: m.introPerMinute, burst: m.introBurst),
                            unclaimed: MailboxStore.Unclaimed(ttl: .seconds(m.unclaimedTTLSeconds), perLink: m.unclaimedPerLink,
                                                              total: m.unclaimedMax))
    }
}
