/// Why the messenger refused a whole session message (after reassembly): each is a label of
/// `GET /v1/network`'s `drops` and of the info log line `refused a session set-up or message`
/// (never with identities). docs/PROTOCOL.md §9 gives the check behind each and their order.
public enum ReceiveDropReason: String, Sendable, Hashable, CaseIterable {
    /// The bytes are not a session message (§7.3: size, version, type, card, lengths).
    case malformedSessionMessage = "malformed_session_message"
    /// A type-1 message whose contact card names another sender or agreement key.
    case setupCardMismatch = "setup_card_mismatch"
    /// A set-up for prekeys this client does not hold (never issued, retired a day after their
    /// invite expired, or a one-time invite already answered).
    case unknownPrekeys = "unknown_prekeys"
    /// A set-up from an identity the user rejected (a rule).
    case blocked
    /// A set-up whose initial message was accepted before.
    case replayedSetup = "replayed_setup"
    /// A set-up older than the session in use (or than a removed contact's).
    case supersededSetup = "superseded_setup"
    /// The hourly budget of new contacts is spent (a rule).
    case newContactLimit = "new_contact_limit"
    /// As many contact requests wait as may (a rule).
    case requestLimit = "request_limit"
    /// The responder's key agreement failed (a low-order key).
    case setupFailed = "setup_failed"
    /// The set-up's first ratchet message does not decrypt.
    case setupUndecryptable = "setup_undecryptable"
    /// No session of the sender opens the ratchet message, and it carries no set-up.
    case undecryptable
    /// A contact request holds as many messages as it may (a rule).
    case requestFull = "request_full"
    /// The decrypted plaintext is not an envelope (§7.1).
    case malformedEnvelope = "malformed_envelope"
    /// A card update not signed by the contact or naming another agreement key.
    case cardUpdateMismatch = "card_update_mismatch"
    /// A group control message (envelope kind 6) that does not decode.
    case malformedGroupControl = "malformed_group_control"
    /// A group invitation not from an admin of its group, or not naming this client's keys.
    case groupInvitationRefused = "group_invitation_refused"
    /// A group invitation while ``Messenger/maximumGroupInvitations`` wait for the user.
    case groupInvitationLimit = "group_invitation_limit"
    /// A group catch-up question or answer (§7.10, catching up) for a group this client is not in,
    /// from a contact not in the group (a question) or not an admin of it (an answer), or while
    /// too many wait.
    case groupCatchUpRefused = "group_catch_up_refused"

    /// Refused by a rule of the user's consent (not a failed check): the sender's retry may
    /// get in later, and ``Messenger/Received/refusal`` names it.
    public var isRule: Bool {
        switch self {
        case .blocked, .newContactLimit, .requestLimit, .requestFull: true
        default: false
        }
    }
}
