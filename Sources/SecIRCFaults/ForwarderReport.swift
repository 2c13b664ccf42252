/// What a ``UDPForwarder`` has done so far: one line of `key=value` pairs for scripts.
public struct ForwarderReport: Sendable, Hashable, CustomStringConvertible {
    public var counters: FaultCounters
    /// Datagrams waiting out their delay.
    public var waiting: Int
    /// Sessions open (sources seen and not idle).
    public var sessions: Int
    /// Sources refused a session because the table was full; their datagrams were dropped.
    public var refusedSessions: Int
    /// Datagrams on an upstream socket from anyone but the target, dropped.
    public var strays: Int
    /// Datagrams due that the kernel would not take (a full buffer, an unreachable network).
    public var sendFailures: Int

    public var description: String {
        [
            "received=\(counters.received)", "dropped=\(counters.dropped)", "duplicated=\(counters.duplicated)",
            "forwarded=\(counters.forwarded)", "reordered=\(counters.reordered)",
            "mean_delay_ms=\(counters.meanDelay.milliseconds)", "max_delay_ms=\(counters.maxDelay.milliseconds)",
            "waiting=\(waiting)", "sessions=\(sessions)", "refused_sessions=\(refusedSessions)",
            "strays=\(strays)", "send_failures=\(sendFailures)",
        ].joined(separator: " ")
    }
}
