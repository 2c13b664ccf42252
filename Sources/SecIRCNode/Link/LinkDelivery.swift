public import SecIRCCrypto
public import SecIRCTransport

/// A link frame that arrived: its plaintext, the session it came on (answer on the same one with
/// `LinkManager.reply`), the relay at the other end when the session belongs to a known relay
/// (nil for anonymous client sessions), and the address it came from (kept in memory only: what
/// per-link shares are keyed by).
public struct LinkDelivery: Sendable {
    public var frame: [UInt8]
    public var session: UInt32
    public var peer: ID?
    public var address: SocketAddress

    /// The incoming link the frame belongs to, for per-link shares: the relay when known, else
    /// the sending host (a client's many sessions count as one link).
    public var incomingLink: IncomingLink { peer.map(IncomingLink.relay) ?? .host(address.hostPrefix) }
}

/// Who a packet came from, as far as shares of bounded queues go.
public enum IncomingLink: Hashable, Sendable {
    case relay(ID)
    case host(HostPrefix)
}
