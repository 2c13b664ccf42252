internal import Glibc
internal import SecIRCLock
internal import Synchronization

/// A ``DatagramTransport`` over a non-blocking POSIX UDP socket.
///
/// Receive waits in `poll(2)` on the socket and on a wakeup channel (so ``close()`` can wake
/// it), then drains up to a batch with one `recvmmsg(2)`; send hands a batch to the kernel with
/// `sendmmsg(2)`. Neither allocates. An ICMP error reported on the unconnected socket
/// (`ECONNREFUSED` and the like, from an earlier send) is ignored.
///
/// A socket bound to `::` is dual-stack: it also serves IPv4 peers, which appear as IPv4
/// addresses. Losses are counted in ``counters``.
public final class UDPTransport: DatagramTransport {
    /// Datagrams this transport lost, for metrics.
    public struct Counters: Sendable, Equatable {
        /// Dropped by the kernel at this socket, nearly always because the receive buffer was
        /// full (`SK_MEMINFO_DROPS`; kept after close).
        public var receiveBufferDrops: Int
        /// Received datagrams longer than the batch's slots, dropped.
        public var truncated: Int
        /// Single sends dropped because the send buffer was full.
        public var sendBufferFull: Int
        /// Batch datagrams the kernel refused (unreachable network, wrong address family, ...), dropped.
        public var sendRefused: Int
    }

    public let localAddress: SocketAddress

    private let socket: Int32
    private let wakeup: WakeupChannel
    /// Readable after ``wake()``: ends one wait in ``receive(into:timeout:)``.
    private let nudge: WakeupChannel
    /// An IPv6 socket: IPv4 destinations are written as IPv4-mapped addresses.
    private let isIPv6: Bool
    private let lifecycle = Locked(Lifecycle())
    private let truncated = Atomic<Int>(0)
    private let sendBufferFull = Atomic<Int>(0)
    private let sendRefused = Atomic<Int>(0)
    private let receiveBufferDropsAtClose = Atomic<Int>(0)

    /// The descriptors are closed only when no call is using them, so that a descriptor number
    /// reused by another open never receives this transport's I/O.
    private struct Lifecycle {
        var closed = false
        /// Calls inside a system call on the descriptors.
        var users = 0
    }

    /// Opens a UDP socket bound to `address` (port 0: an ephemeral port, see ``localAddress``).
    /// The buffer sizes are requested with `SO_RCVBUFFORCE`/`SO_SNDBUFFORCE` where permitted,
    /// else the kernel caps them at `net.core.rmem_max`/`wmem_max`.
    public init(
        bind address: SocketAddress, receiveBufferBytes: Int = 4 << 20, sendBufferBytes: Int = 4 << 20
    ) throws(TransportError) {
        let opened = try Self.openSocket(
            bind: address, receiveBufferBytes: receiveBufferBytes, sendBufferBytes: sendBufferBytes)
        do {
            wakeup = try WakeupChannel()
        } catch {
            _ = Glibc.close(opened.socket)
            throw error
        }
        do {
            nudge = try WakeupChannel()
        } catch {
            _ = Glibc.close(opened.socket)
            wakeup.close()
            throw error
        }
        socket = opened.socket
        localAddress = opened.local
        isIPv6 = address.family == .inet6
    }

    deinit {
        let open = lifecycle.withLock { state in
            defer { state.closed = true }
            return !state.closed
        }
        if open { releaseDescriptors() }
    }

    // MARK: - DatagramTransport

    public func receive(into batch: DatagramBatch, timeout: Duration?) throws(TransportError) -> Int {
        try enter()
        defer { leave() }
        batch.count = 0
        let deadline = Deadline(timeout: timeout)
        while true {
            if let received = try receiveQueued(into: batch) {
                if received > 0 {
                    batch.count = received
                    return received
                }
                // All of it dropped as truncated, or an ICMP report consumed: look again, unless
                // the time is up (a flood of oversize datagrams must not hold the caller forever).
                if deadline.hasPassed { return 0 }
                continue
            }
            var descriptors = (
                pollfd(fd: socket, events: Int16(POLLIN), revents: 0),
                pollfd(fd: wakeup.readEnd, events: Int16(POLLIN), revents: 0),
                pollfd(fd: nudge.readEnd, events: Int16(POLLIN), revents: 0))
            let ready = try Syscall.call("poll") {
                withUnsafeMutableBytes(of: &descriptors) { raw in
                    poll(raw.baseAddress!.assumingMemoryBound(to: pollfd.self), 3, deadline.pollMilliseconds)
                }
            }
            if descriptors.1.revents != 0 { throw .closed }
            if descriptors.2.revents != 0 {
                nudge.drain()
                return 0
            }
            if ready == 0, deadline.hasPassed { return 0 }
        }
    }

