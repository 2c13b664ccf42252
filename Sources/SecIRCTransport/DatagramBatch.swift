internal import Glibc

/// Preallocated buffers for batched receive and send: `capacity` slots of `maxDatagramSize`
/// bytes, each with a length and a peer address, plus the kernel's message headers, so that a
/// receive/send cycle allocates nothing.
///
/// A receive fills slots `0..<count` and records where each datagram came from; to send, fill
/// slots (``set(_:bytes:to:)``, ``append(_:to:)``, or write in place and call
/// ``setLength(_:_:address:)``), set ``count``, and pass the batch to the transport's
/// `send(_:)`. A relay can peel a received batch in place and send the same batch on.
///
/// A batch is owned by one thread at a time: it is not safe for concurrent use, and a transport
/// call must not overlap with other use of the same batch. It is `Sendable` so that ownership
/// can be handed from one thread to another.
public final class DatagramBatch: @unchecked Sendable {
    // @unchecked Sendable: raw buffers, used by one thread at a time as documented above.

    /// Number of slots.
    public let capacity: Int
    /// Bytes per slot. A received datagram longer than this is dropped and counted.
    public let maxDatagramSize: Int

    /// Distance between slot starts: `maxDatagramSize` rounded up to a cache line.
    let slotStride: Int
    let data: UnsafeMutableRawPointer
    let lengths: UnsafeMutablePointer<Int>
    let names: UnsafeMutablePointer<sockaddr_storage>
    let vectors: UnsafeMutablePointer<iovec>
    /// `capacity` C `struct mmsghdr`s (see ``MultipleMessageHeader``).
    let headers: UnsafeMutableRawPointer
    private var used = 0

    /// Slots `0..<count` are in use: received datagrams, or the datagrams to send.
    public var count: Int {
        get { used }
        set {
            precondition((0...capacity).contains(newValue), "batch count \(newValue) outside 0...\(capacity)")
            used = newValue
        }
    }

    /// `capacity` slots of `maxDatagramSize` bytes each.
    public init(capacity: Int = 32, maxDatagramSize: Int = 2048) {
        precondition(capacity >= 1, "a batch needs at least one slot")
        precondition((1...(1 << 20)).contains(maxDatagramSize), "slot size \(maxDatagramSize) out of range")
        self.capacity = capacity
        self.maxDatagramSize = maxDatagramSize
        slotStride = (maxDatagramSize + 63) & ~63
        data = .allocate(byteCount: capacity * slotStride, alignment: 64)
        data.initializeMemory(as: UInt8.self, repeating: 0, count: capacity * slotStride)
        lengths = .allocate(capacity: capacity)
        lengths.initialize(repeating: 0, count: capacity)
        names = .allocate(capacity: capacity)
        names.initialize(repeating: sockaddr_storage(), count: capacity)
        vectors = .allocate(capacity: capacity)
        headers = .allocate(
            byteCount: capacity * MultipleMessageHeader.stride, alignment: MultipleMessageHeader.alignment)
        let unspecified = SocketAddress.unspecified(.inet, port: 0)
        for slot in 0..<capacity {
            unspecified.write(to: names + slot, mappedToIPv6: false)
            (vectors + slot).initialize(to: iovec(iov_base: data + slot * slotStride, iov_len: maxDatagramSize))
            let message = headers + slot * MultipleMessageHeader.stride
            message.initializeMemory(
                as: msghdr.self,
                repeating: msghdr(
                    msg_name: UnsafeMutableRawPointer(names + slot), msg_namelen: 0,
                    msg_iov: vectors + slot, msg_iovlen: 1, msg_control: nil, msg_controllen: 0, msg_flags: 0),
                count: 1)
            (message + MultipleMessageHeader.lengthOffset).initializeMemory(as: UInt32.self, repeating: 0, count: 1)
        }
    }

    deinit {
        data.deallocate()
        lengths.deallocate()
        names.deallocate()
        vectors.deallocate()
        headers.deallocate()
    }

    /// Calls `body` with the bytes of slot `index`: its current length, writable in place.
    public func withDatagram<R>(_ index: Int, _ body: (UnsafeMutableRawBufferPointer) throws -> R) rethrows -> R {
        checkSlot(index)
        return try body(UnsafeMutableRawBufferPointer(start: slotStart(index), count: lengths[index]))
    }

    /// Calls `body` with the whole of slot `index` (`maxDatagramSize` bytes), to build a
    /// datagram in place; then call ``setLength(_:_:address:)``.
    public func withSlot<R>(_ index: Int, _ body: (UnsafeMutableRawBufferPointer) throws -> R) rethrows -> R {
        checkSlot(index)
        return try body(UnsafeMutableRawBufferPointer(start: slotStart(index), count: maxDatagramSize))
    }

