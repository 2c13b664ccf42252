/// A UDP socket abstraction, with ``UDPTransport`` (the kernel's) and ``InMemoryTransport``
/// (a test twin with the same semantics) behind it.
///
/// Calls block, with timeouts: a transport is meant for one dedicated I/O thread that
/// receives, plus any threads that send. Datagram boundaries are kept; a datagram carries at
/// most ``maxDatagramLength`` bytes.
public protocol DatagramTransport: AnyObject, Sendable {
    /// The bound address, with the real port if bound to port 0.
    var localAddress: SocketAddress { get }

    /// Waits up to `timeout` (nil: until data arrives or the transport is closed) and fills
    /// `batch` from slot 0 with as many queued datagrams as it holds; sets `batch.count` and
    /// returns it (0 on timeout). A datagram longer than a slot is dropped and counted.
    /// Throws ``TransportError/closed`` after ``close()``, also when woken by it.
    func receive(into batch: DatagramBatch, timeout: Duration?) throws(TransportError) -> Int

    /// Sends slots `0..<batch.count` and returns `n`: slots `0..<n` were handed to the kernel
    /// (one the kernel refused for reasons of its own, such as an unreachable network, is
    /// dropped and counted, as the network might drop it); slots `n..<count` were not sent
    /// because the socket buffer is full. A full buffer is not an error.
    /// Throws ``TransportError/datagramTooLarge(_:)`` before sending anything if a slot is
    /// longer than ``maxDatagramLength``, and ``TransportError/closed`` after ``close()``.
    func send(_ batch: DatagramBatch) throws(TransportError) -> Int

    /// Sends one datagram. A full socket buffer drops it (counted), as the network might;
    /// other failures throw.
    func send(_ bytes: [UInt8], to address: SocketAddress) throws(TransportError)

    /// Makes a blocked ``receive(into:timeout:)`` return 0 now, or the next one if none is
    /// blocked (an event loop uses it when another thread hands it work). Wakes do not pile up:
    /// several before a receive end one wait. No effect after ``close()``.
    func wake()

    /// Wakes a blocked ``receive(into:timeout:)`` (it throws ``TransportError/closed``) and
    /// releases the socket. Later calls throw ``TransportError/closed``. Idempotent.
    func close()
}

/// The largest UDP payload over IPv4 (65,535 − 20-byte IP header − 8-byte UDP header).
public let maxDatagramLength = 65_507
