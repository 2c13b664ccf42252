/// A point in wall-clock time, nanoseconds since 1970-01-01 UTC. State machines in this module
/// take it as a parameter and never read a clock themselves.
public struct UnixTime: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var nanoseconds: Int64

    public init(nanoseconds: Int64) { self.nanoseconds = nanoseconds }
    public init(seconds: Int64) { nanoseconds = seconds * 1_000_000_000 }

    /// Whole seconds (rounded down).
    public var seconds: Int64 { nanoseconds >= 0 ? nanoseconds / 1_000_000_000 : (nanoseconds - 999_999_999) / 1_000_000_000 }

    public static func < (a: UnixTime, b: UnixTime) -> Bool { a.nanoseconds < b.nanoseconds }

    /// `self` moved by `duration`.
    public func adding(_ duration: Duration) -> UnixTime {
        let (s, attos) = duration.components
        return UnixTime(nanoseconds: nanoseconds + s * 1_000_000_000 + attos / 1_000_000_000)
    }

    /// `self - other` as a duration.
    public func duration(since other: UnixTime) -> Duration { .nanoseconds(nanoseconds - other.nanoseconds) }

    public var description: String { "\(seconds)s" }
}
