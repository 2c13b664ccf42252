public import SecIRCCrypto

/// Why a relay refused a Sphinx packet. Each is a metrics label (`drops_total{reason=...}`).
public enum SphinxRejectReason: String, Sendable, CaseIterable {
    /// Not exactly one Sphinx packet long.
    case badLength = "bad_length"
    /// No onion key held for the packet's epoch (too old, or garbage).
    case unknownEpoch = "unknown_epoch"
    /// α is a low-order point.
    case badAlpha = "bad_alpha"
    /// γ does not match β: tampered or not for this relay.
    case badMAC = "bad_mac"
    /// Seen before under this epoch's key.
    case replay
    /// This epoch's replay filter is full: refused rather than forget a tag (the relay rotates
    /// its key early long before).
    case replayFilterFull = "replay_filter_full"
    /// The routing command is not one this relay knows.
    case unknownCommand = "unknown_command"
    /// The last hop found the payload's zero tag changed: the payload was tampered on the way.
    case payloadTampered = "payload_tampered"
}

/// What the relay must do with a peeled packet. The packet buffer was transformed in place.
public enum SphinxPeelResult: Equatable, Sendable {
    /// Send the (peeled, re-blinded) packet to relay `relay` after `delayMilliseconds`.
    case forward(relay: Bytes32, delayMilliseconds: UInt32)
    /// Store the body — packet bytes `geometry.payloadOffset + 16 ..< end` — in `mailbox`.
    case deliver(mailbox: Bytes32)
    /// Cover traffic that ended here.
    case drop
    /// Refused, with the reason.
    case reject(SphinxRejectReason)
}

/// An onion private key and the epoch it serves.
public struct OnionKey: Sendable {
    public let epoch: UInt32
    public let privateKey: AgreementPrivateKey
    public var publicKey: AgreementPublicKey { privateKey.publicKey }

    public init(epoch: UInt32, privateKey: AgreementPrivateKey) {
        self.epoch = epoch
        self.privateKey = privateKey
    }
}

/// The relay's side of Sphinx: holds the onion keys in use (current, next, previous during
/// the grace window) with one replay filter each, and peels packets in place.
///
/// Per packet: two X25519 operations, a handful of hashes and stream-cipher passes, and no heap
/// allocation. A value type; give each peeling thread its own, or guard it — or split the peel:
/// the crypto (``open(_:with:geometry:)``, no state) on any thread, the replay check
/// (``record(_:)``) by the one owner of the filters.
public struct SphinxProcessor: Sendable {
    public let geometry: PacketGeometry
    public let replayCapacity: Int
    private var keys: [UInt32: OnionKey] = [:]
    private var filters: [UInt32: ReplayFilter] = [:]
    /// Tags recorded since the last `takeNewTags()`, when `recordsNewTags` (a relay saves them).
    private var newTags: [(epoch: UInt32, tag: ReplayFilter.Tag)] = []
    /// Whether recorded tags are kept for `takeNewTags()`.
    public var recordsNewTags = false

    public init(geometry: PacketGeometry = .standard, replayCapacity: Int = ReplayFilter.defaultCapacity) {
        self.geometry = geometry
        self.replayCapacity = replayCapacity
    }

    /// Starts accepting packets for `key.epoch`.
    public mutating func install(_ key: OnionKey) {
        keys[key.epoch] = key
        if filters[key.epoch] == nil { filters[key.epoch] = ReplayFilter(capacity: replayCapacity) }
    }

    /// Stops accepting `epoch` and forgets its replay tags (its key can no longer open anything).
    public mutating func remove(epoch: UInt32) {
        keys[epoch] = nil
        filters[epoch] = nil
    }

    /// The tags recorded since the last call (only when `recordsNewTags`), oldest first.
    public mutating func takeNewTags() -> [(epoch: UInt32, tag: ReplayFilter.Tag)] {
        guard !newTags.isEmpty else { return [] }
        defer { newTags.removeAll(keepingCapacity: true) }
        return newTags
    }

    /// Records `tags` under `epoch` (an accepted one) as seen: what a relay saved before a
    /// restart. Returns how many were taken (not beyond the filter's capacity).
    @discardableResult
    public mutating func restoreTags(_ tags: [ReplayFilter.Tag], epoch: UInt32) -> Int {
        guard filters[epoch] != nil else { return 0 }
        var taken = 0
        for tag in tags where filters[epoch]!.insert(tag) == .recorded { taken += 1 }
        return taken
    }

    /// Replay tags recorded under `epoch` (0 for an epoch not accepted).
    public func replayTags(epoch: UInt32) -> Int { filters[epoch]?.count ?? 0 }

