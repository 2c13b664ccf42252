import SecIRCAPI
public import SecIRCHTTP
import SecIRCLock
public import SecIRCNode

/// Fans client events out to every open `GET /v1/events` stream. A slow reader loses events
/// (its stream's queue is bounded, and counts what it dropped); the messages stay in the store.
public final class ClientEvents: Sendable {
    private let streams = Locked<[HTTPEventStream]>([])

    public init() {}

    /// A new stream that receives every event from now on.
    public func subscribe() -> HTTPEventStream {
        let stream = HTTPEventStream(capacity: 1024)
        streams.withLock { list in
            list.removeAll { $0.isClosed } // streams whose readers left, even when nothing was published since
            list.append(stream)
        }
        return stream
    }

    public var subscriberCount: Int { streams.withLock { list in list.filter { !$0.isClosed }.count } }

    public func publish(_ event: ClientEvent) {
        let sent = APIEvent(event).serverSentEvent
        let open = streams.withLock { list -> [HTTPEventStream] in
            list.removeAll { $0.isClosed }
            return list
        }
        for stream in open { stream.send(event: sent.event, data: sent.data) }
    }

    public func closeAll() {
        let all = streams.withLock { list -> [HTTPEventStream] in
            defer { list.removeAll() }
            return list
        }
        for stream in all { stream.close() }
    }
}
