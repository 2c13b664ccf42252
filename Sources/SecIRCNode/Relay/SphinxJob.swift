public import SecIRCCore

/// The crypto of one Sphinx peel, handed out of a ``RelayEngine`` that offloads its peels
/// (`Configuration.peelWorkers`): the packet and the onion key of its epoch go out in
/// ``RelayEngine/Event/peel(_:)``; a worker thread calls ``run(geometry:)`` (no shared state:
/// the key is immutable, the packet is the job's own); the job comes back in
/// ``RelayEngine/Command/peeled(_:)`` and the engine alone checks its replay tag and acts on it.
public struct SphinxJob: Sendable {
    /// The packet, peeled in place by ``run(geometry:)``.
    public private(set) var packet: [UInt8]
    public let key: OnionKey
    /// The link it came in on (its share of the delay queue applies).
    let link: IncomingLink
    /// What ``run(geometry:)`` found; nil until it ran.
    public private(set) var opened: SphinxProcessor.Opened?

    init(packet: [UInt8], key: OnionKey, link: IncomingLink) {
        self.packet = packet
        self.key = key
        self.link = link
    }

    /// Does the peel's crypto (two X25519, the MAC, β and the payload): the expensive part.
    public mutating func run(geometry: PacketGeometry = .standard) {
        let key = key
        opened = packet.withUnsafeMutableBytes { SphinxProcessor.open($0, with: key, geometry: geometry) }
    }
}
