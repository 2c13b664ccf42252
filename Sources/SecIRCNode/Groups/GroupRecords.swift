public import SecIRCCore
public import SecIRCCrypto

/// A group this client is in or was in, as its ``MessengerStore`` keeps it: what a list shows
/// without opening the member engine's state, which the store keeps beside it in parts
/// (``GroupSession/stateParts``, sealed at rest by a store on disk).
public struct GroupRecord: Sendable, Equatable {
    /// The group ID: SHA-256 of the group's public key (docs/PROTOCOL.md §7.7).
    public var id: ID
    /// The roster's name (a copy of what the state holds, for listing).
    public var name: String
    /// When this client created or joined the group (Unix milliseconds).
    public var joinedMs: Int64
    /// Whether this client is in the current roster (false once it left or was removed).
    public var isMember: Bool
    /// Changed with every write of the state's parts (a random value): a session kept in memory
    /// is the stored one while its tag is the record's.
    public var stateTag: UInt64

    public init(id: ID, name: String, joinedMs: Int64, isMember: Bool, stateTag: UInt64 = 0) {
        self.id = id
        self.name = name
        self.joinedMs = joinedMs
        self.isMember = isMember
        self.stateTag = stateTag
    }
}

/// An invitation to a group that waits for the user to accept or decline it (docs/PROTOCOL.md
/// §8, Groups): from an accepted contact, inside their pairwise session.
public struct GroupInvitationRecord: Sendable, Equatable {
    /// The group it is for (one waiting invitation per group: a later one replaces it).
    public var group: ID
    /// The contact who sent it.
    public var from: ID
    public var name: String
    public var memberCount: Int
    public var receivedMs: Int64
    /// ``GroupInvitation/encoded`` (it holds the epoch secret: sealed at rest).
    public var invitation: [UInt8]

    public init(group: ID, from: ID, name: String, memberCount: Int, receivedMs: Int64, invitation: [UInt8]) {
        self.group = group
        self.from = from
        self.name = name
        self.memberCount = memberCount
        self.receivedMs = receivedMs
        self.invitation = invitation
    }
}

/// One post of a group as shown: in the order every member shows (``GroupTimeline/Position``).
public struct GroupMessageRecord: Sendable, Equatable {
    /// Local, increasing (assigned by the store): names the message in the API.
    public var cursor: Int64
    public var group: ID
    /// The poster's ID (SHA-256 of its Ed25519 key).
    public var sender: ID
    public var id: MessageID
    public var lamport: UInt64
    public var senderKey: SigningPublicKey
    public var sequence: UInt64
    public var kind: EnvelopeKind
    /// The poster's timestamp (Unix milliseconds): shown, never used for order.
    public var timestampMs: Int64
    public var body: [UInt8]
    /// Whether this client posted it.
    public var outgoing: Bool

    public init(cursor: Int64, group: ID, id: MessageID, lamport: UInt64, senderKey: SigningPublicKey, sequence: UInt64,
                kind: EnvelopeKind, timestampMs: Int64, body: [UInt8], outgoing: Bool) {
        self.cursor = cursor
        self.group = group
        self.sender = senderKey.id
        self.id = id
        self.lamport = lamport
        self.senderKey = senderKey
        self.sequence = sequence
        self.kind = kind
        self.timestampMs = timestampMs
        self.body = body
        self.outgoing = outgoing
    }

    /// Where it is shown.
    public var position: GroupTimeline.Position { GroupTimeline.Position(lamport: lamport, member: senderKey, sequence: sequence) }
    /// The body as UTF-8 text (invalid sequences replaced).
    public var text: String { String(decoding: body, as: UTF8.self) }
}

/// A page of a group's posts, in display order (oldest first).
public struct GroupMessagePage: Sendable, Equatable {
    public var messages: [GroupMessageRecord]
    /// Whether posts exist before the first of this page.
    public var more: Bool

    public init(messages: [GroupMessageRecord], more: Bool) {
        self.messages = messages
        self.more = more
    }
}

/// One sealed packet waiting to reach a group mailbox (the group outbox): deposited at each of
/// the mailbox's relays until the client reads it back from that relay's copy, or given up on
/// after ``Messenger/groupDepositAttempts`` (members ask again for what they miss).
public struct GroupDepositRecord: Sendable, Equatable {
    /// Local, increasing (assigned by the store).
    public var cursor: Int64
    public var group: ID
    public var mailbox: Bytes32
    public var body: [UInt8]
    /// Relays whose copy of the mailbox was seen to hold it.
    public var confirmed: Set<ID>
    public var attempts: Int
    public var nextAttemptMs: Int64

    public init(cursor: Int64, group: ID, mailbox: Bytes32, body: [UInt8], confirmed: Set<ID>, attempts: Int, nextAttemptMs: Int64) {
        self.cursor = cursor
        self.group = group
        self.mailbox = mailbox
        self.body = body
        self.confirmed = confirmed
        self.attempts = attempts
        self.nextAttemptMs = nextAttemptMs
    }

    /// What a body read back is first matched with: its first 32 bytes (a sealed packet's fresh
    /// X25519 key, random), zeros past a shorter body's end. Nothing is hashed: an admin's outbox
    /// can hold thousands of deposits, and every body read back is looked up in it.
    public var key: Bytes32 { Self.key(of: body) }

    /// ``key`` of `body`.
    public static func key(of body: [UInt8]) -> Bytes32 {
        Bytes32 { out in
            body.withUnsafeBytes { out.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0.prefix(Bytes32.byteCount))) }
        }
    }
}

/// A deposit of the group outbox without its body: what the network engine watches.
public struct GroupDepositKey: Sendable, Equatable {
    /// ``GroupDepositRecord/key``.
    public var key: Bytes32
    public var nextAttemptMs: Int64

    public init(key: Bytes32, nextAttemptMs: Int64) {
        self.key = key
        self.nextAttemptMs = nextAttemptMs
    }
}
