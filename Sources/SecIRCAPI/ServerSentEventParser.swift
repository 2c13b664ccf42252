/// An incremental `text/event-stream` parser (the WHATWG event-stream interpretation): lines
/// end in CRLF, LF or CR, possibly split across reads; `:` lines are comments (the daemon's
/// heartbeats); a blank line dispatches the event when it has data. No I/O.
public struct ServerSentEventParser: Sendable {
    /// The longest line kept; a longer one is an error rather than unbounded memory.
    public static let maxLineBytes = 1 << 20

    /// A line longer than ``maxLineBytes``.
    public struct LineTooLong: Error, Equatable {}

    private var line: [UInt8] = []
    private var lastWasCR = false
    private var atStart = true
    private var eventType = ""
    private var data: String?
    private var lastEventID: String?

    /// How many comment lines (heartbeats) have been seen.
    public private(set) var comments = 0

    public init() {}

    /// Parses `bytes`; returns the events they completed.
    public mutating func consume(_ bytes: some Sequence<UInt8>) throws(LineTooLong) -> [ServerSentEvent] {
        var events: [ServerSentEvent] = []
        for byte in bytes {
            if byte == 10, lastWasCR {
                lastWasCR = false
                continue
            }
            lastWasCR = byte == 13
            if byte == 10 || byte == 13 {
                if let event = processLine() { events.append(event) }
                line.removeAll(keepingCapacity: true)
            } else {
                guard line.count < Self.maxLineBytes else { throw LineTooLong() }
                line.append(byte)
            }
        }
        return events
    }

    private mutating func processLine() -> ServerSentEvent? {
        if atStart {
            atStart = false
            if line.starts(with: [0xEF, 0xBB, 0xBF]) { line.removeFirst(3) }
        }
        guard !line.isEmpty else { return dispatch() }
        if line[0] == UInt8(ascii: ":") {
            comments += 1
            return nil
        }
        let field: String
        let value: String
        if let colon = line.firstIndex(of: UInt8(ascii: ":")) {
            field = String(decoding: line[..<colon], as: UTF8.self)
            var start = colon + 1
            if start < line.count, line[start] == UInt8(ascii: " ") { start += 1 }
            value = String(decoding: line[start...], as: UTF8.self)
        } else {
            field = String(decoding: line, as: UTF8.self)
            value = ""
        }
        switch field {
        case "event": eventType = value
        case "data": data = data.map { $0 + "\n" + value } ?? value
        case "id": if !value.contains("\0") { lastEventID = value }
        default: break // "retry" and unknown fields: ignored (this reader never reconnects)
        }
        return nil
    }

    private mutating func dispatch() -> ServerSentEvent? {
        defer {
            eventType = ""
            data = nil
        }
        guard let data else { return nil }
        return ServerSentEvent(event: eventType.isEmpty ? "message" : eventType, data: data, id: lastEventID)
    }
}
