import Dispatch
import Foundation
public import Logging
import SecIRCConfig
import SecIRCCore
import SecIRCCrypto
import SecIRCHTTP
import SecIRCLock
public import SecIRCNode
public import SecIRCTransport
public import SecIRCRuntime
import Synchronization

/// One client daemon, composed: its store and keys (the ``Messenger``'s SQLite store), the
/// network engine (`SecIRCNode.ClientEngine`) driven by one ``NodeLoop`` thread that owns the UDP
/// socket, and the local HTTP API on libmicrohttpd's threads. `start()` launches both;
/// `shutdown()` stops them and returns when the loop is done.
public final class ClientNode: Sendable {
    public static let tokenFileName = "api.token"
    public let settings: ClientSettings
    public let messenger: Messenger
    public let network = NetworkState()
    public let events = ClientEvents()
    private let loop: NodeLoop<ClientEngine>
    private let transport: any DatagramTransport
    private let http: HTTPServer
    private let logger: Logger
    private let started = Atomic<Bool>(false)
    private let stopped = Atomic<Bool>(false)

    /// Opens (or creates) the data directory, its keys and database, and binds the UDP socket
    /// (or uses `transport`). Throws with a message for the user when something is in the way.
    public init(settings: ClientSettings, logger: Logger, clock: any NodeClock = SystemClock(),
                transport: (any DatagramTransport)? = nil) throws {
        self.settings = settings
        self.logger = logger
        let config = settings.client
        let directory = config.dataDirectory
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
        } catch {
            throw ClientError.storage("cannot create data directory \(directory): \(error.localizedDescription)")
        }
        // A directory that existed before may be open to others: it holds keys and messages.
        chmod(directory, 0o700)
        let key = try StorageKey.loadOrCreate(dataDirectory: directory, passphraseFile: config.storage.passphraseFile)
        let store = try SQLiteMessengerStore(path: directory + "/" + SQLiteMessengerStore.fileName, key: key)
        var rng = SystemRandom()
        messenger = try Messenger(store: store, displayName: config.displayName,
                                  retry: RetrySchedule(initialSeconds: config.messages.retryInitialSeconds,
                                                       maximumSeconds: config.messages.retryMaxSeconds),
                                  policy: ContactPolicy(autoAccept: config.contacts.autoAccept,
                                                        maximumPendingRequests: config.contacts.maxPendingRequests),
                                  rng: &rng)
        let token = try HTTPBearerToken.loadOrCreate(path: directory + "/" + Self.tokenFileName)
        let udp = try transport ?? UDPTransport(bind: SocketAddress(host: "0.0.0.0", port: 0))
        self.transport = udp
        var engine = ClientEngine(configuration: try Self.engineConfiguration(settings), messenger: messenger, now: clock.now(), rng: &rng)
        let rosterChanges = RosterChangesFile(dataDirectory: directory)
        if let changes = try? rosterChanges.load(), !changes.isEmpty {
            engine.restore(rosterChanges: changes)
            logger.info("roster changes restored", metadata: ["file": "\(rosterChanges.path)", "epoch": "\(engine.networkStatus.roster?.epoch ?? 0)"])
        }
        let cache = DirectoryCacheFile(dataDirectory: directory)
        if let cached = try? cache.load() {
            // Only a cache: one that no longer verifies or has expired is replaced by the next save.
            do {
                try engine.restore(cachedDirectory: cached, now: clock.now(), rng: &rng)
                logger.info("cached directory restored", metadata: ["file": "\(cache.path)"])
            } catch {
                logger.info("cached directory not used", metadata: ["file": "\(cache.path)", "reason": "\(error)"])
            }
        }
        let publisher = Publisher(network: network, events: events, logger: logger, cache: cache, rosterChanges: rosterChanges)
        loop = NodeLoop(engine: engine, transport: udp, clock: clock, random: SystemRandom(),
                        fetcher: HTTPFetcher(dnsServer: config.network.dnsServer.flatMap { TXTLookup.Server(host: $0.host, port: $0.port) }),
                        hooks: NodeLoop<ClientEngine>.Hooks(events: { publisher.events($0) }, turn: { publisher.turn($0, at: $1) }))
        let routes = ClientRoutes(messenger: messenger, network: network, events: events, settings: settings, token: token,
                                  clock: { clock.now() }, poke: { [loop] in loop.send(.outboxChanged) }, logger: logger)
        var httpConfiguration = HTTPServerConfiguration(host: config.api.listen.host, port: config.api.listen.port)
        httpConfiguration.maxBodyBytes = 65536
        httpConfiguration.maxConnections = config.api.maxConnections
        httpConfiguration.maxConnectionsPerIP = config.api.maxConnectionsPerIP
        httpConfiguration.headerTimeoutSeconds = config.api.headerTimeoutSeconds
        httpConfiguration.maxEventStreams = config.api.maxEventStreams
        http = HTTPServer(configuration: httpConfiguration, router: routes.router())
    }

    static func engineConfiguration(_ settings: ClientSettings) throws -> ClientEngine.Configuration {
        let network = settings.client.network
        // A `dns:` source: the tracker looks the domain's TXT records up for more bootstrap URLs.
        let dns = network.bootstrapDNS.isEmpty ? [] : ["dns:" + network.bootstrapDNS]
        var configuration = ClientEngine.Configuration(roster: try settings.trustedRoster(), bootstrapURLs: network.bootstrapURLs + dns)
        configuration.pathLength = network.pathLength
        configuration.mailboxRelays = network.mailboxRelays
        let cover = CoverProfile(rawValue: network.coverProfile.rawValue) ?? .balanced
        configuration.coverRateFactor = cover.rateFactor
        configuration.delayFactor = cover.delayFactor
        configuration.pollInterval = .milliseconds(network.pollIntervalMilliseconds)
        configuration.push = network.push
        configuration.pushPollInterval = .milliseconds(max(network.pushPollIntervalMilliseconds, network.pollIntervalMilliseconds))
        return configuration
    }

    /// The API port actually bound.
    public var apiPort: UInt16 { http.boundPort }

    public var tokenPath: String { settings.client.dataDirectory + "/" + Self.tokenFileName }

    /// Starts the API and the loop; a second call does nothing.
    public func start() throws {
        guard started.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else { return }
        try http.start()
        loop.start(name: "secirc-client-loop")
        logger.info("client started", metadata: ["id": "\(messenger.identity.id)", "api_port": "\(apiPort)"])
    }

    /// Stops the loop and the API. Nothing is lost: the outbox and every received message are
    /// already in the store.
    public func shutdown() {
        guard stopped.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else { return }
        if started.load(ordering: .acquiring) {
            loop.stop()
            loop.waitUntilStopped()
        }
        transport.close()
        events.closeAll()
        http.stop()
        logger.info("stopped")
    }
}

