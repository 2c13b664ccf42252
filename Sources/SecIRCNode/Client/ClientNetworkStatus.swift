public import SecIRCCore
public import SecIRCCrypto

/// What a client's network engine knows and its API reports (`GET /v1/network`): the verified
/// directory, the relays linked, traffic counters and drops by reason.
public struct ClientNetworkStatus: Sendable, Equatable {
    public var directory: RelayDirectory?
    public var descriptors: [RelayDescriptor] = []
    /// When the directory in use was fetched and verified.
    public var fetchedAt: UnixTime?
    /// What brought it (`http`, `https-pinned`, `dns`, ...).
    public var channel: DirectoryTracker.Channel?
    /// The first ring trusted now: the configured roster followed along the changes in force.
    public var roster: Roster?
    public var linked: Set<ID> = []
    public var packetsSent = 0
    public var packetsReceived = 0
    /// Cover packets sent: drop cover in the payload stream's empty slots and loops.
    public var coverPacketsSent = 0
    /// Of those, loops (to the client's own loop queue).
    public var loopPacketsSent = 0
    public var coverPacketsReceived = 0
    /// Drops by reason (`fetch_failed`, `send_failed`, `undecryptable`, ...): every drop a
    /// front end can see. The labels are those of ``ClientDropReason`` and ``ReceiveDropReason``.
    public var dropped: [String: Int] = [:]

    public init() {}

    mutating func drop(_ reason: ClientDropReason, count: Int = 1) {
        guard count > 0 else { return }
        dropped[reason.rawValue, default: 0] += count
    }

    mutating func drop(_ reason: ReceiveDropReason) { dropped[reason.rawValue, default: 0] += 1 }
    /// What the group channel dropped, under `group_` and its reason (``GroupDropReason``).
    mutating func drop(_ reason: GroupDropReason, count: Int) { dropped["group_" + reason.rawValue, default: 0] += count }
}
