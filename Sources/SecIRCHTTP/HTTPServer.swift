#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
internal import CMicroHTTPD
import SecIRCCrypto
import SecIRCLock
import Synchronization

/// An HTTP(S) server on libmicrohttpd: `threads` epoll event loops (a thread pool) sharing one
/// listening socket; handlers run synchronously on those threads.
///
/// Started once; `stop()` (also run by `deinit`) closes event streams, resumes their
/// connections and stops the daemon. Do not call `stop()` from a handler.
public final class HTTPServer: Sendable {
    /// GnuTLS priorities: TLS 1.2 and 1.3 only.
    static let tlsPriorities = "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"
    /// Longest `stop()` waits for closed event streams to finish sending.
    static let streamDrainSeconds = 1.0

    private let configuration: HTTPServerConfiguration
    private let core: ServerCore
    private let lifecycle = Locked(Lifecycle.idle)
    private let port = Atomic<UInt16>(0)

    private enum Lifecycle: Sendable {
        case idle
        case running(Daemon)
        case stopped
    }

    /// The running daemon and what must live as long as it.
    ///
    /// @unchecked Sendable: `daemon` is touched only by `start` and `stop`, under `lifecycle`'s
    /// mutex or after taking it out of there (so by one thread); the TLS strings are read by
    /// libmicrohttpd during start and freed after `MHD_stop_daemon` returns.
    private struct Daemon: @unchecked Sendable {
        let daemon: OpaquePointer
        let tlsKey: UnsafeMutablePointer<CChar>?
        let tlsCertificate: UnsafeMutablePointer<CChar>?
    }

    /// `metrics` is called with the status of every response this server answers (on a server
    /// thread; keep it cheap).
    public init(configuration: HTTPServerConfiguration, router: HTTPRouter, metrics: (@Sendable (Int) -> Void)? = nil) {
        self.configuration = configuration
        self.core = ServerCore(router: router, configuration: configuration, metrics: metrics)
    }

    deinit {
        stop()
    }

    /// The port listened on (the one chosen when configured with 0); 0 before `start()`.
    public var boundPort: UInt16 { port.load(ordering: .acquiring) }

    /// Connections and event streams refused or cut off by the server's limits, and the
    /// connections open now.
    public var limitCounters: HTTPLimitCounters { core.limitCounters }
    /// Large-body slots held now (tests wait on it).
    var largeBodySlotsInUse: Int { core.largeBodies.inUse }

