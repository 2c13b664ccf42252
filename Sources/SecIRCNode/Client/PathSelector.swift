internal import Glibc
public import SecIRCCore
public import SecIRCCrypto

/// Onion paths: random distinct relays from the verified directory, ending at the relay that
/// holds the destination mailbox, each hop with the onion key valid now and a delay drawn from
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
    public static func path(to last: ID, relays: [RelayDescriptor], length: Int, avoiding: Set<ID> = [],
                            rng: inout some RandomSource) throws -> [RelayDescriptor] {
        guard let final = relays.first(where: { $0.id == last }) else { throw PathError.unknownRelay(last) }
        return path(to: final, relays: relays, length: length, avoiding: avoiding, rng: &rng)
    }

    /// The same, given the last relay's descriptor. The others are a uniformly random ordered
    /// choice (a partial Fisher–Yates shuffle: one random draw per hop, not per relay).
    public static func path(to final: RelayDescriptor, relays: [RelayDescriptor], length: Int, avoiding: Set<ID> = [],
                            rng: inout some RandomSource) -> [RelayDescriptor] {
        let hops = max(length - 1, 0)
        var pool = relays.filter { $0.id != final.id && !avoiding.contains($0.id) }
        if pool.count < hops { pool = relays.filter { $0.id != final.id } }
        let count = min(hops, pool.count)
        for i in 0..<count { pool.swapAt(i, Int.random(in: i..<pool.count, using: &rng)) }
        return Array(pool.prefix(count)) + [final]
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
