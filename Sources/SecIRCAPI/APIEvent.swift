/// An event of `GET /v1/events` (openapi/client.yaml): its name on the stream and, as its data,
/// one line of JSON.
public enum APIEvent: Sendable, Equatable {
    /// `message`: an incoming message, sent once.
    case message(Message)
    /// `receipt`: an outgoing message was delivered.
    case receipt(Receipt)
    /// `contact`: a contact was added by an incoming session set-up, or its session became
    /// established.
    case contact(Contact)
    /// `request`: a session set-up from an unknown identity became a contact request (its
    /// `state` is "requested").
    case request(Contact)
    /// `group_message`: a group post, sent once (this client's own included).
    case groupMessage(GroupMessage)
    /// `group_member`: a group's roster changed (or it was renamed).
    case groupMember(GroupMemberEvent)
    /// `group_invite`: an invitation to a group waits for the user.
    case groupInvite(GroupInvitationInfo)

    /// The `event:` name.
    public var name: String {
        switch self {
        case .message: "message"
        case .receipt: "receipt"
        case .contact: "contact"
        case .request: "request"
        case .groupMessage: "group_message"
        case .groupMember: "group_member"
        case .groupInvite: "group_invite"
        }
    }

    /// The event as the daemon sends it: its name, and its value as JSON with sorted keys and
    /// unescaped slashes.
    public var serverSentEvent: ServerSentEvent {
        let data: [UInt8]?
        switch self {
        case let .message(message): data = try? APIJSON.encode(message)
        case let .receipt(receipt): data = try? APIJSON.encode(receipt)
        case let .contact(contact), let .request(contact): data = try? APIJSON.encode(contact)
        case let .groupMessage(message): data = try? APIJSON.encode(message)
        case let .groupMember(change): data = try? APIJSON.encode(change)
        case let .groupInvite(invitation): data = try? APIJSON.encode(invitation)
        }
        return ServerSentEvent(event: name, data: data.map { String(decoding: $0, as: UTF8.self) } ?? "{}")
    }

    /// The event `received` stands for; nil for a name this API does not send, or data that is
    /// not that event's JSON.
    public init?(_ received: ServerSentEvent) {
        let bytes = Array(received.data.utf8)
        do {
            switch received.event {
            case "message": self = .message(try APIJSON.decode(Message.self, from: bytes))
            case "receipt": self = .receipt(try APIJSON.decode(Receipt.self, from: bytes))
            case "contact": self = .contact(try APIJSON.decode(Contact.self, from: bytes))
            case "request": self = .request(try APIJSON.decode(Contact.self, from: bytes))
            case "group_message": self = .groupMessage(try APIJSON.decode(GroupMessage.self, from: bytes))
            case "group_member": self = .groupMember(try APIJSON.decode(GroupMemberEvent.self, from: bytes))
            case "group_invite": self = .groupInvite(try APIJSON.decode(GroupInvitationInfo.self, from: bytes))
            default: return nil
            }
        } catch {
            return nil
        }
    }
}
