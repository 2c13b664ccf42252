/// What a faulty link does to each datagram that crosses it: holds it for `delay` give or take
/// `jitter` (uniform in `delay - jitter ... delay + jitter`, never below zero), so datagrams
/// overtake one another when the jitter exceeds their spacing; loses it with probability
/// `loss`; sends it twice with probability `duplicate` (the copy with a delay of its own).
///
/// The zero value forwards everything at once, in order.
public struct FaultProfile: Sendable, Hashable, CustomStringConvertible {
    public private(set) var delay: Duration
    public private(set) var jitter: Duration
    public private(set) var loss: Double
    public private(set) var duplicate: Double

    /// A profile; throws when a duration is negative or a probability is outside 0...1.
    public init(delay: Duration = .zero, jitter: Duration = .zero, loss: Double = 0, duplicate: Double = 0)
        throws(FaultProfileError) {
        guard delay >= .zero else { throw .negative("delay") }
        guard jitter >= .zero else { throw .negative("jitter") }
        guard (0...1).contains(loss) else { throw .notAProbability("loss", loss) }
        guard (0...1).contains(duplicate) else { throw .notAProbability("duplicate", duplicate) }
        self.delay = delay
        self.jitter = jitter
        self.loss = loss
        self.duplicate = duplicate
    }

    /// The zero value: no delay, no loss.
    public static let none = try! FaultProfile()

    public var description: String {
        "delay \(delay.milliseconds) ms ± \(jitter.milliseconds) ms, loss \(loss), duplicate \(duplicate)"
    }
}

/// A ``FaultProfile`` that cannot be.
public enum FaultProfileError: Error, Equatable, CustomStringConvertible {
    case negative(String)
    case notAProbability(String, Double)

    public var description: String {
        switch self {
        case .negative(let name): "\(name) must not be negative"
        case .notAProbability(let name, let value): "\(name) must be a probability in 0...1, not \(value)"
        }
    }
}

extension Duration {
    /// Whole milliseconds, rounded down.
    var milliseconds: Int64 { components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000 }
}