    /// The length of the datagram in slot `index`.
    public func length(_ index: Int) -> Int {
        checkSlot(index)
        return lengths[index]
    }

    /// Where the datagram in slot `index` came from (after a receive) or goes to (to send).
    public func address(_ index: Int) -> SocketAddress {
        checkSlot(index)
        return SocketAddress(sockaddr: UnsafeRawPointer(names + index)) ?? .unspecified(.inet, port: 0)
    }

    /// Copies `bytes` into slot `index`, to be sent to `address`. Does not change ``count``.
    public func set(_ index: Int, bytes: UnsafeRawBufferPointer, to address: SocketAddress) {
        checkSlot(index)
        precondition(bytes.count <= maxDatagramSize, "\(bytes.count) bytes do not fit a \(maxDatagramSize)-byte slot")
        if let source = bytes.baseAddress, !bytes.isEmpty {
            slotStart(index).copyMemory(from: source, byteCount: bytes.count)
        }
        lengths[index] = bytes.count
        address.write(to: names + index, mappedToIPv6: false)
    }

    /// Sets the length and destination of slot `index` after its bytes were written in place
    /// (``withSlot(_:_:)``, or ``withDatagram(_:_:)`` for a same-length rewrite). Does not change ``count``.
    public func setLength(_ index: Int, _ length: Int, address: SocketAddress) {
        checkSlot(index)
        precondition((0...maxDatagramSize).contains(length), "length \(length) outside the \(maxDatagramSize)-byte slot")
        lengths[index] = length
        address.write(to: names + index, mappedToIPv6: false)
    }

    /// Fills the next free slot and counts it. A full batch, or bytes longer than a slot, is a
    /// programmer error and traps.
    public func append(_ bytes: [UInt8], to address: SocketAddress) {
        precondition(used < capacity, "the batch is full (\(capacity) slots)")
        bytes.withUnsafeBytes { set(used, bytes: $0, to: address) }
        used += 1
    }

    /// Empties the batch (``count`` = 0).
    public func removeAll() {
        used = 0
    }

    // MARK: - For the transports

    @inline(__always)
    func slotStart(_ index: Int) -> UnsafeMutableRawPointer {
        data + index * slotStride
    }

    @inline(__always)
    func header(_ index: Int) -> UnsafeMutablePointer<msghdr> {
        (headers + index * MultipleMessageHeader.stride).assumingMemoryBound(to: msghdr.self)
    }

    /// The first header, to pass to `recvmmsg`/`sendmmsg`.
    func messageHeaders(from index: Int) -> UnsafeMutableRawPointer {
        headers + index * MultipleMessageHeader.stride
    }

    /// Bytes the kernel wrote into slot `index` (`msg_len`).
    func messageLength(_ index: Int) -> Int {
        Int(headers.load(fromByteOffset: index * MultipleMessageHeader.stride + MultipleMessageHeader.lengthOffset, as: UInt32.self))
    }

    /// Resets every header so that the kernel can fill any slot.
    func prepareForReceive() {
        for slot in 0..<capacity {
            let message = header(slot)
            message.pointee.msg_namelen = socklen_t(MemoryLayout<sockaddr_storage>.size)
            message.pointee.msg_flags = 0
            vectors[slot].iov_len = maxDatagramSize
        }
    }

    /// Points the headers of slots `0..<count` at their lengths and destinations; on a
    /// dual-stack IPv6 socket IPv4 destinations are rewritten as IPv4-mapped addresses.
    func prepareForSend(mapIPv4ToIPv6: Bool) {
        for slot in 0..<used {
            let message = header(slot)
            vectors[slot].iov_len = lengths[slot]
            let isIPv4 = Int32(names[slot].ss_family) == AF_INET
            if isIPv4 && mapIPv4ToIPv6 {
                address(slot).write(to: names + slot, mappedToIPv6: true)
                message.pointee.msg_namelen = SocketAddress.ipv6SockaddrLength
            } else {
                message.pointee.msg_namelen = isIPv4 ? SocketAddress.ipv4SockaddrLength : SocketAddress.ipv6SockaddrLength
            }
            message.pointee.msg_flags = 0
        }
    }

    /// Moves the datagram in slot `source` to slot `target` (to close a gap left by a dropped one).
    func moveSlot(_ source: Int, to target: Int) {
        slotStart(target).copyMemory(from: slotStart(source), byteCount: lengths[source])
        lengths[target] = lengths[source]
        names[target] = names[source]
    }

    /// Copies a received datagram into slot `index` (the in-memory transport's receive).
    func fill(_ index: Int, bytes: [UInt8], from address: SocketAddress) {
        bytes.withUnsafeBytes { set(index, bytes: $0, to: address) }
    }

    @inline(__always)
    private func checkSlot(_ index: Int) {
        precondition(index >= 0 && index < capacity, "slot \(index) outside 0..<\(capacity)")
    }
}
