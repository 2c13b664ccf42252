public import SecIRCCore

extension UnixTime {
    /// Whole milliseconds since the epoch (truncated toward zero), the unit of the store's times.
    public var milliseconds: Int64 { nanoseconds / 1_000_000 }

    /// The instant `milliseconds` after the epoch.
    public init(milliseconds: Int64) { self.init(nanoseconds: milliseconds.multipliedClamped(by: 1_000_000)) }
}
