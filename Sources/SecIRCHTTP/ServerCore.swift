#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
internal import CMicroHTTPD
import SecIRCLock
import Synchronization

/// What the libmicrohttpd callbacks of one server reach through their `cls` pointer: the router,
/// the limits, the metrics hook, the open connections and the open event streams. It outlives
/// the daemon (the server stops the daemon before letting it go).
final class ServerCore: Sendable {
    let router: HTTPRouter
    let maxBodyBytes: Int
    /// Paths allowed a larger body, and the slots such bodies take (`HTTPServerConfiguration`).
    let bodyLimits: [String: Int]
    let largeBodies: LargeBodySlots
    let maxEventStreams: Int
    let metrics: (@Sendable (Int) -> Void)?
    /// Seconds a client refused an event stream is asked to wait (`Retry-After`).
    static let eventStreamRetryAfterSeconds = 5

    private struct Streams: Sendable {
        var stopping = false
        var open: [ObjectIdentifier: HTTPEventStream] = [:]
        /// When idle streams get their next keep-alive comment; nil while none is open.
        var nextHeartbeat: Int64?
    }

    private let streams = Locked(Streams())
    /// Responses for byte bodies handlers return repeatedly.
    let responses = ResponseCache()
    /// libmicrohttpd's messages while `start()` runs, to say why it failed; later messages are
    /// dropped (they could name client addresses, and this module does not log).
    private let startupMessages = Locked<[String]?>([])

    /// Bytes of an over-long chunked body read and dropped before the connection is closed
    /// without an answer.
    let discardLimit: Int

    /// Open connections, per peer and with their header deadlines. Its mutex is also what makes
    /// shutting a late connection's socket down safe (see `closeLateConnections`).
    private let connections: Locked<ConnectionTable>
    private let refusedConnectionLimit = Atomic<Int>(0)
    private let refusedEventStreams = Atomic<Int>(0)
    /// Closes connections whose headers are late, at their deadline; asleep while no
    /// connection has one (an idle server does not wake up for it).
    private let deadlineTimer = TimerThread(name: "secirc-http-deadlines")
    /// Writes keep-alive comments to idle event streams; asleep while none is open.
    private let heartbeatTimer = TimerThread(name: "secirc-http-heartbeat")
    /// Nanoseconds between keep-alive comments; 0 for none.
    private let heartbeatInterval: Int64

    init(router: HTTPRouter, configuration: HTTPServerConfiguration, metrics: (@Sendable (Int) -> Void)?) {
        self.router = router
        self.maxBodyBytes = configuration.maxBodyBytes
        bodyLimits = configuration.bodyLimits
        largeBodies = LargeBodySlots(capacity: configuration.largeBodySlots)
        self.maxEventStreams = configuration.maxEventStreams
        self.discardLimit = max(1 << 20, configuration.maxBodyBytes, configuration.bodyLimits.values.max() ?? 0)
        self.metrics = metrics
        heartbeatInterval = Int64(configuration.eventStreamHeartbeatSeconds) * 1_000_000_000
        connections = Locked(ConnectionTable(
            perPeerLimit: configuration.maxConnectionsPerIP,
            headerTimeoutNanoseconds: Int64(configuration.headerTimeoutSeconds * 1e9),
            idleAllowanceNanoseconds: Int64(configuration.connectionTimeoutSeconds) * 1_000_000_000))
    }

    // MARK: Timers

    /// Starts the deadline and heartbeat threads (with the daemon). Each sleeps until its next
    /// due time; with nothing due, until a connection opens or a first event stream registers.
    func startTimers() {
        deadlineTimer.start(due: { [self] _ in connections.withLock { $0.nextDeadline } },
                            fire: { [self] now in closeLateConnections(now: now) })
        guard heartbeatInterval > 0 else { return }
        heartbeatTimer.start(due: { [self] _ in streams.withLock { $0.nextHeartbeat } },
                             fire: { [self] now in heartbeat(now: now) })
    }

    /// Stops both threads; returns once they have ended.
    func stopTimers() {
        heartbeatTimer.stop()
        deadlineTimer.stop()
    }

    // MARK: Messages

    /// libmicrohttpd's message when its connection limit refuses a connection (0.9.75 logs it
    /// once per refused connection; it has no counter or callback for it).
    private static let connectionLimitMessage = "Server reached connection limit"

