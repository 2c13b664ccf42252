/// A group (`Group` in openapi/client.yaml): `GET /v1/groups/{id}`, the answer to every change
/// of a group, and the items of a ``GroupList``.
public struct Group: Codable, Sendable, Equatable {
    /// One member of the roster.
    public struct Member: Codable, Sendable, Equatable {
        /// SHA-256 of the member's Ed25519 identity key, 64 lowercase hex digits (a contact's id).
        public var id: String
        public var identityKey: String
        /// "admin" or "member".
        public var role: String
        /// The contact's name when the member is a contact (or "me" for this client), else null.
        public var name: String?
        /// Whether this member is this client.
        public var me: Bool

        public init(id: String, identityKey: String, role: String, name: String?, me: Bool) {
            self.id = id
            self.identityKey = identityKey
            self.role = role
            self.name = name
            self.me = me
        }

        enum CodingKeys: String, CodingKey {
            case id, role, name, me
            case identityKey = "identity_key"
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(id, forKey: .id)
            try c.encode(identityKey, forKey: .identityKey)
            try c.encode(role, forKey: .role)
            try c.encode(name, forKey: .name) // null, not absent
            try c.encode(me, forKey: .me)
        }
    }

    /// SHA-256 of the group's public key, 64 lowercase hex digits.
    public var id: String
    public var name: String
    /// Whether this client is in the roster (false once it left or was removed: read only).
    public var member: Bool
    /// Whether this client is an admin.
    public var admin: Bool
    /// Whether a post is taken now (false while the group waits for its rekey after a member left).
    public var canPost: Bool
    /// The roster's serial (how many changes it has had) and the epoch (key generation).
    public var rosterSerial: UInt64
    public var epoch: UInt32
    /// The most members the group may have.
    public var limit: Int
    /// When this client created or joined it, unix milliseconds.
    public var joinedMilliseconds: Int64
    /// The roster, admins first, then by id.
    public var members: [Member]

    public init(id: String, name: String, member: Bool, admin: Bool, canPost: Bool, rosterSerial: UInt64, epoch: UInt32, limit: Int,
                joinedMilliseconds: Int64, members: [Member]) {
        self.id = id
        self.name = name
        self.member = member
        self.admin = admin
        self.canPost = canPost
        self.rosterSerial = rosterSerial
        self.epoch = epoch
        self.limit = limit
        self.joinedMilliseconds = joinedMilliseconds
        self.members = members
    }

    enum CodingKeys: String, CodingKey {
        case id, name, member, admin, epoch, limit, members
        case canPost = "can_post"
        case rosterSerial = "roster_serial"
        case joinedMilliseconds = "joined_ms"
    }
}

/// `GET /v1/groups`.
public struct GroupList: Codable, Sendable, Equatable {
    public var groups: [Group]

    public init(groups: [Group]) { self.groups = groups }
}

/// The body of `POST /v1/groups`: a name and the accepted contacts to invite.
public struct CreateGroupRequest: Codable, Sendable, Equatable {
    /// 1 to 64 bytes of UTF-8, no control character.
    public var name: String
    /// Contact ids (at most 999).
    public var members: [String]

    public init(name: String, members: [String]) {
        self.name = name
        self.members = members
    }
}

/// The body of `PUT /v1/groups/{id}`: rename (an admin).
public struct RenameGroupRequest: Codable, Sendable, Equatable {
    public var name: String

    public init(name: String) { self.name = name }
}

/// The body of `POST /v1/groups/{id}/members`: invite an accepted contact (an admin).
public struct AddGroupMemberRequest: Codable, Sendable, Equatable {
    /// The contact's id.
    public var contact: String

    public init(contact: String) { self.contact = contact }
}

/// The body of `PUT /v1/groups/{id}/members/{member}`: make the member an admin or not (an admin).
public struct SetGroupRoleRequest: Codable, Sendable, Equatable {
    public var admin: Bool

    public init(admin: Bool) { self.admin = admin }
}

