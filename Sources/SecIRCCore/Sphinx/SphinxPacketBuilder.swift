public import SecIRCCrypto

/// One relay on a Sphinx path, as the sender sees it in the directory.
public struct SphinxHop: Sendable {
    /// The relay's onion public key for `epoch`.
    public var onionKey: AgreementPublicKey
    public var epoch: UInt32
    /// What this relay does after peeling.
    public var command: RoutingCommand

    public init(onionKey: AgreementPublicKey, epoch: UInt32, command: RoutingCommand) {
        self.onionKey = onionKey
        self.epoch = epoch
        self.command = command
    }
}

/// Why a packet could not be built.
public enum SphinxBuildError: Error, Equatable, Sendable {
    case pathLength(Int, max: Int)
    case bodyTooLong(Int, max: Int)
    /// A hop's onion key is a low-order point.
    case weakOnionKey(hop: Int)
}

/// The sender's side of Sphinx (Danezis–Goldberg 2009, as in Loopix/Katzenpost): builds one
/// packet of exactly `geometry.sphinxPacketLength` bytes for a path of 1 to `maxHops` relays.
///
/// Packet: `epoch of hop 0 (4) | α (32) | β (maxHops × 64) | γ (16) | payload`, where the
/// payload is `0^16 | body | zero padding`, Lioness-encrypted once per hop (last hop first).
public struct SphinxPacketBuilder: Sendable {
    public let geometry: PacketGeometry

    public init(geometry: PacketGeometry = .standard) { self.geometry = geometry }