    /// The epochs currently accepted.
    public var epochs: [UInt32] { keys.keys.sorted() }

    /// Peels one layer of `packet` in place.
    public mutating func peel(_ packet: inout [UInt8]) -> SphinxPeelResult {
        packet.withUnsafeMutableBytes { peel($0) }
    }

    /// Peels one layer of `packet` (exactly `geometry.sphinxPacketLength` bytes) in place:
    /// ``open(_:with:geometry:)`` with the key of the packet's epoch, then ``record(_:)``.
    public mutating func peel(_ packet: UnsafeMutableRawBufferPointer) -> SphinxPeelResult {
        guard packet.count == geometry.sphinxPacketLength else { return .reject(.badLength) }
        guard let key = keys[Self.epoch(of: UnsafeRawBufferPointer(packet))] else { return .reject(.unknownEpoch) }
        return record(Self.open(packet, with: key, geometry: geometry))
    }

    /// The onion-key epoch a packet names (its first 4 bytes; the packet is at least that long).
    public static func epoch(of packet: UnsafeRawBufferPointer) -> UInt32 {
        UInt32(bigEndian: packet.loadUnaligned(fromByteOffset: 0, as: UInt32.self))
    }

    /// The key accepted for `epoch`, if any.
    public func key(epoch: UInt32) -> OnionKey? { keys[epoch] }

    /// The replay-filter half of a peel, for an ``Opened`` packet: records its tag under its
    /// epoch and answers the peel's result, or `.reject(.replay)` (`.replayFilterFull`) when the
    /// tag was seen (the filter is full), or `.reject(.unknownEpoch)` when the epoch was retired
    /// since the packet was opened. Cheap: a peel's crypto can run elsewhere (``open(_:with:geometry:)``
    /// on any thread) and its result come back here, to the one filter of its epoch.
    public mutating func record(_ opened: Opened) -> SphinxPeelResult {
        guard let tag = opened.tag else { return opened.result }
        guard filters[opened.epoch] != nil else { return .reject(.unknownEpoch) }
        switch filters[opened.epoch]!.insert(tag) {
        case .recorded: if recordsNewTags { newTags.append((opened.epoch, tag)) }
        case .replay: return .reject(.replay)
        case .full: return .reject(.replayFilterFull)
        }
        return opened.result
    }

    /// A packet after the crypto of a peel, before its replay check (``record(_:)``).
    public struct Opened: Sendable, Equatable {
        /// What the peel decided if the tag is new.
        public var result: SphinxPeelResult
        /// The replay tag; nil when the packet was refused before its MAC held.
        public var tag: ReplayFilter.Tag?
        public var epoch: UInt32

        public init(result: SphinxPeelResult, tag: ReplayFilter.Tag?, epoch: UInt32) {
            self.result = result
            self.tag = tag
            self.epoch = epoch
        }
    }

