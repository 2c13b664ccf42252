public import SecIRCCore
public import SecIRCCrypto

extension Messenger {
    /// What receiving one session message did.
    public struct Received: Sendable {
        /// What to tell the front end, in order.
        public var events: [ClientEvent] = []
        /// Message IDs to acknowledge to a contact (see `Messenger.prepareReceipt`).
        public var receipt: (contact: ID, ids: [MessageID])?
        /// Why it was dropped, when it was (text for the reader, may name the error).
        public var dropped: String?
        /// The counter's label of a refusal (every refusal has one, ``ReceiveDropReason``): for
        /// `GET /v1/network`'s drops and an info log line without identities.
        public var label: ReceiveDropReason?
        /// When the message was refused by a rule rather than failing a check: the label
        /// (`request_limit`, `request_full`, `blocked`, `new_contact_limit`).
        public var refusal: String? { label.flatMap { $0.isRule ? $0.rawValue : nil } }
        /// The store could not take it (the transaction failed): it must not be acknowledged to
        /// the relay, which will hand it over again.
        public var notStored = false
        /// Not stored because the store is full: the message is not to blame and is not given up on.
        public var storeFull = false

        public init(events: [ClientEvent] = [], receipt: (contact: ID, ids: [MessageID])? = nil, dropped: String? = nil,
                    label: ReceiveDropReason? = nil, notStored: Bool = false, storeFull: Bool = false) {
            self.events = events
            self.receipt = receipt
            self.dropped = dropped
            self.label = label
            self.notStored = notStored
            self.storeFull = storeFull
        }

        /// Refused for `label`: `detail` says why in words.
        mutating func refuse(_ label: ReceiveDropReason, _ detail: String) {
            dropped = detail
            self.label = label
        }
    }
}
