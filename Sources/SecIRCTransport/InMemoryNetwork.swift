internal import Glibc
internal import SecIRCLock
internal import Synchronization

/// The test twin of a UDP network: endpoints bound on it exchange datagrams through in-memory
/// queues, with the semantics of UDP on one host (boundaries kept, no reordering, losses
/// counted rather than reported).
///
/// Binding follows the kernel: port 0 takes a free ephemeral port; an address already bound
/// (or the same port under the unspecified address of the family, either way round) is in use.
/// An endpoint bound to `0.0.0.0` receives datagrams for any IPv4 address with its port that no
/// endpoint is bound to exactly, and its datagrams come from `127.0.0.1`; one bound to `::` is
/// dual-stack (IPv4 and IPv6), and its datagrams come from `127.0.0.1` or `::1`.
public final class InMemoryNetwork: Sendable {
    /// Datagrams each endpoint queues before further ones are dropped.
    public let queueCapacity: Int

    private struct State {
        var endpoints: [SocketAddress: InMemoryMailbox] = [:]
        var losses: Set<LossRule> = []
        var nextEphemeralPort: UInt16 = Self.ephemeralPorts.lowerBound

        static let ephemeralPorts: ClosedRange<UInt16> = 49_152...65_535

        func conflicts(_ address: SocketAddress) -> Bool {
            if endpoints[address] != nil { return true }
            return endpoints.keys.contains { $0.port == address.port && $0.overlaps(address) }
        }

        mutating func ephemeral(for address: SocketAddress) -> SocketAddress? {
            for _ in Self.ephemeralPorts {
                let candidate = address.with(port: nextEphemeralPort)
                nextEphemeralPort = nextEphemeralPort == Self.ephemeralPorts.upperBound
                    ? Self.ephemeralPorts.lowerBound : nextEphemeralPort + 1
                if !conflicts(candidate) { return candidate }
            }
            return nil
        }

        func isLost(from source: SocketAddress, to destination: SocketAddress) -> Bool {
            guard !losses.isEmpty else { return false }
            return losses.contains(LossRule(from: source, to: destination))
                || losses.contains(LossRule(from: source, to: nil))
                || losses.contains(LossRule(from: nil, to: destination))
                || losses.contains(LossRule(from: nil, to: nil))
        }

        func mailbox(for destination: SocketAddress) -> InMemoryMailbox? {
            endpoints[destination]
                ?? endpoints[.unspecified(destination.family, port: destination.port)]
                ?? endpoints[.unspecified(.inet6, port: destination.port)]  // dual stack
        }
    }

    /// A blackholed direction; nil matches any address.
    private struct LossRule: Hashable {
        var from: SocketAddress?
        var to: SocketAddress?
    }

    private let state = Locked(State())
    private let drops = Atomic<Int>(0)

    /// A network whose endpoints each queue up to `queueCapacity` datagrams.
    public init(queueCapacity: Int = 4096) {
        precondition(queueCapacity >= 1, "an endpoint must queue at least one datagram")
        self.queueCapacity = queueCapacity
    }

    /// An endpoint at `address` (port 0: a free ephemeral port). An address in use throws
    /// `.system(call: "bind", errno: EADDRINUSE, ...)`, as the kernel would.
    public func bind(_ address: SocketAddress) throws(TransportError) -> InMemoryTransport {
        let mailbox = InMemoryMailbox(capacity: queueCapacity)
        let bound = try state.withLock { state throws(TransportError) -> SocketAddress in
            let chosen = address.port == 0 ? state.ephemeral(for: address) : address
            guard let chosen, !state.conflicts(chosen) else { throw Syscall.error("bind", EADDRINUSE) }
            state.endpoints[chosen] = mailbox
            return chosen
        }
        return InMemoryTransport(network: self, localAddress: bound, mailbox: mailbox)
    }

    /// Datagrams lost so far: to a full queue, to no endpoint, to a blackholed direction,
    /// or longer than the receiving batch's slots.
    public var dropped: Int { drops.load(ordering: .relaxed) }

    /// Blackholes (`drop: true`) or restores (`drop: false`) the datagrams from `from` to `to`;
    /// nil stands for any address. A rule restores only what the same pair blackholed.
    public func setLoss(from: SocketAddress?, to: SocketAddress?, drop: Bool) {
        let rule = LossRule(from: from, to: to)
        state.withLock { state in
            if drop { state.losses.insert(rule) } else { state.losses.remove(rule) }
        }
    }

    // MARK: - For InMemoryTransport

    /// Hands a datagram to the endpoint bound at `destination`, or counts it as dropped.
    func deliver(_ bytes: [UInt8], from source: SocketAddress, to destination: SocketAddress) {
        let mailbox = state.withLock { state -> InMemoryMailbox? in
            state.isLost(from: source, to: destination) ? nil : state.mailbox(for: destination)
        }
        guard let mailbox, mailbox.enqueue(.init(bytes: bytes, source: source)) else {
            countDrop()
            return
        }
    }

    func countDrop() {
        drops.add(1, ordering: .relaxed)
    }

    func unbind(_ address: SocketAddress, _ mailbox: InMemoryMailbox) {
        state.withLock { state in
            if state.endpoints[address] === mailbox { state.endpoints[address] = nil }
        }
    }
}

extension SocketAddress {
    /// Whether sockets bound to these two addresses (with the same port) would clash: equal
    /// addresses, or an unspecified one covering the other's family (`::` covers IPv4 too).
    fileprivate func overlaps(_ other: SocketAddress) -> Bool {
        if self == other.with(port: port) { return true }
        func covers(_ wide: SocketAddress, _ narrow: SocketAddress) -> Bool {
            wide.isUnspecified && (wide.family == narrow.family || wide.family == .inet6)
        }
        return covers(self, other) || covers(other, self)
    }
}
