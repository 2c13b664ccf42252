import Glibc

/// A failed system call: its name and `errno`.
struct SystemCallError: Error, CustomStringConvertible {
    let call: String
    let errno: Int32

    var description: String { "\(call): \(String(cString: strerror(errno)))" }
}

/// The one place the command line's system calls go through: a call interrupted by a signal
/// (`EINTR`) is repeated, so `body` must be safe to run again; `-1` becomes a
/// ``SystemCallError``. (`close(2)` is called directly: on Linux it releases the descriptor even
/// when interrupted.)
enum Syscall {
    @discardableResult
    static func call<Result: FixedWidthInteger & SignedInteger>(
        _ name: String, _ body: () -> Result
    ) throws(SystemCallError) -> Result {
        while true {
            let result = body()
            if result >= 0 { return result }
            let code = Glibc.errno
            if code != EINTR { throw SystemCallError(call: name, errno: code) }
        }
    }
}
