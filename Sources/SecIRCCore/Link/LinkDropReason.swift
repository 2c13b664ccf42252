/// Why a link state machine dropped a datagram or refused to send. Small and closed so it can
/// be a metrics label (`rawValue`, snake_case): every drop is counted, none is silent.
public enum LinkDropReason: String, Sendable, Hashable, CaseIterable {
    /// Wrong length for its type, or a field that cannot be (checked before any crypto).
    case malformed
    /// A valid message that this state machine does not take (e.g. a response at a responder).
    case unexpectedMessage = "unexpected_message"
    /// mac1 did not verify: dropped before any X25519 work.
    case badMAC1 = "bad_mac1"
    /// Under load without a valid mac2: the responder answered with a cookie reply instead
    /// (the label for counting `.sendCookieReply`).
    case needsCookie = "needs_cookie"
    /// An IK initiation whose timestamp is not greater than the greatest accepted from that
    /// initiator static key.
    case replayedTimestamp = "replayed_timestamp"
    /// An NK initiation whose ephemeral key was seen recently.
    case replayedInitiation = "replayed_initiation"
    /// An IK initiator whose static key is not among the allowed ones.
    case unknownPeer = "unknown_peer"
    /// An AEAD did not verify, or a peer sent a low-order key.
    case decryptFailed = "decrypt_failed"
    /// The receiver index matches no pending handshake or session.
    case unknownIndex = "unknown_index"
    /// A transport counter already received.
    case replayedCounter = "replayed_counter"
    /// A transport counter behind the replay window.
    case counterTooOld = "counter_too_old"
    /// A counter at or above `rejectAfterMessages`.
    case counterLimit = "counter_limit"
    /// The session (or pending handshake) is older than `rejectAfterTime`.
    case expired
    /// The responder may not send before it has received the initiator's first packet.
    case notConfirmed = "not_confirmed"
    /// A plaintext longer than `PacketGeometry.linkFrameLength` (a caller error).
    case frameTooLong = "frame_too_long"
}
