import Glibc
public import SecIRCCore
public import SecIRCNode

/// The wall clock (`CLOCK_REALTIME`): what the daemons' loops read. Only composition roots and
/// loops use it; engines are given `now`.
public struct SystemClock: NodeClock {
    public init() {}

    public func now() -> UnixTime {
        var t = timespec()
        clock_gettime(CLOCK_REALTIME, &t)
        return UnixTime(nanoseconds: Int64(t.tv_sec) * 1_000_000_000 + Int64(t.tv_nsec))
    }
}
