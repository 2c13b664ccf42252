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
}
