public import SecIRCCore
public import SecIRCCrypto

extension Messenger {
    /// What receiving one session message did.
    public struct Received: Sendable {
        /// What to tell the front end, in order.
        public var events: [ClientEvent] = []
        /// Message IDs to acknowledge to a contact (see `Messenger.prepareReceipt`).
        public var receipt: (contact: ID, ids: [MessageID])?
        /// Why it was dropped, when it was.
        public var dropped: String?

        public init(events: [ClientEvent] = [], receipt: (contact: ID, ids: [MessageID])? = nil, dropped: String? = nil) {
            self.events = events
            self.receipt = receipt
            self.dropped = dropped
        }
    }
}
