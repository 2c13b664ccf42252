internal import Glibc

/// A non-blocking socket pair whose read end becomes readable, and stays readable, once
/// ``signal()`` is called: `poll(2)` on it beside a socket wakes a blocked receive on close.
struct WakeupChannel {
    let readEnd: Int32
    let writeEnd: Int32

    init() throws(TransportError) {
        var ends: (Int32, Int32) = (-1, -1)
        _ = try Syscall.call("socketpair") {
            withUnsafeMutableBytes(of: &ends) { raw in
                socketpair(
                    AF_UNIX, Int32(SOCK_DGRAM.rawValue | SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue), 0,
                    raw.baseAddress!.assumingMemoryBound(to: Int32.self))
            }
        }
        readEnd = ends.0
        writeEnd = ends.1
    }

    /// Makes the read end readable. A full buffer means it already is, so failure is ignored.
    func signal() {
        var byte: UInt8 = 1
        _ = Syscall.attempt { write(writeEnd, &byte, 1) }
    }

    /// Empties the read end, so it is not readable until the next ``signal()``.
    func drain() {
        var bytes = (UInt64(0), UInt64(0))
        while true {
            let (result, _) = Syscall.attempt { withUnsafeMutableBytes(of: &bytes) { read(readEnd, $0.baseAddress, $0.count) } }
            if result <= 0 { return }
        }
    }

    /// Closes both ends. (`close` is not retried on `EINTR`: Linux releases the descriptor anyway.)
    func close() {
        _ = Glibc.close(readEnd)
        _ = Glibc.close(writeEnd)
    }
}