/// Carries what the client's loop reports to the API's state, the event streams and the log,
/// on the loop thread.
private final class Publisher: Sendable {
    let network: NetworkState
    let events: ClientEvents
    let logger: Logger
    /// Where each installed directory is saved, and the roster changes followed.
    let cache: DirectoryCacheFile
    let rosterChanges: RosterChangesFile
    private let lastPublish = Locked(UnixTime(nanoseconds: 0))
    /// Incoming messages the store could not take, as last logged, and when.
    private let notStoredLogged = Locked((count: 0, at: UnixTime(nanoseconds: 0)))
    /// At most one such error a minute: a full disk fails every poll.
    static let notStoredLogInterval = Duration.seconds(60)

    init(network: NetworkState, events: ClientEvents, logger: Logger, cache: DirectoryCacheFile, rosterChanges: RosterChangesFile) {
        self.cache = cache
        self.rosterChanges = rosterChanges
        self.network = network
        self.events = events
        self.logger = logger
    }

    func events(_ list: [ClientEngine.Event]) {
        for event in list {
            switch event {
            case let .client(event):
                events.publish(event)
            case let .directoryRefused(reason):
                if case .unreachable = reason {
                    logger.debug("directory source did not answer", metadata: ["reason": "\(reason)"])
                } else {
                    logger.warning("directory refused", metadata: ["error": "\(reason)"])
                }
            case let .directoryInstalled(document):
                do { try cache.save(document) } catch {
                    logger.warning("cannot save the directory cache", metadata: ["error": "\(error)"])
                }
            case let .rosterChanged(chain):
                logger.notice("the first ring changed", metadata: [
                    "epoch": "\(chain.current.epoch)", "members": "\(chain.current.members.count)", "threshold": "\(chain.current.threshold)",
                ])
                do { try rosterChanges.save(chain.changes, roster: chain.current) } catch {
                    logger.warning("cannot save the roster changes", metadata: ["error": "\(error)"])
                }
            case let .mailboxesReplaced(count):
                logger.info("mailbox relays replaced; contacts are told the new ones", metadata: ["replaced": "\(count)"])
            case let .problem(text):
                logger.warning("\(text)")
            case let .refused(reason):
                logger.info("refused a session set-up or message", metadata: ["reason": "\(reason)"])
            }
        }
    }

    /// After each turn, a few times a second: the status `GET /v1/network` reports.
    func turn(_ engine: ClientEngine, at now: UnixTime) {
        let due = lastPublish.withLock { last -> Bool in
            guard now.duration(since: last) >= .milliseconds(50) || now < last else { return false }
            last = now
            return true
        }
        guard due else { return }
        network.publish(engine.networkStatus)
        logNotStored(engine.status.dropped["not_stored", default: 0], now: now)
    }

    /// Mail the store could not take stays on its relay (it is not acknowledged) and is fetched
    /// again; while that goes on, an error says so once a minute (no IDs, nothing about the mail).
    private func logNotStored(_ count: Int, now: UnixTime) {
        let new = notStoredLogged.withLock { logged -> Int in
            guard count > logged.count, logged.count == 0 || now.duration(since: logged.at) >= Self.notStoredLogInterval || now < logged.at
            else { return 0 }
            defer { logged = (count, now) }
            return count - logged.count
        }
        guard new > 0 else { return }
        logger.error("incoming mail could not be stored (disk full or storage failing); it stays on the relay and is fetched again",
                     metadata: ["messages": "\(new)"])
    }
}
