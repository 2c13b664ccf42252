public import Dispatch
import Glibc
import Synchronization

/// Set once SIGINT or SIGTERM arrives (the signals are taken from their default action while
/// the flag's sources live). Safe from any thread.
public final class StopFlag: Sendable {
    private let value = Atomic<Bool>(false)

    public init() {}

    public var isSet: Bool { value.load(ordering: .acquiring) }

    public func set() { value.store(true, ordering: .releasing) }

    /// Sets the flag on SIGINT and SIGTERM from now on, through the sources it returns (keep
    /// them until the flag is no longer needed).
    public func catchSignals() -> [any DispatchSourceSignal] {
        let flag = self
        return [SIGINT, SIGTERM].map { number -> any DispatchSourceSignal in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { flag.set() }
            source.resume()
            return source
        }
    }
}
