/// The state of one Server-Sent Events stream, with no I/O: a bounded queue of encoded events,
/// whether the stream is closed, and whether its connection is suspended waiting for data.
/// Each transition returns what the owner must do to the connection.
struct EventQueue: Sendable {
    /// What the owner must do after `enqueue` or `close`.
    enum Wake: Equatable, Sendable {
        case none
        /// The connection is suspended: resume it so libmicrohttpd reads again.
        case resume
    }

    /// What the content reader returns after `read`.
    enum Read: Equatable, Sendable {
        /// This many bytes were copied.
        case bytes(Int)
        /// Nothing to send yet: suspend the connection (the state now says `suspended`).
        case suspend
        /// Closed and drained: end the response.
        case end
    }

    /// Most events held at once; more drop the oldest not yet started.
    let capacity: Int
    private var chunks: [[UInt8]] = []
    private var head = 0
    /// Bytes of `chunks[head]` already read.
    private var offset = 0
    private(set) var closed = false
    private(set) var suspended = false
    /// Events dropped because the queue was full.
    private(set) var dropped = 0

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    /// Events waiting (including one partly sent).
    var count: Int { chunks.count - head }

    /// Appends an encoded event. Ignored after `close`.
    mutating func enqueue(_ chunk: [UInt8]) -> Wake {
        guard !closed, !chunk.isEmpty else { return .none }
        if count >= capacity {
            dropped += 1
            if offset == 0 {
                head += 1                        // the oldest has not started: drop it
            } else if count >= 2 {
                chunks.remove(at: head + 1)      // the oldest is half sent: drop the next
            } else {
                return wake()                    // capacity 1 and mid-event: drop the new one
            }
        }
        chunks.append(chunk)
        compact()
        return wake()
    }

    /// Appends `chunk` only when nothing is waiting: a keep-alive never displaces an event.
    mutating func enqueueIfIdle(_ chunk: [UInt8]) -> Wake {
        guard count == 0 else { return .none }
        return enqueue(chunk)
    }

    /// Marks the stream closed; what is queued is still sent, then the response ends.
    mutating func close() -> Wake {
        guard !closed else { return .none }
        closed = true
        return wake()
    }

    /// Copies queued bytes into `buffer`, or says to suspend or to end.
    mutating func read(into buffer: UnsafeMutableRawBufferPointer) -> Read {
        var copied = 0
        while copied < buffer.count, head < chunks.count {
            let chunk = chunks[head]
            let n = min(chunk.count - offset, buffer.count - copied)
            chunk.withUnsafeBytes { source in
                UnsafeMutableRawBufferPointer(rebasing: buffer[copied..<(copied + n)])
                    .copyMemory(from: UnsafeRawBufferPointer(rebasing: source[offset..<(offset + n)]))
            }
            copied += n
            offset += n
            if offset == chunk.count {
                head += 1
                offset = 0
            }
        }
        compact()
        if copied > 0 { return .bytes(copied) }
        if closed { return .end }
        suspended = true
        return .suspend
    }

    /// The connection is gone (response freed): nothing can be resumed any more.
    mutating func detach() {
        closed = true
        suspended = false
        chunks.removeAll()
        head = 0
        offset = 0
    }

    private mutating func wake() -> Wake {
        guard suspended else { return .none }
        suspended = false
        return .resume
    }

    private mutating func compact() {
        if head == chunks.count {
            chunks.removeAll(keepingCapacity: true)
            head = 0
        } else if head > 32, head * 2 > chunks.count {
            chunks.removeFirst(head)
            head = 0
        }
    }
}
