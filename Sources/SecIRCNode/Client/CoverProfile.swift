/// How much cover traffic a client sends and how long its packets wait at each hop, relative
/// to the network parameters the first ring signs into the directory (λ and μ): `client.yaml`'s
/// `network.cover_traffic`.
public enum CoverProfile: String, Sendable, CaseIterable {
    /// No cover traffic and no mixing delay (tests, devnet).
    case off
    /// λ and μ as the directory says.
    case balanced
    /// 2λ and 2μ.
    case strong

    /// Multiplier of the directory's cover rate λ.
    public var rateFactor: Double {
        switch self {
        case .off: 0
        case .balanced: 1
        case .strong: 2
        }
    }

    /// Multiplier of the directory's mean per-hop delay μ.
    public var delayFactor: Double {
        switch self {
        case .off: 0
        case .balanced: 1
        case .strong: 2
        }
    }
}
