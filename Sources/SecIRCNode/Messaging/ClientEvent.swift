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
    /// A group post to show (once per post, this client's own included).
    case groupMessage(GroupMessageRecord)
    /// A group's roster changed: `member` joined, left (or was removed) or changed role.
    case groupMember(group: ID, member: ID, change: GroupMemberChange)
    /// A group was renamed.
    case groupRenamed(group: ID, name: String)
    /// An invitation to a group waits for the user.
    case groupInvite(GroupInvitationRecord)
}

/// How a member's place in a group changed (``ClientEvent/groupMember(group:member:change:)``).
public enum GroupMemberChange: String, Sendable, Equatable {
    case joined
    case left
    case madeAdmin = "made_admin"
    case madeMember = "made_member"
}