    /// Builds a packet through `path` carrying `body` (at most `geometry.bodyLength` bytes; the
    /// recipient's end-to-end layer carries its own length). The `nextEpoch` of each hop's
    /// command is filled from the following hop.
    public func build(path: [SphinxHop], body: [UInt8], using rng: inout some RandomSource) throws -> [UInt8] {
        let g = geometry
        let n = path.count
        guard (1...g.maxHops).contains(n) else { throw SphinxBuildError.pathLength(n, max: g.maxHops) }
        guard body.count <= g.bodyLength else { throw SphinxBuildError.bodyTooLong(body.count, max: g.bodyLength) }
        let slot = PacketGeometry.routingSlotLength
        let betaLength = g.betaLength

        // Per-hop secrets and keys, and the α seen by each hop.
        let ephemeral = SecureBytes(randomCount: 32, using: &rng)
        var keys = [[UInt8]](repeating: [], count: n)
        defer { for i in keys.indices { ConstantTime.wipe(&keys[i]) } }
        var alphas: [Bytes32] = []
        var blindingFactors: [[UInt8]] = []
        defer { for i in blindingFactors.indices { ConstantTime.wipe(&blindingFactors[i]) } }
        var alpha = ephemeral.withUnsafeBytes { X25519.multiplyBase(scalar: $0) }
        // x · b_0 · … · b_(i−1) mod ℓ: hop i's secret in one X25519 rather than i + 1, when it can.
        let product = n > 1 ? ephemeral.withUnsafeBytes { ClampedScalarProduct(clamping: $0) } : nil
        for (i, hop) in path.enumerated() {
            var secret: Bytes32
            do {
                if i > 0, let product, let once = try product.multiply(point: hop.onionKey.rawValue) {
                    secret = once
                } else {
                    secret = try ephemeral.withUnsafeBytes { try X25519.multiply(scalar: $0, point: hop.onionKey.rawValue) }
                    for factor in blindingFactors {
                        secret = try factor.withUnsafeBytes { try X25519.multiply(scalar: $0, point: secret) }
                    }
                }
            } catch {
                throw SphinxBuildError.weakOnionKey(hop: i)
            }
            var hopKeys = [UInt8](repeating: 0, count: SphinxHopKeys.byteCount)
            secret.withUnsafeBytes { s in hopKeys.withUnsafeMutableBytes { SphinxHopKeys.derive(secret: s, into: $0) } }
            keys[i] = hopKeys
            alphas.append(alpha)
            // The last hop's blinding would only make an α nobody receives.
            guard i < n - 1 else { break }
            var factor = [UInt8](repeating: 0, count: 32)
            hopKeys.withUnsafeBytes { k in factor.withUnsafeMutableBytes { SphinxHopKeys.blindingFactor(alpha: alpha, keys: k, into: $0) } }
            alpha = try factor.withUnsafeBytes { try X25519.multiply(scalar: $0, point: alpha) }
            factor.withUnsafeBytes { product?.multiply(clamping: $0) }
            blindingFactors.append(factor)
        }

        // The filler: what the hops' β shifts will have appended by the last hop.
        var filler: [UInt8] = []
        for i in 1..<max(n, 1) {
            filler += [UInt8](repeating: 0, count: slot)
            var stream = [UInt8](repeating: 0, count: betaLength + slot)
            keys[i - 1].withUnsafeBytes { k in stream.withUnsafeMutableBytes { SphinxHopKeys.xorBetaStream($0, keys: k) } }
            let tail = stream[(betaLength - (i - 1) * slot)...]
            for (j, byte) in tail.enumerated() { filler[j] ^= byte }
        }

        // β and γ from the last hop back to the first.
        var commands = path.map(\.command)
        for i in 0..<(n - 1) { commands[i].nextEpoch = path[i + 1].epoch }
        var lastPlain = [UInt8](repeating: 0, count: slot)
        lastPlain.withUnsafeMutableBytes { commands[n - 1].write(into: $0) }
        lastPlain += rng.bytes(betaLength - slot - (n - 1) * slot)
        lastPlain.withUnsafeMutableBytes { buffer in
            keys[n - 1].withUnsafeBytes { SphinxHopKeys.xorBetaStream(buffer, keys: $0) }
        }
        var beta = lastPlain + filler
        var gamma = [UInt8](repeating: 0, count: PacketGeometry.gammaLength)
        computeGamma(beta: beta, keys: keys[n - 1], into: &gamma)
        for i in stride(from: n - 2, through: 0, by: -1) {
            var plain = [UInt8](repeating: 0, count: slot)
            plain.withUnsafeMutableBytes { commands[i].write(into: $0) }
            plain.replaceSubrange(RoutingCommand.nextGammaOffset..<slot, with: gamma)
            plain += beta[0..<(betaLength - slot)]
            plain.withUnsafeMutableBytes { buffer in keys[i].withUnsafeBytes { SphinxHopKeys.xorBetaStream(buffer, keys: $0) } }
            beta = plain
            computeGamma(beta: beta, keys: keys[i], into: &gamma)
        }

        // Payload: zero tag, body, padding; one Lioness layer per hop, the first hop's outermost.
        var payload = [UInt8](repeating: 0, count: g.payloadLength)
        payload.replaceSubrange(PacketGeometry.payloadTagLength..<(PacketGeometry.payloadTagLength + body.count), with: body)
        for i in stride(from: n - 1, through: 0, by: -1) {
            try payload.withUnsafeMutableBytes { p in
                try keys[i].withUnsafeBytes { try Lioness.encrypt(p, keys: UnsafeRawBufferPointer(rebasing: $0[SphinxHopKeys.lionessRange])) }
            }
        }

        var writer = ByteWriter(capacity: g.sphinxPacketLength)
        writer.write(path[0].epoch)
        writer.write(alphas[0])
        writer.write(beta)
        writer.write(gamma)
        writer.write(payload)
        assert(writer.bytes.count == g.sphinxPacketLength)
        return writer.bytes
    }

    private func computeGamma(beta: [UInt8], keys: [UInt8], into gamma: inout [UInt8]) {
        beta.withUnsafeBytes { b in keys.withUnsafeBytes { k in gamma.withUnsafeMutableBytes { SphinxHopKeys.mac(beta: b, keys: k, into: $0) } } }
    }
}
