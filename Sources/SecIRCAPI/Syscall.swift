import Glibc

/// The one place the system calls of the API client and of the launcher go through: a call
/// interrupted by a signal (`EINTR`) is repeated, so `body` must be safe to run again; `-1`
/// becomes a ``SystemCallError``. (`close(2)` is called directly: on Linux it releases the
/// descriptor even when interrupted.)
package enum Syscall {
    @discardableResult
    package static func call<Result: FixedWidthInteger & SignedInteger>(
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
