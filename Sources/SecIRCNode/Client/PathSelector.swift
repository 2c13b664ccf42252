internal import Glibc
public import SecIRCCore
public import SecIRCCrypto

/// Onion paths: distinct relays from the verified directory, drawn by the weights the first
/// ring granted them, ending at the relay that holds the destination mailbox, each hop with the onion key valid now and a delay drawn from
/// an exponential distribution (mean μ; 0 when cover traffic is off).
public enum PathSelector {
    public enum PathError: Error, Equatable, CustomStringConvertible {
        case unknownRelay(ID)
        public var description: String {
            switch self {
            case let .unknownRelay(id): "relay \(id) is not in the directory"
            }
        }
    }

    /// `length` relays (fewer when the directory has fewer), all different, the last being `last`;
    /// relays in `avoiding` (not answering just now) are used before it only when nothing else is left.
    /// The others are drawn by the weights the first ring granted (`ratings`; a relay without
    /// one weighs 1).
    public static func path(to last: ID, relays: [RelayDescriptor], length: Int, avoiding: Set<ID> = [],
                            ratings: [ID: RelayRating] = [:], rng: inout some RandomSource) throws -> [RelayDescriptor] {
        guard let final = relays.first(where: { $0.id == last }) else { throw PathError.unknownRelay(last) }
        return path(to: final, relays: relays, length: length, avoiding: avoiding, ratings: ratings, rng: &rng)
    }

    /// The same, given the last relay's descriptor.
    public static func path(to final: RelayDescriptor, relays: [RelayDescriptor], length: Int, avoiding: Set<ID> = [],
                            ratings: [ID: RelayRating] = [:], rng: inout some RandomSource) -> [RelayDescriptor] {
        let hops = max(length - 1, 0)
        var pool = relays.filter { $0.id != final.id && !avoiding.contains($0.id) }
        if pool.count < hops { pool = relays.filter { $0.id != final.id } }
        return weightedPrefix(of: pool, count: hops, weight: { ratings[$0.id]?.weight ?? 1 }, rng: &rng) + [final]
    }

    /// `count` distinct elements of `pool` (all of them when it has fewer), in the order drawn,
    /// each draw choosing among those left with probability proportional to `weight` (at least
    /// 1): a partial Fisher–Yates shuffle, one random draw per element chosen. With equal
    /// weights, exactly the uniform shuffle's draws.
    public static func weightedPrefix<T>(of pool: [T], count: Int, weight: (T) -> Int, rng: inout some RandomSource) -> [T] {
        var pool = pool
        var weights = pool.map { max(weight($0), 1) }
        let uniform = weights.allSatisfy { $0 == weights.first }
        var left = weights.reduce(0, +)
        let chosen = min(count, pool.count)
        for i in 0..<chosen {
            var j = i
            if uniform {
                j = Int.random(in: i..<pool.count, using: &rng)
            } else {
                var r = Int.random(in: 0..<left, using: &rng)
                while r >= weights[j] { r -= weights[j]; j += 1 }
            }
            left -= weights[j]
            pool.swapAt(i, j)
            weights.swapAt(i, j)
        }
        return Array(pool.prefix(chosen))
    }

    /// The onion key `relay` accepts at `now`: the newest whose validity covers it, else the first listed.
    public static func onionKey(of relay: RelayDescriptor, now: UnixTime) -> RelayDescriptor.OnionKeyEntry? {
        relay.onionKeys.filter { $0.validAfter <= now.seconds && now.seconds < $0.validUntil }
            .max { $0.validAfter < $1.validAfter } ?? relay.onionKeys.first
    }

    /// A Sphinx packet along `path` delivering `body` to `mailbox` at the path's last relay.
    /// Per-hop delays are drawn from Exp(1/`meanDelayMs`), capped at `maxDelayMs` (the
    /// network's `NetworkParameters.maxDelayMilliseconds`: what relays accept).
    public static func packet(path: [RelayDescriptor], mailbox: Bytes32, body: [UInt8], meanDelayMs: Double,
                              maxDelayMs: UInt32 = 60_000, now: UnixTime, rng: inout some RandomSource) throws -> [UInt8] {
        try packet(path: path, ending: .deliver(to: mailbox), body: body, meanDelayMs: meanDelayMs, maxDelayMs: maxDelayMs,
                   now: now, rng: &rng)
    }

    /// The same with `final` as the last relay's command (`deliver`, or `drop` for drop cover).
    public static func packet(path: [RelayDescriptor], ending final: RoutingCommand, body: [UInt8], meanDelayMs: Double,
                              maxDelayMs: UInt32 = 60_000, now: UnixTime, rng: inout some RandomSource) throws -> [UInt8] {
        var hops: [SphinxHop] = []
        for (i, relay) in path.enumerated() {
            guard let entry = onionKey(of: relay, now: now) else { throw PathError.unknownRelay(relay.id) }
            let command: RoutingCommand = i == path.count - 1
                ? final
                : .forward(to: path[i + 1].id.rawValue, delayMilliseconds: exponential(mean: meanDelayMs, cap: maxDelayMs, rng: &rng),
                           nextEpoch: 0)
            hops.append(SphinxHop(onionKey: entry.key, epoch: entry.epoch, command: command))
        }
        return try SphinxPacketBuilder().build(path: hops, body: body, using: &rng)
    }

    /// A delay in milliseconds from Exp(1/mean), capped at `cap` (what relays accept).
    static func exponential(mean: Double, cap: UInt32 = 60_000, rng: inout some RandomSource) -> UInt32 {
        guard mean > 0 else { return 0 }
        let u = Double.random(in: Double.leastNonzeroMagnitude..<1, using: &rng)
        return UInt32(min(-log(u) * mean, Double(cap)))
    }
}
