internal import CMicroHTTPD
import SecIRCLock

/// A Server-Sent Events stream: return `HTTPResponse.eventStream(stream)` from a handler, keep
/// the stream, and `send` events from any thread. The queue is bounded: when the client reads
/// too slowly the oldest unsent event is dropped and counted (`droppedEvents`).
///
/// The stream closes when `close()` is called, when the client goes away (seen on the next
/// write), or when the server stops; `send` on a closed stream does nothing. One stream serves
/// one response.
///
/// While the queue is empty the connection is suspended in libmicrohttpd (no thread waits and
/// nothing spins); `send` resumes it.
public final class HTTPEventStream: Sendable {
    struct State: Sendable {
        var queue: EventQueue
        var connection: ConnectionHandle?
        var attached = false
    }

    let state: Locked<State>

    /// `capacity`: events held for a slow client before the oldest is dropped (at least 1).
    public init(capacity: Int = 256) {
        state = Locked(State(queue: EventQueue(capacity: capacity)))
    }

    /// Queues one event. `event` and `id` lose any CR/LF; `data` may span lines (each becomes a
    /// `data:` line).
    public func send(event: String?, data: String, id: String? = nil) {
        let chunk = Self.encode(event: event, data: data, id: id)
        state.withLock { state in
            if state.queue.enqueue(chunk) == .resume, let connection = state.connection {
                MHD_resume_connection(connection.pointer)
            }
        }
    }

    /// Ends the stream after what is queued has been sent.
    public func close() {
        state.withLock { state in
            if state.queue.close() == .resume, let connection = state.connection {
                MHD_resume_connection(connection.pointer)
            }
        }
    }

    /// True after `close()`, after the client went away, or after the server stopped.
    public var isClosed: Bool { state.withLock { $0.queue.closed } }

    /// Events dropped because the client read too slowly.
    public var droppedEvents: Int { state.withLock { $0.queue.dropped } }

    /// The wire form: `id:`, `event:`, one `data:` per line, a blank line.
    static func encode(event: String?, data: String, id: String?) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(data.utf8.count + 32)
        if let id {
            out += Array("id: ".utf8) + singleLine(id) + [0x0a]
        }
        if let event {
            out += Array("event: ".utf8) + singleLine(event) + [0x0a]
        }
        // One `data:` line per line of `data`; CRLF, CR and LF all break lines; NUL is dropped.
        var utf8 = Array(data.utf8)
        if utf8.contains(0) { utf8.removeAll { $0 == 0 } }
        var start = 0
        var index = 0
        while index < utf8.count {
            let byte = utf8[index]
            if byte == 0x0a || byte == 0x0d {
                out += Array("data: ".utf8)
                out += utf8[start..<index]
                out.append(0x0a)
                if byte == 0x0d, index + 1 < utf8.count, utf8[index + 1] == 0x0a { index += 1 }
                start = index + 1
            }
            index += 1
        }
        out += Array("data: ".utf8)
        out += utf8[start...]
        out += [0x0a, 0x0a]
        return out
    }

    private static func singleLine(_ text: String) -> [UInt8] {
        text.utf8.filter { $0 != 0x0a && $0 != 0x0d && $0 != 0 }
    }
}

/// A libmicrohttpd connection pointer held by an event stream.
///
/// @unchecked Sendable: the pointer is used (suspend/resume) only while the stream's mutex is
/// held, and only between `attach` and the response's free callback (`detach`), during which
/// libmicrohttpd keeps the connection alive. Resume is called only on a suspended connection,
/// which libmicrohttpd cannot close before it is resumed.
struct ConnectionHandle: @unchecked Sendable {
    let pointer: OpaquePointer
}

extension HTTPEventStream {
    /// Binds the stream to the connection it will answer. False if it already serves one.
    func attach(_ connection: OpaquePointer) -> Bool {
        state.withLock { state in
            guard !state.attached else { return false }
            state.attached = true
            state.connection = ConnectionHandle(pointer: connection)
            return true
        }
    }

    /// An SSE comment line, sent to idle streams so that a client that went away is noticed
    /// (libmicrohttpd cannot see a suspended connection close) and proxies keep the stream.
    static let heartbeat: [UInt8] = Array(":\n\n".utf8)

    /// Queues a heartbeat if nothing else is queued.
    func sendHeartbeat() {
        state.withLock { state in
            if state.queue.enqueueIfIdle(Self.heartbeat) == .resume, let connection = state.connection {
                MHD_resume_connection(connection.pointer)
            }
        }
    }

    /// The content reader: fills `buffer`, or suspends the connection when nothing is queued.
    /// Runs on the connection's libmicrohttpd thread.
    func read(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        state.withLock { state in
            switch state.queue.read(into: buffer) {
            case let .bytes(count):
                return count
            case .end:
                return secirc_mhd_content_reader_end_of_stream()
            case .suspend:
                guard let connection = state.connection else {
                    _ = state.queue.close()
                    return secirc_mhd_content_reader_end_with_error()
                }
                // Allowed from a content reader (microhttpd.h); 0 then means "call me after resume".
                MHD_suspend_connection(connection.pointer)
                return 0
            }
        }
    }

    /// The response was freed: the connection may be gone.
    func detach() {
        state.withLock { state in
            state.queue.detach()
            state.connection = nil
        }
    }
}
