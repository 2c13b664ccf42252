/// A contact's deposit queues at our mailbox relays (`DepositQueues` in openapi/client.yaml):
/// `GET /v1/contacts/{id}/queues` and the answer to rotating or closing them. The queue IDs
/// themselves are not shown (they are the contact's capability to write to us).
public struct DepositQueues: Codable, Sendable, Equatable {
    public struct Queue: Codable, Sendable, Equatable {
        /// The mailbox relay's ID, 64 lowercase hex digits.
        public var relay: String
        /// "open" (named in the contact's card), "closing" (replaced by a rotation, still taking
        /// mail until `close_at_ms`) or "closed" (closed by us: the relay takes nothing).
        public var state: String
        /// Unix milliseconds; only when closing.
        public var closeAtMilliseconds: Int64?
        /// When the queue was made, unix milliseconds.
        public var createdMilliseconds: Int64

        public init(relay: String, state: String, closeAtMilliseconds: Int64?, createdMilliseconds: Int64) {
            self.relay = relay
            self.state = state
            self.closeAtMilliseconds = closeAtMilliseconds
            self.createdMilliseconds = createdMilliseconds
        }

        enum CodingKeys: String, CodingKey {
            case relay, state
            case closeAtMilliseconds = "close_at_ms"
            case createdMilliseconds = "created_ms"
        }
    }

    public var queues: [Queue]

    public init(queues: [Queue]) { self.queues = queues }
}