    /// Binds and starts serving. Errors say why: a bad value, not an address, the address in
    /// use, TLS certificate or key rejected.
    public func start() throws(HTTPServerError) {
        try configuration.validate()
        try lifecycle.withLock { (state: inout Lifecycle) throws(HTTPServerError) in
            guard case .idle = state else { throw .alreadyStarted }
            let listener = try ListenSocket.open(host: configuration.host, port: configuration.port)
            let tlsKey = configuration.tls.map { strdup($0.privateKeyPEM.value)! }
            let tlsCertificate = configuration.tls.map { strdup($0.certificatePEM)! }

            var flags = MHD_USE_INTERNAL_POLLING_THREAD.rawValue | MHD_USE_EPOLL.rawValue
                | MHD_ALLOW_SUSPEND_RESUME.rawValue | MHD_USE_ERROR_LOG.rawValue
            if configuration.tls != nil { flags |= MHD_USE_TLS.rawValue }
            if listener.isIPv6 { flags |= MHD_USE_IPv6.rawValue }

            let cls = Unmanaged.passUnretained(core).toOpaque()
            let daemon = secirc_mhd_start_daemon(
                UInt32(flags), listener.descriptor,
                { cls, address, _ in
                    guard let cls else { return MHD_Result.NO }
                    return Unmanaged<ServerCore>.fromOpaque(cls).takeUnretainedValue().admit(address) ? MHD_Result.YES : MHD_Result.NO
                }, cls,
                { cls, connection, url, method, _, upload, uploadSize, requestState in
                    guard let cls, let connection, let url, let method, let uploadSize, let requestState else { return MHD_Result.NO }
                    return Unmanaged<ServerCore>.fromOpaque(cls).takeUnretainedValue().access(
                        connection: connection, url: url, method: method, upload: upload,
                        uploadSize: uploadSize, requestState: requestState)
                }, cls,
                { cls, connection, requestState, _ in
                    if let cls, let connection {
                        Unmanaged<ServerCore>.fromOpaque(cls).takeUnretainedValue().requestCompleted(connection)
                    }
                    guard let requestState, let raw = requestState.pointee else { return }
                    if raw != PendingRequest.bodiless { Unmanaged<PendingRequest>.fromOpaque(raw).release() }
                    requestState.pointee = nil
                }, cls,
                { cls, connection, _, code in
                    guard let cls, let connection else { return }
                    let core = Unmanaged<ServerCore>.fromOpaque(cls).takeUnretainedValue()
                    if code == .CONNECTION_NOTIFY_STARTED { core.connectionStarted(connection) } else { core.connectionClosed(connection) }
                }, cls,
                { cls, format, arguments in
                    guard let cls, let format, let arguments else { return }
                    var buffer = [CChar](repeating: 0, count: 512)
                    _ = vsnprintf(&buffer, buffer.count, format, arguments)
                    let message = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                    Unmanaged<ServerCore>.fromOpaque(cls).takeUnretainedValue().log(message)
                }, cls,
                { _, _, text in
                    // Keep the path and query raw: the router matches raw paths and
                    // query values are decoded by PercentDecoding.
                    guard let text else { return 0 }
                    return strlen(text)
                },
                UInt32(configuration.threads), UInt32(configuration.connectionTimeoutSeconds),
                UInt32(configuration.maxConnections),
                // libmicrohttpd's own per-address limit, a backstop above ours (see ServerCore.admit).
                configuration.maxConnectionsPerIP > 0 ? UInt32(configuration.maxConnectionsPerIP + configuration.threads) : 0,
                0,
                tlsKey, tlsCertificate, configuration.tls == nil ? nil : Self.tlsPriorities)
            let messages = core.endStartup()
            guard let daemon else {
                close(listener.descriptor)
                Self.wipeAndFree(tlsKey)
                free(tlsCertificate)
                let detail = messages.isEmpty ? "no reason given" : messages.joined(separator: "; ")
                if configuration.tls != nil, messages.isEmpty || messages.contains(where: Self.isTLSMessage) {
                    throw .tlsRejected(detail)
                }
                throw .startFailed(detail)
            }
            port.store(listener.port, ordering: .releasing)
            core.startTimers()
            state = .running(Daemon(daemon: daemon, tlsKey: tlsKey, tlsCertificate: tlsCertificate))
        }
    }

    /// Stops serving: refuses new event streams, stops accepting, closes open streams (which
    /// resumes their suspended connections, as libmicrohttpd requires) and gives them up to
    /// `streamDrainSeconds` to end cleanly, then stops the daemon, which waits for handlers
    /// that are running and closes every connection. Idempotent.
    public func stop() {
        let running: Daemon? = lifecycle.withLock { state in
            switch state {
            case let .running(daemon):
                state = .stopped
                return daemon
            case .idle:
                state = .stopped
                return nil
            case .stopped:
                return nil
            }
        }
        guard let running else { return }
        core.stopTimers()
        let streams = core.beginShutdown()
        let listenSocket = MHD_quiesce_daemon(running.daemon)
        for stream in streams { stream.close() }
        // Let the streams send what they hold and their final chunk (their responses are then
        // freed and unregistered), for at most `streamDrainSeconds`: a client that does not
        // read must not hold up the stop.
        let deadline = ContinuousClock.now + .milliseconds(Int(Self.streamDrainSeconds * 1000))
        while core.openStreamCount > 0 && ContinuousClock.now < deadline {
            usleep(1_000)
        }
        MHD_stop_daemon(running.daemon)
        core.responses.removeAll()
        if listenSocket >= 0 { close(listenSocket) }
        Self.wipeAndFree(running.tlsKey)
        free(running.tlsCertificate)
    }

    private static func isTLSMessage(_ message: String) -> Bool {
        let lowered = message.lowercased()
        return ["tls", "certificate", "key", "gnutls", "https"].contains { lowered.contains($0) }
    }

    private static func wipeAndFree(_ text: UnsafeMutablePointer<CChar>?) {
        guard let text else { return }
        ConstantTime.wipe(UnsafeMutableRawBufferPointer(start: text, count: strlen(text)))
        free(text)
    }
}
