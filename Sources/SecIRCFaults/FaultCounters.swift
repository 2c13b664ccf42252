/// What a ``DelayLine`` did, for the forwarder's report.
public struct FaultCounters: Sendable, Hashable {
    /// Datagrams offered.
    public var received = 0
    /// Offered and lost on purpose (``FaultProfile/loss``).
    public var dropped = 0
    /// Offered and scheduled twice (``FaultProfile/duplicate``).
    public var duplicated = 0
    /// Taken out when due (copies included).
    public var forwarded = 0
    /// Taken out after a later datagram of the same flow: what the receiver sees out of order.
    public var reordered = 0
    /// The sum and the largest of the delays of the datagrams forwarded.
    public var totalDelay: Duration = .zero
    public var maxDelay: Duration = .zero

    public init() {}

    /// The mean delay of the datagrams forwarded (zero before the first).
    public var meanDelay: Duration { forwarded == 0 ? .zero : totalDelay / forwarded }
}
