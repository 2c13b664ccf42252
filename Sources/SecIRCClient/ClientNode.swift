import Dispatch
import Foundation
public import Logging
import SecIRCConfig
public import SecIRCCore
import SecIRCCrypto
import SecIRCHTTP
public import SecIRCNode
public import SecIRCTransport
import Synchronization

/// One client daemon: its store and keys, the network thread, and the local HTTP API.
/// `start()` launches both; `shutdown()` stops them and returns when the network thread is done.
public final class ClientNode: Sendable {
    public static let tokenFileName = "api.token"
    public let settings: ClientSettings
    public let messenger: Messenger
    public let network = NetworkState()
    public let events = ClientEvents()
    private let worker: NetworkWorker
    private let http: HTTPServer
    private let logger: Logger
    private let workerDone = DispatchSemaphore(value: 0)
    private let started = Atomic<Bool>(false)
    private let stopped = Atomic<Bool>(false)

    /// Opens (or creates) the data directory, its keys and database, and binds the UDP socket.
    /// Throws with a message for the user when something is in the way.
    public init(settings: ClientSettings, logger: Logger, clock: @escaping @Sendable () -> UnixTime = ClientNode.systemClock,
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
                                  rng: &rng)
        let token = try HTTPBearerToken.loadOrCreate(path: directory + "/" + Self.tokenFileName)
        let udp = try transport ?? UDPTransport(bind: SocketAddress(host: "0.0.0.0", port: 0))
        worker = NetworkWorker(settings: settings, roster: try settings.trustedRoster(), messenger: messenger, state: network,
                               events: events, transport: udp, logger: logger, clock: clock)
        let routes = ClientRoutes(messenger: messenger, network: network, events: events, settings: settings, token: token,
                                  clock: clock, poke: { [worker] in worker.poke() })
        var httpConfiguration = HTTPServerConfiguration(host: config.api.listen.host, port: config.api.listen.port)
        httpConfiguration.maxBodyBytes = 65536
        http = HTTPServer(configuration: httpConfiguration, router: routes.router())
    }

    public static let systemClock: @Sendable () -> UnixTime = {
        var t = timespec()
        clock_gettime(CLOCK_REALTIME, &t)
        return UnixTime(nanoseconds: Int64(t.tv_sec) * 1_000_000_000 + Int64(t.tv_nsec))
    }

    /// The API port actually bound.
    public var apiPort: UInt16 { http.boundPort }

    public var tokenPath: String { settings.client.dataDirectory + "/" + Self.tokenFileName }

    /// Starts the API and the network thread; a second call does nothing.
    public func start() throws {
        guard started.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else { return }
        try http.start()
        let thread = Thread { [worker, workerDone] in
            worker.run()
            workerDone.signal()
        }
        thread.name = "secirc-client-network"
        thread.start()
        logger.info("client started", metadata: ["id": "\(messenger.identity.id)", "api_port": "\(apiPort)"])
    }

    /// Stops the network thread and the API. Nothing is lost: the outbox and every received
    /// message are already in the store.
    public func shutdown() {
        guard stopped.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else { return }
        worker.stop()
        if started.load(ordering: .acquiring) { workerDone.wait() }
        events.closeAll()
        http.stop()
        logger.info("stopped")
    }
}
