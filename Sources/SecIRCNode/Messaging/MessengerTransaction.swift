public import SecIRCCore
public import SecIRCCrypto

/// The changes a ``Messenger`` makes inside a write transaction of its ``MessengerStore``, on
/// top of the reads. Each is one step of a transaction; only the whole transaction is atomic.
/// An operation on a contact or message that is not there throws `MessengerError.notFound`
/// unless it says otherwise.
public protocol MessengerTransaction: MessengerReadTransaction {
    // MARK: Own keys

    func setIdentity(_ identity: ClientIdentity) throws
    func setPrekeyRing(_ ring: PrekeyRing) throws
    func setMailboxKeys(_ keys: [MailboxKey]) throws
    func setInviteURI(_ uri: String) throws

    // MARK: Contacts

    /// Adds a contact that is not there (else throws `MessengerError.conflict`), with no card applied yet.
    func insertContact(_ contact: ContactRecord, session: ContactSession) throws
    /// Replaces every field of an existing contact and its session; keeps its messages and
    /// ``MessengerReadTransaction/cardCreated(of:)``.
    func updateContact(_ contact: ContactRecord, session: ContactSession) throws
    /// The ratchet after a message was sent or received.
    func setRatchet(_ ratchet: DoubleRatchet, of id: ID) throws
    /// The contact answered: its session is `.established` and our set-up is no longer sent.
    func setEstablished(_ id: ID) throws
    /// New mailboxes from a contact card made at `cardCreated`.
    func setMailboxes(_ mailboxes: [MailboxAddress], cardCreated: Int64, of id: ID) throws
    /// Renames a contact; false when there is none.
    func renameContact(_ id: ID, to name: String) throws -> Bool
    /// Deletes a contact with its session and every message; false when there is none.
    func deleteContact(_ id: ID) throws -> Bool
    /// Remembers the session a removed contact had (replacing what was remembered).
    func setRemovedContact(_ id: ID, origin: SessionOrigin) throws
    /// Forgets a removed contact (it came back); nothing when it was not remembered.
    func clearRemovedContact(_ id: ID) throws
    /// Replaces the deposit queues of an existing contact (they go when it is deleted).
    func setContactQueues(_ queues: [ContactQueue], of id: ID) throws
    /// Blocks set-ups from `id` (the user rejected its request); nothing when already blocked.
    func setBlocked(_ id: ID, atMs: Int64) throws
    /// Lifts the block on `id` (the user added it from an invite); nothing when it was not blocked.
    func clearBlocked(_ id: ID) throws
    /// Remembers a session set-up (by hash) so a replay is refused; nothing when already remembered.
    func recordSeenSetup(_ hash: Bytes32, atMs: Int64) throws

    // MARK: Messages

    /// Stores a message with no attempts and the next cursor, and returns it. A second message
    /// with the same (contact, direction, id) throws; so does one for a contact that is not there.
    func insertMessage(id: MessageID, contact: ID, direction: MessageRecord.Direction, kind: EnvelopeKind, timestampMs: Int64,
                       body: [UInt8], state: MessageRecord.State, nextAttemptMs: Int64?) throws -> MessageRecord
    /// An attempt was made: `attempts` so far, the next one due at `nextAttemptMs`.
    func recordAttempt(cursor: Int64, attempts: Int, nextAttemptMs: Int64) throws
    /// Keeps the session message sent for the message at `cursor`, for its retries.
    func setPayload(_ payload: StoredPayload, cursor: Int64) throws
    func setState(_ state: MessageRecord.State, cursor: Int64) throws
    /// Marks our message `id` to `contact` delivered (no next attempt, no payload). Returns
    /// whether it changed: false when there is no such outgoing message or it was delivered already.
    func markDelivered(_ id: MessageID, to contact: ID) throws -> Bool

    // MARK: Groups

    /// Adds or replaces the group `record.id`.
    func setGroup(_ record: GroupRecord) throws
    /// Writes and removes parts of the state of the existing group `group` (all others removed
    /// first when `change.isWhole`).
    func changeGroupState(_ group: ID, _ change: GroupSession.StateChange) throws
    /// Deletes a group with its state, posts and waiting deposits; false when there is none.
    func deleteGroup(_ id: ID) throws -> Bool
    /// Adds or replaces the invitation waiting for `record.group`.
    func setGroupInvitation(_ record: GroupInvitationRecord) throws
    /// Removes the invitation waiting for `group`; false when there is none.
    func deleteGroupInvitation(_ group: ID) throws -> Bool
    /// Stores a post of an existing group with the next cursor and returns it.
    func insertGroupMessage(group: ID, id: MessageID, lamport: UInt64, senderKey: SigningPublicKey, sequence: UInt64,
                            kind: EnvelopeKind, timestampMs: Int64, body: [UInt8], outgoing: Bool) throws -> GroupMessageRecord
    /// Queues a deposit of an existing group (no attempt yet, due at `nextAttemptMs`); returns its cursor.
    func insertGroupDeposit(group: ID, mailbox: Bytes32, body: [UInt8], nextAttemptMs: Int64) throws -> Int64
    /// Replaces a waiting deposit's `confirmed`, `attempts` and `nextAttemptMs`; nothing when it is gone.
    func updateGroupDeposit(_ record: GroupDepositRecord) throws
    /// Removes a waiting deposit; nothing when it is gone.
    func deleteGroupDeposit(cursor: Int64) throws
}
