internal import Glibc

/// A ``DatagramTransport`` on an ``InMemoryNetwork``: the test twin of ``UDPTransport``, with
/// the same semantics (datagram boundaries kept, at most ``maxDatagramLength`` bytes, receive
/// blocking with a timeout and woken by ``close()``, losses counted in
/// ``InMemoryNetwork/dropped``). Made by ``InMemoryNetwork/bind(_:)``.
public final class InMemoryTransport: DatagramTransport {
    public let localAddress: SocketAddress

    private let network: InMemoryNetwork
    private let mailbox: InMemoryMailbox

    init(network: InMemoryNetwork, localAddress: SocketAddress, mailbox: InMemoryMailbox) {
        self.network = network
        self.localAddress = localAddress
        self.mailbox = mailbox
    }

    deinit {
        close()
    }

    public func receive(into batch: DatagramBatch, timeout: Duration?) throws(TransportError) -> Int {
        try mailbox.receive(into: batch, until: Deadline(timeout: timeout)) { network.countDrop() }
    }

    public func send(_ batch: DatagramBatch) throws(TransportError) -> Int {
        guard !mailbox.isClosed else { throw .closed }
        for slot in 0..<batch.count where batch.length(slot) > maxDatagramLength {
            throw .datagramTooLarge(batch.length(slot))
        }
        for slot in 0..<batch.count {
            let destination = batch.address(slot)
            guard canReach(destination) else {
                network.countDrop()  // the kernel would refuse it (wrong family): dropped and counted
                continue
            }
            let bytes = batch.withDatagram(slot) { [UInt8]($0) }
            network.deliver(bytes, from: source(toward: destination), to: destination)
        }
        return batch.count
    }

    public func send(_ bytes: [UInt8], to address: SocketAddress) throws(TransportError) {
        guard !mailbox.isClosed else { throw .closed }
        guard bytes.count <= maxDatagramLength else { throw .datagramTooLarge(bytes.count) }
        guard canReach(address) else { throw Syscall.error("sendto", EAFNOSUPPORT) }
        network.deliver(bytes, from: source(toward: address), to: address)
    }

    public func wake() {
        mailbox.wake()
    }

    public func close() {
        network.unbind(localAddress, mailbox)
        mailbox.close()
    }

    /// The same family, or IPv4 from a dual-stack endpoint bound to `::`.
    private func canReach(_ destination: SocketAddress) -> Bool {
        destination.family == localAddress.family || (localAddress.family == .inet6 && localAddress.isUnspecified)
    }

    /// What the receiver sees: `localAddress`, or loopback of the destination's family if bound
    /// to `0.0.0.0`/`::` (the kernel would pick the outgoing interface's address).
    private func source(toward destination: SocketAddress) -> SocketAddress {
        localAddress.isUnspecified ? .loopback(destination.family, port: localAddress.port) : localAddress
    }
}
