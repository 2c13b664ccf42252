public import SecIRCCore

/// Anyone holding a valid invite can start a session, so new contacts that arrive this way are
/// rate-limited: a flood of fresh identities cannot fill the contact list. A contact counts when
/// it started its own session (it is the initiator) and was added within the window.
public struct NewContactLimit: Hashable, Sendable {
    /// New contacts from incoming set-ups accepted per window, at most.
    public var maximum: Int
    /// The window's length in milliseconds.
    public var windowMs: Int64

    public init(maximum: Int, windowMs: Int64 = 3_600_000) {
        self.maximum = maximum
        self.windowMs = windowMs
    }

    /// Contacts added strictly after this time (Unix milliseconds) are in the window ending at `now`.
    public func windowStartMs(now: UnixTime) -> Int64 {
        let (start, overflow) = now.milliseconds.subtractingReportingOverflow(windowMs)
        return overflow ? .min : start
    }

    /// Whether a contact added at `addedMs` counts against the limit at `now`.
    public func counts(addedMs: Int64, now: UnixTime) -> Bool { addedMs > windowStartMs(now: now) }

    /// Whether one more new contact may be accepted when `recent` already count.
    public func admits(recent: Int) -> Bool { recent < maximum }
}