    func log(_ message: String) {
        if message.hasPrefix(Self.connectionLimitMessage) {
            refusedConnectionLimit.add(1, ordering: .relaxed)
        }
        startupMessages.withLock { messages in
            if messages != nil, messages!.count < 32 { messages!.append(message) }
        }
    }

    /// Stops collecting and returns what libmicrohttpd said during start-up.
    func endStartup() -> [String] {
        startupMessages.withLock { messages in
            defer { messages = nil }
            return messages ?? []
        }
    }

    // MARK: Connections

    /// The accept policy: false (the socket is closed at once) when the peer holds its quota.
    /// Runs on the accepting libmicrohttpd thread, which then makes the connection and reports
    /// it (`connectionStarted`) before accepting another, so one thread never overshoots; two
    /// threads accepting from one peer at once can, by one connection each, which is why
    /// libmicrohttpd's own per-address limit is set `threads` above this one as a backstop.
    func admit(_ address: UnsafePointer<sockaddr>?) -> Bool {
        let peer = PeerKey(address)
        return connections.withLock { $0.admit(peer) }
    }

    func connectionStarted(_ connection: OpaquePointer) {
        let descriptor = secirc_mhd_connection_fd(connection)
        let peer = PeerKey(secirc_mhd_connection_address(connection))
        let now = TimerThread.monotonicNanoseconds()
        connections.withLock { $0.opened(Self.key(connection), descriptor: descriptor, peer: peer, now: now) }
        deadlineTimer.wake() // its headers are due: the deadline thread may have been asleep
    }

    /// libmicrohttpd closes the socket after this returns, so once the entry is gone (under the
    /// mutex) `closeLateConnections` can no longer reach the descriptor.
    func connectionClosed(_ connection: OpaquePointer) {
        connections.withLock { $0.closed(Self.key(connection)) }
    }

    func requestCompleted(_ connection: OpaquePointer) {
        let now = TimerThread.monotonicNanoseconds()
        connections.withLock { $0.responseEnded(Self.key(connection), now: now) }
    }

    /// Shuts down (both directions) the sockets of connections whose headers are late;
    /// libmicrohttpd then sees the end of the stream and closes the connection itself. Done
    /// under the table's mutex: an entry leaves the table (in `connectionClosed`) before
    /// libmicrohttpd closes its socket, so a descriptor shut down here is always still that
    /// connection's and never a reused number. Closing the socket here instead would race.
    func closeLateConnections(now: Int64) {
        connections.withLock { table in
            for descriptor in table.overdue(now: now) where descriptor >= 0 {
                _ = shutdown(descriptor, Int32(SHUT_RDWR))
            }
        }
    }

    /// The refusal counters and the open connections.
    var limitCounters: HTTPLimitCounters {
        var counters = HTTPLimitCounters()
        connections.withLock { table in
            counters.refusedPerIP = table.refusedPerPeer
            counters.closedHeaderTimeout = table.closedAtDeadline
            counters.openConnections = table.count
        }
        counters.refusedConnectionLimit = refusedConnectionLimit.load(ordering: .relaxed)
        counters.refusedEventStreams = refusedEventStreams.load(ordering: .relaxed)
        return counters
    }

    private static func key(_ connection: OpaquePointer) -> UInt {
        UInt(bitPattern: Int(bitPattern: UnsafeRawPointer(connection)))
    }

    // MARK: Event streams

    enum Registration {
        case registered
        case stopping
        case full
    }

    /// Records a stream that is about to answer a request, unless the server is stopping or
    /// holds `maxEventStreams` already (counted).
    func register(_ stream: HTTPEventStream) -> Registration {
        let now = TimerThread.monotonicNanoseconds()
        var first = false
        let registration = streams.withLock { streams -> Registration in
            guard !streams.stopping else { return .stopping }
            guard streams.open.count < maxEventStreams else { return .full }
            streams.open[ObjectIdentifier(stream)] = stream
            if streams.nextHeartbeat == nil {
                streams.nextHeartbeat = now + heartbeatInterval
                first = true
            }
            return .registered
        }
        if registration == .full { refusedEventStreams.add(1, ordering: .relaxed) }
        if first, heartbeatInterval > 0 { heartbeatTimer.wake() }
        return registration
    }

    func unregister(_ stream: HTTPEventStream) {
        streams.withLock { streams in
            streams.open.removeValue(forKey: ObjectIdentifier(stream))
            if streams.open.isEmpty { streams.nextHeartbeat = nil }
        }
    }