/// A group post (`GroupMessage` in openapi/client.yaml): the items of a ``GroupMessagePage``,
/// the answer to posting, and the data of a `group_message` event.
public struct GroupMessage: Codable, Sendable, Equatable {
    /// Local and increasing: names the post (pass it as `before`).
    public var cursor: Int64
    /// The group's id.
    public var group: String
    /// 16 random bytes, 32 lowercase hex digits (the same at every member).
    public var id: String
    /// The poster's id.
    public var sender: String
    /// "out" (this client's) or "in".
    public var direction: String
    /// "text".
    public var kind: String
    public var text: String
    /// The poster's clock, unix milliseconds (shown, never used for order).
    public var timestampMilliseconds: Int64
    /// The display order is (lamport, poster's key, sequence): the same at every member.
    public var lamport: UInt64
    public var sequence: UInt64

    public init(cursor: Int64, group: String, id: String, sender: String, direction: String, kind: String, text: String,
                timestampMilliseconds: Int64, lamport: UInt64, sequence: UInt64) {
        self.cursor = cursor
        self.group = group
        self.id = id
        self.sender = sender
        self.direction = direction
        self.kind = kind
        self.text = text
        self.timestampMilliseconds = timestampMilliseconds
        self.lamport = lamport
        self.sequence = sequence
    }

    enum CodingKeys: String, CodingKey {
        case cursor, group, id, sender, direction, kind, text, lamport, sequence
        case timestampMilliseconds = "timestamp_ms"
    }
}

/// `GET /v1/groups/{id}/messages`: the newest posts shown before `before`, in display order.
public struct GroupMessagePage: Codable, Sendable, Equatable {
    public var messages: [GroupMessage]
    /// The cursor of the page's first post when earlier ones exist (pass it as `before`), else null.
    public var nextBefore: Int64?

    public init(messages: [GroupMessage], nextBefore: Int64?) {
        self.messages = messages
        self.nextBefore = nextBefore
    }

    enum CodingKeys: String, CodingKey {
        case messages
        case nextBefore = "next_before"
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(messages, forKey: .messages)
        try c.encode(nextBefore, forKey: .nextBefore) // null, not absent
    }
}

/// An invitation waiting for the user (`GroupInvitation` in openapi/client.yaml): the items of
/// `GET /v1/group-invitations` and the data of a `group_invite` event.
public struct GroupInvitationInfo: Codable, Sendable, Equatable {
    /// The group's id (accept or decline by it).
    public var group: String
    /// The contact who sent it.
    public var from: String
    public var name: String
    public var memberCount: Int
    public var receivedMilliseconds: Int64

    public init(group: String, from: String, name: String, memberCount: Int, receivedMilliseconds: Int64) {
        self.group = group
        self.from = from
        self.name = name
        self.memberCount = memberCount
        self.receivedMilliseconds = receivedMilliseconds
    }

    enum CodingKeys: String, CodingKey {
        case group, from, name
        case memberCount = "member_count"
        case receivedMilliseconds = "received_ms"
    }
}

/// `GET /v1/group-invitations`.
public struct GroupInvitationList: Codable, Sendable, Equatable {
    public var invitations: [GroupInvitationInfo]

    public init(invitations: [GroupInvitationInfo]) { self.invitations = invitations }
}

/// The data of a `group_member` event: a roster change.
public struct GroupMemberEvent: Codable, Sendable, Equatable {
    public var group: String
    /// The member's id; null for a rename.
    public var member: String?
    /// "joined", "left", "made_admin", "made_member" or "renamed".
    public var change: String
    /// The group's new name for "renamed", else null.
    public var name: String?

    public init(group: String, member: String?, change: String, name: String?) {
        self.group = group
        self.member = member
        self.change = change
        self.name = name
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(group, forKey: .group)
        try c.encode(member, forKey: .member)
        try c.encode(change, forKey: .change)
        try c.encode(name, forKey: .name)
    }
}
