public import SecIRCCore
public import SecIRCCrypto

/// The reads a ``Messenger`` makes inside a transaction of its ``MessengerStore``. Values come
/// back plain (secrets opened); how they are kept is the store's business.
public protocol MessengerReadTransaction: AnyObject {
    // MARK: Own keys

    /// The identity, once made.
    func identity() throws -> ClientIdentity?
    /// The prekeys behind the invites (empty before the first invite).
    func prekeyRing() throws -> PrekeyRing
    /// The mailboxes this client owns, in the order chosen.
    func mailboxKeys() throws -> [MailboxKey]
    /// The last invite made (its `secirc:` URI).
    func inviteURI() throws -> String?

    // MARK: Contacts

    func contact(id: ID) throws -> ContactRecord?
    /// Every contact, by `addedMs` and then ID.
    func contacts() throws -> [ContactRecord]
    /// The contact's session; nil when there is no such contact.
    func session(of id: ID) throws -> ContactSession?
    /// The `created` of the last contact card applied by ``MessengerTransaction/setMailboxes(_:cardCreated:of:)``
    /// (0 when none was); nil when there is no such contact.
    func cardCreated(of id: ID) throws -> Int64?
    /// How many contacts started their own session (their ID is its origin's initiator) and were
    /// added strictly after `addedAfterMs`, not counting those that answered a one-time invite
    /// (``ContactRecord/Consent/invited``).
    func countSelfStartedContacts(addedAfterMs: Int64) throws -> Int
    /// The origin of the session a removed contact had; nil when `id` was not removed (or came back).
    func removedContact(id: ID) throws -> SessionOrigin?
    /// Every contact's deposit queues (``ContactQueue``), by contact and then creation.
    func contactQueues() throws -> [ContactQueue]
    /// Whether the user rejected a contact request from `id` (``MessengerTransaction/setBlocked(_:atMs:)``).
    func isBlocked(_ id: ID) throws -> Bool
    /// How many incoming messages (of any kind) are stored from `contact`, and their bodies'
    /// bytes as stored (a store that seals bodies counts the sealed bytes).
    func incomingTotals(from contact: ID) throws -> (count: Int, bytes: Int)
    /// Whether a session set-up with this hash was seen (``MessengerTransaction/recordSeenSetup(_:atMs:)``).
    func hasSeenSetup(_ hash: Bytes32) throws -> Bool

    // MARK: Messages

    /// The sending state of the message at `cursor`; nil when there is none.
    func outboxEntry(cursor: Int64) throws -> OutboxEntry?
    /// Whether an incoming message `id` from `contact` is stored.
    func hasReceived(_ id: MessageID, from contact: ID) throws -> Bool
    /// Messages whose next attempt is due by `nowMs`, by due time and then cursor, at most `limit`.
    func dueOutbox(nowMs: Int64, limit: Int) throws -> [MessageRecord]
    /// The earliest due time of the outbox, if it holds anything.
    func nextOutboxDueMs() throws -> Int64?
    /// Messages with a next attempt (not yet delivered).
    func outboxCount() throws -> Int
    /// The newest `limit` text messages of the conversation with `contact` whose cursor is below
    /// `before` (all when nil), oldest first, and whether older ones exist.
    func textMessages(with contact: ID, before: Int64?, limit: Int) throws -> MessagePage
    /// Per contact with text messages: the last one and how many there are.
    func conversationSummaries() throws -> [ID: ConversationSummary]
    /// The message with this end-to-end ID (of the lowest cursor when two contacts used it).
    func message(id: MessageID) throws -> MessageRecord?

    // MARK: Groups

    /// Every group, by `joinedMs` and then ID.
    func groups() throws -> [GroupRecord]
    func group(id: ID) throws -> GroupRecord?
    /// The parts of the group's state (``GroupSession/stateParts``) by key; none when there is no such group.
    func groupState(_ group: ID) throws -> [[UInt8]: [UInt8]]
    /// Invitations waiting for the user, by `receivedMs` and then group.
    func groupInvitations() throws -> [GroupInvitationRecord]
    /// The newest `limit` posts of `group` shown before the post at cursor `before` (all when
    /// nil), in display order, and whether earlier ones exist.
    func groupMessages(in group: ID, before: Int64?, limit: Int) throws -> GroupMessagePage
    /// The post at `cursor`.
    func groupMessage(cursor: Int64) throws -> GroupMessageRecord?
    /// Every deposit waiting in the group outbox, by cursor.
    func groupDeposits() throws -> [GroupDepositRecord]
    /// The deposits waiting in the group outbox whose body is `body`, by cursor.
    func groupDeposits(withBody body: [UInt8]) throws -> [GroupDepositRecord]
    /// The deposits whose next attempt is due by `ms`, by cursor, at most `limit`.
    func groupDeposits(dueByMs ms: Int64, limit: Int) throws -> [GroupDepositRecord]
    /// Every waiting deposit's key and next attempt time, by cursor (no bodies read).
    func groupDepositKeys() throws -> [GroupDepositKey]
}
