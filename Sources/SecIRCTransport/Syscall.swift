internal import Glibc

/// The one place system calls go through. A call interrupted by a signal (`EINTR`) is
/// repeated, so `body` must be safe to run again (it recomputes any timeout itself);
/// `-1`/`errno` becomes ``TransportError/system(call:errno:message:)``.
/// (`close(2)` is the exception, called directly: on Linux it releases the descriptor even when
/// interrupted, so retrying could close a descriptor another thread has just opened.)
enum Syscall {
    /// Runs `body` until it is not interrupted; a failure throws.
    @inline(__always)
    static func call<Result: FixedWidthInteger & SignedInteger>(
        _ name: String, _ body: () -> Result
    ) throws(TransportError) -> Result {
        let outcome = attempt(body)
        guard outcome.result >= 0 else { throw error(name, outcome.errno) }
        return outcome.result
    }

    /// Runs `body` until it is not interrupted and hands back the result and, on failure, the
    /// `errno`, for callers that treat some failures (`EAGAIN`, ICMP reports) as outcomes
    /// rather than errors. Building no error text keeps the expected cases free of allocation.
    @inline(__always)
    static func attempt<Result: FixedWidthInteger & SignedInteger>(
        _ body: () -> Result
    ) -> (result: Result, errno: Int32) {
        while true {
            let result = body()
            if result >= 0 { return (result, 0) }
            let code = Glibc.errno
            if code != EINTR { return (result, code) }
        }
    }

    /// The typed error for a failed call.
    static func error(_ name: String, _ code: Int32) -> TransportError {
        .system(call: name, errno: code, message: String(cString: strerror(code)))
    }
}
