import Synchronization

/// Per-request state kept in libmicrohttpd's `con_cls` from the handler's first call until
/// `MHD_OPTION_NOTIFY_COMPLETED` releases it. Used only on the connection's own thread.
final class PendingRequest {
    /// `con_cls` after the first call of a request that has neither `Content-Length` nor
    /// `Transfer-Encoding` (so no body): a marker, not an object; nothing to release.
    static var bodiless: UnsafeMutableRawPointer { UnsafeMutableRawPointer(bitPattern: 1)! }

    /// The body so far.
    var body: [UInt8] = []
    /// The body is over the limit: the rest is discarded and the answer is 413.
    var tooLarge = false
    /// Bytes dropped after the body went over the limit.
    var discarded = 0
    /// A response was queued (no further answer may be queued).
    var answered = false
    /// The largest body this request may have (its path's limit).
    var limit: Int
    /// The large-body slot it holds (given back when libmicrohttpd releases the request).
    var slot: LargeBodySlots?

    init(limit: Int) {
        self.limit = limit
    }

    deinit {
        slot?.release()
    }
}

/// Requests receiving a body over the server's `maxBodyBytes` (a path with a larger limit),
/// at most `capacity` at once.
final class LargeBodySlots: Sendable {
    let capacity: Int
    private let taken = Atomic<Int>(0)

    init(capacity: Int) {
        self.capacity = capacity
    }

    /// Takes a slot; false when all are taken.
    func acquire() -> Bool {
        var current = taken.load(ordering: .relaxed)
        while current < capacity {
            let (exchanged, original) = taken.compareExchange(expected: current, desired: current + 1, ordering: .acquiringAndReleasing)
            if exchanged { return true }
            current = original
        }
        return false
    }

    func release() {
        taken.subtract(1, ordering: .acquiringAndReleasing)
    }

    /// Slots held now.
    var inUse: Int { taken.load(ordering: .acquiring) }

}
