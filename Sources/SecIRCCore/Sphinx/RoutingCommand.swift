public import SecIRCCrypto

/// What a relay does with a Sphinx packet after peeling its layer. An open set: a value this
/// code does not know is kept as data (and the packet is rejected as `unknownCommand`).
public struct RoutingAction: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// Send the peeled packet on to the relay `address` after `delay`.
    public static let forward = RoutingAction(rawValue: 1)
    /// The packet has arrived: store its body in mailbox `address`.
    public static let deliver = RoutingAction(rawValue: 2)
    /// Cover traffic: discard silently.
    public static let drop = RoutingAction(rawValue: 3)

    public var description: String {
        switch self {
        case .forward: "forward"
        case .deliver: "deliver"
        case .drop: "drop"
        default: "unknown(\(rawValue))"
        }
    }
}

/// One hop's routing command, as it sits in its 64-byte slot of β:
/// `action(1) | address(32) | delay ms(4, BE) | next epoch(4, BE) | reserved(7, zero) | γ of the next hop(16)`.
public struct RoutingCommand: Hashable, Sendable {
    public var action: RoutingAction
    /// Next relay's ID for `forward`, mailbox ID for `deliver`, zeros for `drop`.
    public var address: Bytes32
    /// How long the relay holds the packet before forwarding (sender-chosen, exponential).
    public var delayMilliseconds: UInt32
    /// The onion-key epoch of the next hop's key (written into the packet when forwarding).
    public var nextEpoch: UInt32

    public init(action: RoutingAction, address: Bytes32, delayMilliseconds: UInt32 = 0, nextEpoch: UInt32 = 0) {
        self.action = action
        self.address = address
        self.delayMilliseconds = delayMilliseconds
        self.nextEpoch = nextEpoch
    }

    public static func forward(to relay: Bytes32, delayMilliseconds: UInt32, nextEpoch: UInt32) -> RoutingCommand {
        RoutingCommand(action: .forward, address: relay, delayMilliseconds: delayMilliseconds, nextEpoch: nextEpoch)
    }

    public static func deliver(to mailbox: Bytes32) -> RoutingCommand {
        RoutingCommand(action: .deliver, address: mailbox)
    }

    public static let drop = RoutingCommand(action: .drop, address: .zero)

    static let addressOffset = 1
    static let delayOffset = 33
    static let nextEpochOffset = 37
    static let nextGammaOffset = 48

    /// Writes the command (γ left untouched) into a 64-byte slot.
    func write(into slot: UnsafeMutableRawBufferPointer) {
        slot[0] = action.rawValue
        address.withUnsafeBytes { UnsafeMutableRawBufferPointer(rebasing: slot[Self.addressOffset..<Self.delayOffset]).copyMemory(from: $0) }
        slot.storeBytes(of: delayMilliseconds.bigEndian, toByteOffset: Self.delayOffset, as: UInt32.self)
        slot.storeBytes(of: nextEpoch.bigEndian, toByteOffset: Self.nextEpochOffset, as: UInt32.self)
        for i in (Self.nextEpochOffset + 4)..<Self.nextGammaOffset { slot[i] = 0 }
    }

    /// Reads a command from a 64-byte slot.
    init(reading slot: UnsafeRawBufferPointer) {
        action = RoutingAction(rawValue: slot[0])
        address = Bytes32(copying: UnsafeRawBufferPointer(rebasing: slot[Self.addressOffset..<Self.delayOffset]))
        delayMilliseconds = UInt32(bigEndian: slot.loadUnaligned(fromByteOffset: Self.delayOffset, as: UInt32.self))
        nextEpoch = UInt32(bigEndian: slot.loadUnaligned(fromByteOffset: Self.nextEpochOffset, as: UInt32.self))
    }
}
