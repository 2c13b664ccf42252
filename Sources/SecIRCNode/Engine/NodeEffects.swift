/// What one engine call asks the world to do: datagrams to send, HTTP exchanges to make, and
/// events for the rest of the process (logs, the HTTP API, a front end). The loop that owns the
/// engine carries them out after the call; the simulator carries them out on its virtual network.
public struct NodeEffects<Event: Sendable>: Sendable {
    public var datagrams: [Datagram] = []
    public var fetches: [FetchRequest] = []
    public var events: [Event] = []

    public init() {}

    public var isEmpty: Bool { datagrams.isEmpty && fetches.isEmpty && events.isEmpty }

    public mutating func removeAll() {
        datagrams.removeAll(keepingCapacity: true)
        fetches.removeAll(keepingCapacity: true)
        events.removeAll(keepingCapacity: true)
    }
}