    /// A keep-alive comment to every idle open stream; the next in `heartbeatInterval` while
    /// any is open.
    func heartbeat(now: Int64) {
        let open = streams.withLock { streams -> [HTTPEventStream] in
            guard !streams.stopping, !streams.open.isEmpty else {
                streams.nextHeartbeat = nil
                return []
            }
            streams.nextHeartbeat = now + heartbeatInterval
            return Array(streams.open.values)
        }
        for stream in open { stream.sendHeartbeat() }
    }

    /// Streams whose responses libmicrohttpd has not freed yet.
    var openStreamCount: Int { streams.withLock { $0.open.count } }

    /// Refuses new streams and returns the open ones (to be closed before the daemon stops).
    func beginShutdown() -> [HTTPEventStream] {
        streams.withLock { streams in
            streams.stopping = true
            return Array(streams.open.values)
        }
    }

    // MARK: Requests

    /// The access handler (DESIGN: answer on the second call). First call: headers are in;
    /// remember the request in `con_cls`, or answer 413 at once when `Content-Length` is over
    /// the limit. Upload calls: collect the body. Last call: route and answer.
    func access(connection: OpaquePointer, url: UnsafePointer<CChar>, method: UnsafePointer<CChar>,
                upload: UnsafePointer<CChar>?, uploadSize: UnsafeMutablePointer<Int>,
                requestState: UnsafeMutablePointer<UnsafeMutableRawPointer?>) -> MHD_Result {
        guard let raw = requestState.pointee else {
            connections.withLock { $0.headersArrived(Self.key(connection)) }
            let lengthHeader = MHD_lookup_connection_value(connection, .HEADER_KIND, "Content-Length")
            if lengthHeader == nil, MHD_lookup_connection_value(connection, .HEADER_KIND, "Transfer-Encoding") == nil {
                // No body can follow: mark the first call without allocating.
                requestState.pointee = PendingRequest.bodiless
                return MHD_Result.YES
            }
            // A path with a larger limit gets it only with a declared length and a free slot;
            // a chunked body keeps the server's limit.
            let pathLimit = bodyLimits.isEmpty ? nil : bodyLimits[String(cString: url)]
            let pending = PendingRequest(limit: lengthHeader == nil ? maxBodyBytes : max(pathLimit ?? maxBodyBytes, maxBodyBytes))
            requestState.pointee = Unmanaged.passRetained(pending).toOpaque()
            if let lengthHeader {
                let length = Self.parseLength(lengthHeader)
                if length > UInt64(pending.limit) {
                    pending.tooLarge = true
                    pending.answered = true
                    // Queued in the first call, so libmicrohttpd closes the connection afterwards
                    // instead of reading the body.
                    return queue(.error(.payloadTooLarge(limit: pending.limit)), isHead: false, on: connection)
                }
                if length > UInt64(maxBodyBytes) {
                    guard largeBodies.acquire() else {
                        pending.tooLarge = true
                        pending.answered = true
                        var busy = HTTPResponse.error(HTTPError(503, "busy", "too many large request bodies are arriving; try again shortly"))
                        busy.headers.append(("Retry-After", "1"))
                        return queue(busy, isHead: false, on: connection)
                    }
                    pending.slot = largeBodies
                }
            }
            return MHD_Result.YES
        }
        let pending: PendingRequest
        if raw == PendingRequest.bodiless {
            if uploadSize.pointee == 0 {
                // Second call of a request without a body: answer it.
                requestState.pointee = nil
                return answer(connection: connection, url: url, method: method, body: [])
            }
            // A body after all (libmicrohttpd accepted framing we did not expect): collect it.
            pending = PendingRequest(limit: maxBodyBytes)
            requestState.pointee = Unmanaged.passRetained(pending).toOpaque()
        } else {
            pending = Unmanaged<PendingRequest>.fromOpaque(raw).takeUnretainedValue()
        }
        if pending.answered {
            uploadSize.pointee = 0
            return MHD_Result.YES
        }
        let count = uploadSize.pointee
        if count > 0 {
            uploadSize.pointee = 0
            if pending.tooLarge {
                // libmicrohttpd 0.9.75 refuses a response queued while the body is arriving, so
                // the rest is read and dropped, then 413 is the answer; past `discardLimit`
                // the connection is closed without one.
                pending.discarded += count
                return pending.discarded > discardLimit ? MHD_Result.NO : MHD_Result.YES
            }
            if count > pending.limit - pending.body.count {
                // A body without Content-Length (chunked) that grew over the limit.
                pending.tooLarge = true
                pending.discarded = pending.body.count + count - pending.limit
                pending.body = []
                return MHD_Result.YES
            }
            if let upload {
                upload.withMemoryRebound(to: UInt8.self, capacity: count) {
                    pending.body.append(contentsOf: UnsafeBufferPointer(start: $0, count: count))
                }
            }
            return MHD_Result.YES
        }

        pending.answered = true
        if pending.tooLarge { return queue(.error(.payloadTooLarge(limit: pending.limit)), isHead: false, on: connection) }
        let body = pending.body
        pending.body = []
        return answer(connection: connection, url: url, method: method, body: body)
    }

