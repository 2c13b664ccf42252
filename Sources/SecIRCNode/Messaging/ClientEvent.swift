public import SecIRCCore
public import SecIRCCrypto

/// What happened that a front end may want to hear about (`GET /v1/events`).
public enum ClientEvent: Sendable, Equatable {
    /// A text message arrived (once per message, never for a duplicate).
    case message(MessageRecord)
    /// An outgoing message was acknowledged end to end.
    case receipt(id: MessageID, contact: ID)
    /// A contact appeared (an incoming session setup) or its session became established.
    case contact(ContactRecord)
}
