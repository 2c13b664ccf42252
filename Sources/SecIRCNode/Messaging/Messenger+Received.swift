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
        /// When the message was refused by a rule rather than failing to decrypt: the counter's
        /// label (`request_limit`, `request_full`, `blocked`, `new_contact_limit`), for
        /// `GET /v1/network`'s drops and an info log line without identities.
        public var refusal: String?
        /// The store could not take it (the transaction failed): it must not be acknowledged to
        /// the relay, which will hand it over again.
        public var notStored = false
        /// Not stored because the store is full: the message is not to blame and is not given up on.
        public var storeFull = false

        public init(events: [ClientEvent] = [], receipt: (contact: ID, ids: [MessageID])? = nil, dropped: String? = nil,
                    refusal: String? = nil, notStored: Bool = false, storeFull: Bool = false) {
            self.events = events
            self.receipt = receipt
            self.dropped = dropped
            self.refusal = refusal
            self.notStored = notStored
            self.storeFull = storeFull
        }
    }
}
