import Glibc

/// A failed system call: its name and `errno`.
public struct SystemCallError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The call, e.g. "connect" or "posix_spawn /path/to/program".
    public let call: String
    /// The `errno` it failed with.
    public let errno: Int32

    public init(call: String, errno: Int32) {
        self.call = call
        self.errno = errno
    }

    /// `<call>: <the C library's text for errno>`.
    public var description: String { "\(call): \(String(cString: strerror(errno)))" }
}
