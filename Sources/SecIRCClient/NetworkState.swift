public import SecIRCCore
public import SecIRCCrypto
import Synchronization

/// What the network thread knows and the HTTP threads report: the verified directory, the
/// relays linked, and traffic counters.
public final class NetworkState: Sendable {
    public struct Snapshot: Sendable {
        public var directory: RelayDirectory?
        public var descriptors: [RelayDescriptor] = []
        /// When the directory was fetched and verified.
        public var fetchedAt: UnixTime?
        public var linked: Set<ID> = []
        public var packetsSent = 0
        public var packetsReceived = 0
        public var coverPacketsSent = 0
        public var coverPacketsReceived = 0
        public var dropped: [String: Int] = [:]
    }

    private let state = Mutex(Snapshot())

    public init() {}

    public var snapshot: Snapshot { state.withLock { $0 } }

    func update(_ body: (inout Snapshot) -> Void) { state.withLock { body(&$0) } }

    func drop(_ reason: String) { state.withLock { $0.dropped[reason, default: 0] += 1 } }
}