    /// Builds the request, routes it and queues the response.
    private func answer(connection: OpaquePointer, url: UnsafePointer<CChar>, method: UnsafePointer<CChar>,
                        body: [UInt8]) -> MHD_Result {
        let request = HTTPRequest(
            method: Self.method(method),
            path: String(cString: url),
            query: Self.values(of: connection, kind: .GET_ARGUMENT_KIND, lowercaseNames: false),
            lowercasedHeaders: Self.values(of: connection, kind: .HEADER_KIND, lowercaseNames: true),
            body: body, peer: PeerKey(secirc_mhd_connection_address(connection)))
        let response = router.respond(to: request)
        return queue(response, isHead: request.method == .head, on: connection)
    }

    /// The common methods without building a string.
    private static func method(_ text: UnsafePointer<CChar>) -> HTTPMethod {
        if strcmp(text, "GET") == 0 { return .get }
        if strcmp(text, "POST") == 0 { return .post }
        if strcmp(text, "HEAD") == 0 { return .head }
        return HTTPMethod(rawValue: String(cString: text))
    }

    /// A `Content-Length` value; `UInt64.max` when it is not a plain decimal number or overflows
    /// (libmicrohttpd rejects such requests itself; this only has to be conservative).
    private static func parseLength(_ text: UnsafePointer<CChar>) -> UInt64 {
        var value: UInt64 = 0
        var pointer = text
        guard pointer.pointee != 0 else { return UInt64.max }
        while pointer.pointee != 0 {
            let c = UInt8(bitPattern: pointer.pointee)
            guard c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9") else { return UInt64.max }
            let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(UInt64(c - UInt8(ascii: "0")))
            if overflow1 || overflow2 { return UInt64.max }
            value = sum
            pointer += 1
        }
        return value
    }

    /// Headers (names lowercased, repeats joined with ", ") or query arguments (percent-decoded,
    /// last repeat wins).
    private static func values(of connection: OpaquePointer, kind: MHD_ValueKind, lowercaseNames: Bool) -> [String: String] {
        var collected = Collected(lowercaseNames: lowercaseNames)
        withUnsafeMutablePointer(to: &collected) { pointer in
            _ = MHD_get_connection_values(connection, kind, { cls, _, key, value in
                guard let cls, let key else { return MHD_Result.YES }
                let collected = cls.assumingMemoryBound(to: Collected.self)
                collected.pointee.add(key, value)
                return MHD_Result.YES
            }, pointer)
        }
        return collected.values
    }

    private struct Collected {
        let lowercaseNames: Bool
        var values: [String: String] = [:]

        mutating func add(_ key: UnsafePointer<CChar>, _ value: UnsafePointer<CChar>?) {
            if lowercaseNames {
                let name = ASCII.lowercased(String(cString: key))
                let text = value.map { String(cString: $0) } ?? ""
                if let existing = values[name] { values[name] = existing + ", " + text } else { values[name] = text }
            } else {
                let name = PercentDecoding.decode(key, plusAsSpace: true)
                values[name] = value.map { PercentDecoding.decode($0, plusAsSpace: true) } ?? ""
            }
        }
    }

    // MARK: Responses