    public func send(_ batch: DatagramBatch) throws(TransportError) -> Int {
        try enter()
        defer { leave() }
        let count = batch.count
        for slot in 0..<count where batch.lengths[slot] > maxDatagramLength {
            throw .datagramTooLarge(batch.lengths[slot])
        }
        batch.prepareForSend(mapIPv4ToIPv6: isIPv6)
        var sent = 0
        var reportConsumed = false
        while sent < count {
            let (result, code) = Syscall.attempt {
                MultipleMessageCalls.send(socket, batch.messageHeaders(from: sent), UInt32(clamping: count - sent), 0)
            }
            if result > 0 {
                sent += Int(result)
                continue
            }
            switch code {
            case EAGAIN, EWOULDBLOCK, ENOBUFS, ENOMEM:
                return sent  // the buffer is full: the caller decides what to do with the rest
            case EBADF, ENOTSOCK, EFAULT, EOPNOTSUPP:
                throw Syscall.error("sendmmsg", code)
            case ECONNREFUSED where !reportConsumed:
                reportConsumed = true  // an ICMP report of an earlier send, now consumed: try again
            default:
                sendRefused.add(1, ordering: .relaxed)  // this datagram alone: drop it, go on
                sent += 1
            }
        }
        return sent
    }

    public func send(_ bytes: [UInt8], to address: SocketAddress) throws(TransportError) {
        try enter()
        defer { leave() }
        guard bytes.count <= maxDatagramLength else { throw .datagramTooLarge(bytes.count) }
        var name = sockaddr_storage()
        let nameLength = address.write(to: &name, mappedToIPv6: isIPv6)
        var reportConsumed = false
        while true {
            let (result, code) = Syscall.attempt {
                bytes.withUnsafeBytes { buffer in
                    withUnsafePointer(to: &name) { storage in
                        storage.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                            sendto(socket, buffer.baseAddress, buffer.count, 0, $0, nameLength)
                        }
                    }
                }
            }
            if result >= 0 { return }
            switch code {
            case EAGAIN, EWOULDBLOCK, ENOBUFS, ENOMEM:
                sendBufferFull.add(1, ordering: .relaxed)
                return
            case ECONNREFUSED where !reportConsumed:
                reportConsumed = true
            default:
                throw Syscall.error("sendto", code)
            }
        }
    }

    public func wake() {
        guard (try? enter()) != nil else { return }
        defer { leave() }
        nudge.signal()
    }

    public func close() {
        let release = lifecycle.withLock { state in
            guard !state.closed else { return false }
            state.closed = true
            guard state.users == 0 else {
                wakeup.signal()  // under the lock: the descriptors stay open while users > 0
                return false
            }
            return true
        }
        if release { releaseDescriptors() }
    }

    // MARK: - Counters

    /// What this transport has lost so far.
    public var counters: Counters {
        Counters(
            receiveBufferDrops: receiveBufferDrops(),
            truncated: truncated.load(ordering: .relaxed),
            sendBufferFull: sendBufferFull.load(ordering: .relaxed),
            sendRefused: sendRefused.load(ordering: .relaxed))
    }

    /// `SO_MEMINFO` (Linux 4.6+) returns the socket's memory counters; `SK_MEMINFO_DROPS` is
    /// the number of datagrams the kernel dropped at this socket. Not in Swift's Glibc module.
    private static let memoryInfoOption: Int32 = 55
    private static let memoryInfoDropsIndex = 8
    private static let memoryInfoCount = 9

    private func receiveBufferDrops() -> Int {
        guard (try? enter()) != nil else { return receiveBufferDropsAtClose.load(ordering: .relaxed) }
        defer { leave() }
        return queryReceiveBufferDrops() ?? 0
    }

    private func queryReceiveBufferDrops() -> Int? {
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: Self.memoryInfoCount) { info in
            info.initialize(repeating: 0)
            var length = socklen_t(Self.memoryInfoCount * MemoryLayout<UInt32>.size)
            let (result, _) = Syscall.attempt {
                getsockopt(socket, SOL_SOCKET, Self.memoryInfoOption, info.baseAddress, &length)
            }
            guard result == 0, Int(length) > Self.memoryInfoDropsIndex * MemoryLayout<UInt32>.size else { return nil }
            return Int(info[Self.memoryInfoDropsIndex])
        }
    }

    // MARK: - Internals

    /// One `recvmmsg` that does not wait: nil if nothing is queued, else how many datagrams it
    /// put in slots `0..<n` (fewer than read if some were truncated).
    private func receiveQueued(into batch: DatagramBatch) throws(TransportError) -> Int? {
        batch.prepareForReceive()
        let (result, code) = Syscall.attempt {
            MultipleMessageCalls.receive(
                socket, batch.messageHeaders(from: 0), UInt32(clamping: batch.capacity),
                Int32(MSG_WAITFORONE | MSG_DONTWAIT), nil)
        }
        guard result >= 0 else {
            switch code {
            case EAGAIN, EWOULDBLOCK: return nil
            case ECONNREFUSED, EHOSTUNREACH, ENETUNREACH, EHOSTDOWN: return 0  // an ICMP report, now consumed
            default: throw Syscall.error("recvmmsg", code)
            }
        }
        var kept = 0
        for slot in 0..<Int(result) {
            if batch.header(slot).pointee.msg_flags & Int32(MSG_TRUNC) != 0 {
                truncated.add(1, ordering: .relaxed)
                continue
            }
            batch.lengths[slot] = batch.messageLength(slot)
            if kept != slot { batch.moveSlot(slot, to: kept) }
            kept += 1
        }
        return kept
    }

    private func enter() throws(TransportError) {
        let open = lifecycle.withLock { state in
            guard !state.closed else { return false }
            state.users += 1
            return true
        }
        guard open else { throw .closed }
    }

    private func leave() {
        let release = lifecycle.withLock { state in
            state.users -= 1
            return state.closed && state.users == 0
        }
        if release { releaseDescriptors() }
    }

    /// Runs once, when closed and no call is using the descriptors.
    private func releaseDescriptors() {
        if let drops = queryReceiveBufferDrops() { receiveBufferDropsAtClose.store(drops, ordering: .relaxed) }
        _ = Glibc.close(socket)
        wakeup.close()
        nudge.close()
    }

    private static func openSocket(
        bind address: SocketAddress, receiveBufferBytes: Int, sendBufferBytes: Int
    ) throws(TransportError) -> (socket: Int32, local: SocketAddress) {
        let domain = address.family == .inet ? AF_INET : AF_INET6
        let socket = try Syscall.call("socket") {
            Glibc.socket(domain, Int32(SOCK_DGRAM.rawValue | SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue), Int32(IPPROTO_UDP))
        }
        do throws(TransportError) {
            try setBufferSize(socket, force: SO_RCVBUFFORCE, plain: SO_RCVBUF, bytes: receiveBufferBytes)
            try setBufferSize(socket, force: SO_SNDBUFFORCE, plain: SO_SNDBUF, bytes: sendBufferBytes)
            if address.family == .inet6, address.isUnspecified {
                try setOption(socket, level: Int32(IPPROTO_IPV6), IPV6_V6ONLY, 0, name: "setsockopt(IPV6_V6ONLY)")
            }
            var name = sockaddr_storage()
            let nameLength = address.write(to: &name, mappedToIPv6: false)
            _ = try Syscall.call("bind") {
                withUnsafePointer(to: &name) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(socket, $0, nameLength) }
                }
            }
            var bound = sockaddr_storage()
            var boundLength = socklen_t(MemoryLayout<sockaddr_storage>.size)
            _ = try Syscall.call("getsockname") {
                withUnsafeMutablePointer(to: &bound) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socket, $0, &boundLength) }
                }
            }
            guard let local = withUnsafePointer(to: &bound, { SocketAddress(sockaddr: UnsafeRawPointer($0)) }) else {
                throw .invalidAddress("getsockname returned an unknown address family")
            }
            return (socket, local)
        } catch {
            _ = Glibc.close(socket)
            throw error
        }
    }

    /// Asks for `bytes` with the privileged option first (not capped by the sysctl), then the plain one.
    private static func setBufferSize(_ socket: Int32, force: Int32, plain: Int32, bytes: Int) throws(TransportError) {
        guard bytes > 0 else { return }
        var value = Int32(clamping: bytes)
        let (forced, _) = Syscall.attempt {
            setsockopt(socket, SOL_SOCKET, force, &value, socklen_t(MemoryLayout<Int32>.size))
        }
        if forced == 0 { return }
        try setOption(socket, level: SOL_SOCKET, plain, value, name: "setsockopt(\(plain == SO_RCVBUF ? "SO_RCVBUF" : "SO_SNDBUF"))")
    }

    private static func setOption(_ socket: Int32, level: Int32, _ option: Int32, _ value: Int32, name: String) throws(TransportError) {
        var value = value
        _ = try Syscall.call(name) {
            setsockopt(socket, level, option, &value, socklen_t(MemoryLayout<Int32>.size))
        }
    }
}
