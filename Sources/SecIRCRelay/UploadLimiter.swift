public import SecIRCCore
public import SecIRCHTTP
import SecIRCLock

/// The per-source rate of `POST /v1/descriptors` (security.yaml `admission.uploads_per_minute`
/// and `upload_burst`), by the client's host as the TCP connection shows it (an IPv4 address or
/// an IPv6 /64): one host cannot keep a first-ring member verifying signatures and starting
/// challenges. At most 4,096 hosts are tracked (``RateTable``). Thread-safe.
public final class UploadLimiter: Sendable {
    private let table: Locked<RateTable<PeerKey>>

    public init(perMinute: Int, burst: Int) {
        table = Locked(RateTable(perMinute: perMinute, burst: burst))
    }

    /// Takes one upload from `peer`'s budget: nil when allowed, else how long until one is.
    public func take(_ peer: PeerKey, now: UnixTime) -> Duration? {
        table.withLock { $0.take(peer, now: now) }
    }
}