    /// Hands `response` to libmicrohttpd. For HEAD, libmicrohttpd sends the headers of the full
    /// body and omits it; a stream is not started.
    func queue(_ response: HTTPResponse, isHead: Bool, on connection: OpaquePointer) -> MHD_Result {
        let status = (100...599).contains(response.status) ? response.status : 500
        var body = response.body
        if isHead, case let .stream(stream) = body {
            stream.close()
            body = .bytes([])
        }
        let made: OpaquePointer?
        var cacheable: [UInt8]?
        switch body {
        case let .bytes(bytes):
            if let result = responses.queue(bytes, status: status, headers: response.headers, on: connection) {
                metrics?(status)
                return result
            }
            cacheable = bytes
            made = bytes.withUnsafeBytes {
                MHD_create_response_from_buffer($0.count, UnsafeMutableRawPointer(mutating: $0.baseAddress),
                                                .RESPMEM_MUST_COPY)
            }
        case let .stream(stream):
            switch register(stream) {
            case .registered:
                break
            case .stopping:
                stream.close()
                return queue(.error(.unavailable("server is stopping")), isHead: isHead, on: connection)
            case .full:
                stream.close()
                var refusal = HTTPResponse.error(.tooManyEventStreams(limit: maxEventStreams))
                refusal.headers.append(("Retry-After", String(Self.eventStreamRetryAfterSeconds)))
                return queue(refusal, isHead: isHead, on: connection)
            }
            guard stream.attach(connection) else {
                unregister(stream)
                return queue(.error(.internalError), isHead: isHead, on: connection)
            }
            let binding = Unmanaged.passRetained(StreamBinding(stream: stream, core: self)).toOpaque()
            made = MHD_create_response_from_callback(secirc_mhd_size_unknown(), 4096, { cls, _, buffer, max in
                guard let cls, let buffer else { return secirc_mhd_content_reader_end_with_error() }
                let binding = Unmanaged<StreamBinding>.fromOpaque(cls).takeUnretainedValue()
                return binding.stream.read(into: UnsafeMutableRawBufferPointer(start: buffer, count: max))
            }, binding, { cls in
                guard let cls else { return }
                let binding = Unmanaged<StreamBinding>.fromOpaque(cls).takeRetainedValue()
                binding.stream.detach()
                binding.core.unregister(binding.stream)
            })
            if made == nil {
                let released = Unmanaged<StreamBinding>.fromOpaque(binding).takeRetainedValue()
                released.stream.detach()
                unregister(stream)
            }
        }
        guard let made else { return MHD_Result.NO }
        for (name, value) in response.headers where Self.isSendable(name: name, value: value) {
            _ = MHD_add_response_header(made, name, value)
        }
        let result = MHD_queue_response(connection, UInt32(status), made)
        if let cacheable, responses.insert(cacheable, status: status, headers: response.headers, response: made) {
            // The cache owns `made` now.
        } else {
            MHD_destroy_response(made)
        }
        metrics?(status)
        return result
    }

    /// Headers the server owns, and text that would break the header block, are not sent.
    private static func isSendable(name: String, value: String) -> Bool {
        var name = name
        var value = value
        let nameOK = name.withUTF8 { bytes -> Bool in
            guard !bytes.isEmpty else { return false }
            for byte in bytes where byte <= 0x20 || byte >= 0x7f || byte == UInt8(ascii: ":") { return false }
            return !isServerOwned(bytes)
        }
        guard nameOK else { return false }
        return value.withUTF8 { bytes in !bytes.contains { $0 == 0x0a || $0 == 0x0d || $0 == 0 } }
    }

    /// `Content-Length`, `Transfer-Encoding`, `Connection`, `Date`, `Keep-Alive`, `Upgrade`.
    private static func isServerOwned(_ name: UnsafeBufferPointer<UInt8>) -> Bool {
        let first = name[0] | 0x20
        guard first == UInt8(ascii: "c") || first == UInt8(ascii: "t") || first == UInt8(ascii: "d")
                || first == UInt8(ascii: "k") || first == UInt8(ascii: "u") else { return false }
        for owned: StaticString in ["content-length", "transfer-encoding", "connection", "date", "keep-alive", "upgrade"]
        where owned.utf8CodeUnitCount == name.count {
            let expected = UnsafeBufferPointer(start: owned.utf8Start, count: owned.utf8CodeUnitCount)
            if zip(name, expected).allSatisfy({ ($0 | 0x20) == $1 }) { return true }
        }
        return false
    }
}

/// The content reader's `cls`: keeps the stream and the core alive until libmicrohttpd frees
/// the response.
final class StreamBinding: Sendable {
    let stream: HTTPEventStream
    let core: ServerCore

    init(stream: HTTPEventStream, core: ServerCore) {
        self.stream = stream
        self.core = core
    }
}
