/// What `LinkInitiator.receive` tells the caller to do.
public enum LinkInitiatorAction: Sendable {
    /// The handshake completed. Install the session (replacing any older one with this peer
    /// once this one is in use) and send `send`: a keepalive under the new session that gives
    /// the responder key confirmation (nil only if the limits forbid sending at all).
    case established(LinkSession, send: [UInt8]?)
    /// A cookie reply was accepted: the responder is under load. The next `initiation` carries
    /// mac2; send it now or at the next retry.
    case cookieStored
    /// Drop the datagram and count `reason`.
    case drop(LinkDropReason)

    /// The drop reason, if this is a drop.
    public var dropReason: LinkDropReason? {
        if case let .drop(reason) = self { return reason }
        return nil
    }
}

/// What `LinkResponder.receive` tells the caller to do.
public enum LinkResponderAction: Sendable {
    /// The initiation was valid: send `send` (the response) to the source address and keep the
    /// session, which will not send until the initiator's first transport packet arrives.
    case established(LinkSession, send: [UInt8])
    /// Under load and without a valid mac2: send this cookie reply to the source address. No
    /// X25519 work was done. Count it as `LinkDropReason.needsCookie`.
    case sendCookieReply([UInt8])
    /// Drop the datagram and count `reason`.
    case drop(LinkDropReason)

    /// The drop reason, if this is a drop (`.needsCookie` for a cookie reply).
    public var dropReason: LinkDropReason? {
        switch self {
        case let .drop(reason): reason
        case .sendCookieReply: .needsCookie
        case .established: nil
        }
    }
}
