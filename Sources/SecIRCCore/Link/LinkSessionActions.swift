/// What `LinkSession.seal` tells the caller to do.
public enum LinkSealResult: Sendable, Hashable {
    /// Send this datagram.
    case send([UInt8])
    /// Send this datagram, and start a new handshake: the session reached `rekeyAfterTime`
    /// (initiator side) or `rekeyAfterMessages`.
    case sendAndRekey([UInt8])
    /// Nothing was sealed: `.notConfirmed`, `.expired`, `.counterLimit` or `.frameTooLong`.
    case refused(LinkDropReason)

    /// The datagram to send, if any.
    public var packet: [UInt8]? {
        switch self {
        case let .send(packet), let .sendAndRekey(packet): packet
        case .refused: nil
        }
    }
}

/// What `LinkSession.open` tells the caller to do with a received transport packet.
public enum LinkReceiveAction: Sendable, Hashable {
    /// Hand this plaintext (a link frame) to the layer above.
    case deliver([UInt8])
    /// The first packet a responder session received: key confirmation is done, the session may
    /// now send and should become the current one for its peer. Deliver the plaintext too.
    case confirmed([UInt8])
    /// Drop the datagram and count `reason`.
    case drop(LinkDropReason)

    /// The plaintext to deliver, if any.
    public var plaintext: [UInt8]? {
        switch self {
        case let .deliver(plaintext), let .confirmed(plaintext): plaintext
        case .drop: nil
        }
    }
}

/// What a session's clock says (`LinkSession.timerAction(now:)`).
public enum LinkTimerAction: Sendable, Hashable {
    /// Nothing to do.
    case nothing
    /// Start a new handshake now; the session keeps working until it expires.
    case rekeyNeeded
    /// Discard the session: it neither sends nor accepts anything any more.
    case expired
}
