import SecIRCLock
public import SecIRCNode

/// What the client's loop publishes for the HTTP threads (`GET /v1/network`): the network
/// engine's status after its latest turns. Thread-safe.
public final class NetworkState: Sendable {
    private let state = Locked(ClientNetworkStatus())

    public init() {}

    public var snapshot: ClientNetworkStatus { state.withLock { $0 } }

    public func publish(_ status: ClientNetworkStatus) { state.withLock { $0 = status } }
}
