internal import Glibc

/// `recvmmsg(2)` and `sendmmsg(2)`: glibc declares them only under `_GNU_SOURCE`, so Swift's
/// Glibc module does not import them. They are looked up once in the C library (present since
/// glibc 2.14) and called with the C calling convention; the headers they take are laid out
/// by ``MultipleMessageHeader``.
enum MultipleMessageCalls {
    typealias Receive = @convention(c) (
        _ fd: Int32, _ headers: UnsafeMutableRawPointer?, _ count: UInt32, _ flags: Int32,
        _ timeout: UnsafeMutablePointer<timespec>?
    ) -> Int32
    typealias Send = @convention(c) (
        _ fd: Int32, _ headers: UnsafeMutableRawPointer?, _ count: UInt32, _ flags: Int32
    ) -> Int32

    static let receive: Receive = lookUp("recvmmsg")
    static let send: Send = lookUp("sendmmsg")

    private static func lookUp<Function>(_ name: String) -> Function {
        // dlsym(RTLD_DEFAULT, ...): RTLD_DEFAULT is the null handle.
        guard let symbol = dlsym(nil, name) else { fatalError("the C library has no \(name)") }
        return unsafeBitCast(symbol, to: Function.self)
    }
}
