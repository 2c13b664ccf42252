/// An open `text/event-stream` from the daemon (``APIClient/events(path:idleTimeout:)``).
///
/// ``next()`` is for one thread; ``cancel()`` may be called from any thread and makes a blocked
/// ``next()`` return nil.
public final class EventStream: @unchecked Sendable {
    // @unchecked: the parsers are touched only by the one thread calling next(); cancel() only
    // shuts the socket down, which is safe from any thread.
    private let connection: TCPConnection
    private let client: APIClient
    private let idleTimeout: Double
    private var parser: HTTPResponseParser
    private var events = ServerSentEventParser()
    private var pending: [ServerSentEvent] = []
    private var ended = false

    init(connection: TCPConnection, parser: HTTPResponseParser, initialBody: [UInt8], client: APIClient, idleTimeout: Double) {
        self.connection = connection
        self.parser = parser
        self.client = client
        self.idleTimeout = idleTimeout
        if let parsed = try? events.consume(initialBody) { pending = parsed }
    }

    /// Heartbeat comments seen so far.
    public var heartbeats: Int { events.comments }

    /// The next event, waiting for it; nil when the stream has ended (the daemon stopped, or
    /// ``cancel()``). Throws when nothing at all arrived for the idle timeout.
    public func next() throws(APIError) -> ServerSentEvent? {
        while pending.isEmpty {
            guard !ended else { return nil }
            let bytes = try client.receive(from: connection, timeout: idleTimeout)
            do {
                if bytes.isEmpty {
                    ended = true
                    try? parser.finish()
                    return nil
                }
                pending = try events.consume(try parser.consume(bytes))
                if parser.isComplete { ended = true }
            } catch let error as HTTPParseError {
                throw .invalidResponse(error.description)
            } catch {
                throw .invalidResponse("event line longer than \(ServerSentEventParser.maxLineBytes) bytes")
            }
        }
        return pending.removeFirst()
    }

    /// Ends the stream; a ``next()`` waiting in another thread returns nil.
    public func cancel() {
        connection.shutdown()
    }
}
