public import SecIRCCore
public import SecIRCCrypto
import SecIRCTransport

/// Every link of one node over its one UDP socket: the sessions it answered (as a relay), the
/// links it makes to relays (Noise IK as a relay, NK as an anonymous client), the frames waiting
/// for a handshake, cookies under load, rekeying and expiry. The relay engine, the client
/// engine, the benchmarks and the tests all use this one type.
///
/// A value type with no socket and no clock: each call takes `now` and the randomness, and
/// appends the datagrams to send to `out`. What it drops it counts (`counters`).
///
/// Contract:
/// - `send(_:to:)` seals a frame on the peer's current session, or queues it (bounded per peer
///   and in total) and starts a handshake, resent every `handshakeRetry`; queued frames leave
///   in order once the handshake completes, and are dropped (counted as handshake timeouts)
///   after `handshakeGiveUp` — `tick` then names the peer, so a caller can avoid it for a while.
/// - A session is rekeyed when sending on it says so (age or message count); an idle session
///   simply expires (`LinkLimits.rejectAfterTime`), as in WireGuard.
/// - A responder session from a known relay's static key becomes that relay's current session
///   once confirmed, and frames queued for the relay leave on it.
/// - A responder session waits in a small table of its own (`maxUnconfirmed`) until the
///   initiator's first packet confirms it, for at most `unconfirmedLifetime`; only then does it
///   take a place in the session table, so unconfirmed handshakes never push out sessions.
/// - Before any X25519 work an initiation must pass `HandshakeAdmission` (per-source rate,
///   unconfirmed and session budgets; cookies once a source has spent half its burst) and find
///   room: sessions of clients (no known relay key) may fill `maxSessions - reservedForRelays`,
///   the rest is kept for relays. While `acceptsHandshakes` is false (draining) initiations are
///   refused.
public struct LinkManager: Sendable {
    public struct Configuration: Sendable {
        /// The node's static link key: a relay's (it answers handshakes and makes IK links). Nil
        /// for a client, which only makes anonymous NK links and answers nothing.
        public var localStatic: AgreementPrivateKey?
        /// Confirmed link sessions held at once; handshakes beyond it are refused.
        public var maxSessions = 65_536
        /// Room in `maxSessions` that only relays' sessions (a known relay's static key) may use.
        public var reservedForRelays = 4096
        /// Responder sessions answered and waiting for the initiator's first packet.
        public var maxUnconfirmed = 4096
        /// How long an answered handshake may wait for its confirmation (an honest initiator
        /// sends its first packet one round trip after the response).
        public var unconfirmedLifetime: Duration = .seconds(5)
        /// Per-source handshake budgets (responders only).
        public var admission = HandshakeAdmission.Limits()
        /// Frames one peer may have waiting for its handshake.
        public var pendingPerPeer = 256
        /// Frames all peers together may have waiting.
        public var pendingTotal = 8192
        /// Handshakes per second above which initiations need a cookie (mac2).
        public var handshakesPerSecondUnderLoad = 500
        /// An unanswered initiation is sent again after this long.
        public var handshakeRetry: Duration = LinkTimers.rekeyTimeout
        /// Frames waiting this long for a handshake are dropped.
        public var handshakeGiveUp: Duration = .seconds(30)
        public var limits: LinkLimits = .standard
        public var geometry: PacketGeometry = .standard

        public init(localStatic: AgreementPrivateKey?) {
            self.localStatic = localStatic
        }

        /// A client's links: NK only, quick to retry and to give up (the client tries another
        /// relay rather than wait).
        public static var client: Configuration {
            var configuration = Configuration(localStatic: nil)
            configuration.handshakeRetry = .seconds(1)
            configuration.handshakeGiveUp = .milliseconds(3500)
            configuration.maxSessions = 1024
            configuration.reservedForRelays = 0
            return configuration
        }
    }

    /// What became of a frame given to `send`.
    public enum SendResult: Sendable, Equatable {
        /// Sealed and appended to the output.
        case sent
        /// Waiting for a handshake with the peer.
        case queued
        /// Dropped and counted (no such peer, queue full, session refused to seal).
        case dropped
    }

    struct Session: Sendable {
        var link: LinkSession
        var address: SocketAddress
        /// The relay at the other end, when known (our links to relays; IK sessions from relays).
        var peer: ID?
        /// The host whose budget the session counts against (responder sessions from addresses
        /// that are not known relays').
        var source: HostPrefix?
        /// An unconfirmed responder session is dropped at this time.
        var confirmBy: UnixTime?

        /// A session a client made to us: it may not use the room kept for relays.
        var isClients: Bool { link.role == .responder && peer == nil }
    }

    struct Peer: Sendable {
        var info: LinkPeer
        /// Added by an operator: kept when the directory's peer list is replaced.
        var persistent: Bool
        var session: UInt32?
        var initiator: LinkInitiator
        var lastInitiation: UnixTime?
        var firstQueued: UnixTime?
        var queued: [[UInt8]] = []
    }

    public let configuration: Configuration
    public internal(set) var counters = LinkCounters()
    /// False while draining: initiations are refused.
    public var acceptsHandshakes = true

