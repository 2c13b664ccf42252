public import SecIRCCore
public import SecIRCCrypto

/// What happened that a front end may want to hear about (`GET /v1/events`).
public enum ClientEvent: Sendable, Equatable {
    /// A text message arrived (once per message, never for a duplicate).
    case message(MessageRecord)
    /// An outgoing message was acknowledged end to end.
    case receipt(id: MessageID, contact: ID)
    /// A contact appeared (an incoming session setup accepted for the user, a request the user
    /// accepted) or its session became established.
    case contact(ContactRecord)
    /// A session set-up from an unknown identity became a contact request (docs/PROTOCOL.md §8,
    /// Consent): the user accepts or rejects it. Nothing it sends is announced until then.
    case request(ContactRecord)
}