    /// The crypto of one peel, with no state: checks `packet` (exactly `geometry.sphinxPacketLength`
    /// bytes, for `key`'s epoch) and transforms it in place. The packet must not be acted on
    /// before ``record(_:)`` has checked its tag. Safe on any thread (`key` is immutable).
    public static func open(_ packet: UnsafeMutableRawBufferPointer, with key: OnionKey, geometry g: PacketGeometry) -> Opened {
        let epoch = key.epoch
        func refused(_ reason: SphinxRejectReason) -> Opened { Opened(result: .reject(reason), tag: nil, epoch: epoch) }
        guard packet.count == g.sphinxPacketLength else { return refused(.badLength) }
        guard Self.epoch(of: UnsafeRawBufferPointer(packet)) == epoch else { return refused(.unknownEpoch) }
        let alpha = Bytes32(copying: UnsafeRawBufferPointer(rebasing: packet[g.alphaOffset...]))
        // X25519 ignores the top bit and reduces mod p, so two encodings would peel alike:
        // accept only the canonical one (what X25519 itself outputs).
        guard isCanonical(alpha) else { return refused(.badAlpha) }
        let slotLength = PacketGeometry.routingSlotLength

        // One stack scratch area: s(32) | keys(240) | γ'(16) | factor(32) | β stream(β + slot).
        let scratchLength = 32 + SphinxHopKeys.byteCount + 16 + 32 + g.betaLength + slotLength
        return withUnsafeTemporaryAllocation(byteCount: scratchLength, alignment: 16) { scratch -> Opened in
            defer { ConstantTime.wipe(scratch) }
            let secret = UnsafeMutableRawBufferPointer(rebasing: scratch[0..<32])
            let hopKeys = UnsafeMutableRawBufferPointer(rebasing: scratch[32..<272])
            let gamma = UnsafeMutableRawBufferPointer(rebasing: scratch[272..<288])
            let factor = UnsafeMutableRawBufferPointer(rebasing: scratch[288..<320])
            let extended = UnsafeMutableRawBufferPointer(rebasing: scratch[320..<(320 + g.betaLength + slotLength)])

            do {
                try key.privateKey.withUnsafeScalar { try X25519.multiply(scalar: $0, point: alpha, into: secret) }
            } catch {
                return refused(.badAlpha)
            }
            SphinxHopKeys.derive(secret: UnsafeRawBufferPointer(secret), into: hopKeys)
            let keysView = UnsafeRawBufferPointer(hopKeys)

            let beta = UnsafeMutableRawBufferPointer(rebasing: packet[g.betaOffset..<g.gammaOffset])
            SphinxHopKeys.mac(beta: UnsafeRawBufferPointer(beta), keys: keysView, into: gamma)
            let receivedGamma = UnsafeRawBufferPointer(rebasing: packet[g.gammaOffset..<g.payloadOffset])
            guard ConstantTime.equal(UnsafeRawBufferPointer(gamma), receivedGamma) else { return refused(.badMAC) }

            let tag = ReplayFilter.Tag(UnsafeRawBufferPointer(rebasing: keysView[SphinxHopKeys.replayTagRange]))
            func opened(_ result: SphinxPeelResult) -> Opened { Opened(result: result, tag: tag, epoch: epoch) }

            // β || 0^slot, decrypted: our slot, then the next hop's β.
            extended.initializeMemory(as: UInt8.self, repeating: 0)
            UnsafeMutableRawBufferPointer(rebasing: extended[0..<g.betaLength]).copyMemory(from: UnsafeRawBufferPointer(beta))
            SphinxHopKeys.xorBetaStream(extended, keys: keysView)
            let slot = UnsafeRawBufferPointer(rebasing: extended[0..<slotLength])
            let command = RoutingCommand(reading: slot)
            beta.copyMemory(from: UnsafeRawBufferPointer(rebasing: extended[slotLength...]))
            UnsafeMutableRawBufferPointer(rebasing: packet[g.gammaOffset..<g.payloadOffset])
                .copyMemory(from: UnsafeRawBufferPointer(rebasing: slot[RoutingCommand.nextGammaOffset...]))

            // Re-blind α so the next hop sees an unlinkable value.
            SphinxHopKeys.blindingFactor(alpha: alpha, keys: keysView, into: factor)
            do {
                try X25519.multiply(scalar: UnsafeRawBufferPointer(factor), point: alpha,
                                    into: UnsafeMutableRawBufferPointer(rebasing: packet[g.alphaOffset..<g.betaOffset]))
            } catch {
                return opened(.reject(.badAlpha))
            }
            packet.storeBytes(of: command.nextEpoch.bigEndian, toByteOffset: 0, as: UInt32.self)

            let payload = UnsafeMutableRawBufferPointer(rebasing: packet[g.payloadOffset...])
            // Cannot fail: the payload is longer than Lioness's minimum block by construction of the geometry.
            try? Lioness.decrypt(payload, keys: UnsafeRawBufferPointer(rebasing: keysView[SphinxHopKeys.lionessRange]))

            switch command.action {
            case .forward:
                return opened(.forward(relay: command.address, delayMilliseconds: command.delayMilliseconds))
            case .deliver:
                let zeroTag = UnsafeRawBufferPointer(rebasing: payload[0..<PacketGeometry.payloadTagLength])
                guard zeroTag.allSatisfy({ $0 == 0 }) else { return opened(.reject(.payloadTampered)) }
                return opened(.deliver(mailbox: command.address))
            case .drop:
                return opened(.drop)
            default:
                return opened(.reject(.unknownCommand))
            }
        }
    }

    /// True when `u` is the canonical encoding of a field element: top bit clear and below
    /// p = 2^255 - 19.
    static func isCanonical(_ u: Bytes32) -> Bool {
        u.withUnsafeBytes { b in
            guard b[31] & 0x80 == 0 else { return false }
            guard b[31] == 0x7f, b[0] >= 0xed else { return true }
            return !(1...30).allSatisfy { b[$0] == 0xff }
        }
    }

    /// The body of a packet that `peel` answered `.deliver` for.
    public func body(ofDelivered packet: [UInt8]) -> [UInt8] {
        Array(packet[(geometry.payloadOffset + PacketGeometry.payloadTagLength)...])
    }
}