    var responder: LinkResponder?
    var admission: HandshakeAdmission
    /// Confirmed sessions, and our own (initiator) sessions.
    var sessions: [UInt32: Session] = [:]
    /// Responder sessions waiting for the initiator's first packet.
    var unconfirmed: [UInt32: Session] = [:]
    /// Confirmed sessions of clients (`Session.isClients`).
    var clientSessions = 0
    var peers: [ID: Peer] = [:]
    var peerByKey: [AgreementPublicKey: ID] = [:]
    var pendingHandshakes: [UInt32: ID] = [:]
    /// Peers with frames waiting for a handshake.
    var waiting: Set<ID> = []
    var queuedTotal = 0
    var handshakeWindow: (second: Int64, count: Int) = (0, 0)
    /// Sessions by expiry time (they are dropped when it comes; nothing walks the table).
    var expiries = TimedHeap<UInt32>()

    public init(configuration: Configuration, now: UnixTime, rng: inout some RandomSource) {
        self.configuration = configuration
        admission = HandshakeAdmission(limits: configuration.admission)
        if let key = configuration.localStatic {
            responder = LinkResponder(localStatic: key, limits: configuration.limits, geometry: configuration.geometry,
                                      now: now, rng: &rng)
        }
    }

    // MARK: Peers

    /// Replaces the peers that came from the directory with `list` (operator-added ones stay).
    /// A peer whose address or key changed gets a new initiator; its old session is dropped.
    public mutating func setPeers(_ list: [LinkPeer]) {
        let ids = Set(list.map(\.id))
        for (id, peer) in peers where !peer.persistent && !ids.contains(id) { removePeer(id) }
        // An operator's peer stays as the operator gave it, whatever the directory says.
        for info in list where peers[info.id]?.persistent != true { upsert(info, persistent: false) }
        refreshExempt()
    }

    /// Adds or updates one peer; `persistent` peers survive `setPeers`.
    public mutating func addPeer(_ info: LinkPeer, persistent: Bool = true) {
        upsert(info, persistent: persistent)
        refreshExempt()
    }

    /// Forgets a peer with its session; frames waiting for it are dropped (counted as no route).
    public mutating func removePeer(_ id: ID) {
        guard let peer = peers.removeValue(forKey: id) else { return }
        if peerByKey[peer.info.linkKey] == id { peerByKey[peer.info.linkKey] = nil }
        if let index = peer.session { removeSession(index) }
        if let index = peer.initiator.pendingIndex { pendingHandshakes[index] = nil }
        counters.noRoute += peer.queued.count
        queuedTotal -= peer.queued.count
        waiting.remove(id)
        refreshExempt()
    }

    /// Drops confirmed session `index`, returning its place to its source's budget.
    mutating func removeSession(_ index: UInt32) {
        guard let session = sessions.removeValue(forKey: index) else { return }
        if let source = session.source { admission.ended(source) }
        if session.isClients { clientSessions -= 1 }
    }

    /// Makes `session` a confirmed one (the caller checked the room).
    mutating func insertSession(_ session: Session) {
        let index = session.link.localIndex
        sessions[index] = session
        expiries.insert(index, at: session.link.expiresAt)
        if session.isClients { clientSessions += 1 }
    }

    /// The relays' link addresses are outside the per-source budgets.
    private mutating func refreshExempt() {
        guard responder != nil else { return }
        admission.exempt = Set(peers.values.map(\.info.address))
    }

    /// Stops sending on the peer's current session, so the next frame makes a new link (the
    /// relay may have restarted and forgotten ours). The old session is not dropped: answers in
    /// flight on it still open until it expires. Frames already waiting keep waiting.
    public mutating func reset(_ id: ID) {
        guard peers[id] != nil else { return }
        peers[id]!.lastInitiation = nil
        peers[id]!.session = nil
    }

    public func peer(_ id: ID) -> LinkPeer? { peers[id]?.info }

    private mutating func upsert(_ info: LinkPeer, persistent: Bool) {
        if let existing = peers[info.id], existing.info == info {
            peers[info.id]?.persistent = existing.persistent || persistent
            return
        }
        if peers[info.id] != nil { removePeer(info.id) }
        let initiator = configuration.localStatic.map {
            LinkInitiator(localStatic: $0, responderStatic: info.linkKey, limits: configuration.limits, geometry: configuration.geometry)
        } ?? LinkInitiator(anonymousTo: info.linkKey, limits: configuration.limits, geometry: configuration.geometry)
        peers[info.id] = Peer(info: info, persistent: persistent, session: nil, initiator: initiator)
        peerByKey[info.linkKey] = info.id
    }

    // MARK: State

    /// Link sessions held (both directions, confirmed or not).
    public var sessionCount: Int { sessions.count + unconfirmed.count }
    /// Responder sessions waiting for confirmation.
    public var unconfirmedCount: Int { unconfirmed.count }
    /// Hosts whose handshake budgets are being tracked.
    public var trackedSources: Int { admission.sourceCount }
    /// Peers with a usable current session.
    public var linkedPeers: Set<ID> {
        Set(peers.values.filter { $0.session.map { sessions[$0] != nil } ?? false }.map(\.info.id))
    }
    /// Frames waiting for handshakes.
    public var queuedFrames: Int { queuedTotal }
    /// Whether session `index` still exists.
    public func hasSession(_ index: UInt32) -> Bool { sessions[index] != nil }
}
