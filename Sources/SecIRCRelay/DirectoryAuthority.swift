public import SecIRCCrypto
public import SecIRCCore

/// The first ring's directory duty when this relay is the only member: it keeps the
/// descriptors relays upload (each checked against its own signature), and each period signs a
/// new directory from them and its own, chained to the one before. Pure: `now` is a parameter.
/// (With several members, votes are exchanged first; `RelayDirectory` already verifies
/// t-of-n signatures, so only the voting is missing.)
public struct DirectoryAuthority: Sendable {
    public let identity: SigningPrivateKey
    public let roster: Roster
    public let network: NetworkParameters
    public let period: Duration
    /// A directory stays valid this many periods, so clients have slack to refresh.
    public let validityPeriods = 3
    /// Descriptors not refreshed within this many periods are left out.
    public let descriptorLifetimePeriods = 3
    /// Bound on stored descriptors (each is small; this caps memory under upload floods).
    public let maximumDescriptors = RelayDirectory.maximumRelays

    private var descriptors: [ID: (document: SignedDocument, descriptor: RelayDescriptor, received: UnixTime)] = [:]
    public private(set) var latest: (document: SignedDocument, directory: RelayDirectory)?

    public init(identity: SigningPrivateKey, roster: Roster, network: NetworkParameters, period: Duration) {
        self.identity = identity
        self.roster = roster
        self.network = network
        self.period = period
    }

    /// Why an upload was refused.
    public enum UploadError: Error, Equatable, Sendable, CustomStringConvertible {
        case invalid(String)
        case stale
        case full
        public var description: String {
            switch self {
            case let .invalid(text): text
            case .stale: "published time is more than a period away from now"
            case .full: "too many relays"
            }
        }
    }

    /// Accepts a relay's signed descriptor; returns the relay's ID.
    @discardableResult
    public mutating func accept(_ document: SignedDocument, now: UnixTime) throws(UploadError) -> ID {
        let descriptor: RelayDescriptor
        do {
            descriptor = try Unverified<RelayDescriptor>(document).verified()
        } catch {
            throw .invalid("\(error)")
        }
        let slack = max(period.components.seconds, 600)
        guard abs(descriptor.published - now.seconds) <= slack else { throw .stale }
        if descriptors[descriptor.id] == nil, descriptors.count >= maximumDescriptors { throw .full }
        if let existing = descriptors[descriptor.id], existing.descriptor.published > descriptor.published {
            return descriptor.id // an older upload arriving late changes nothing
        }
        descriptors[descriptor.id] = (document, descriptor, now)
        return descriptor.id
    }

    /// Relays whose descriptors are held (own included once accepted).
    public var relayCount: Int { descriptors.count }

    /// Signs the next directory from the fresh descriptors.
    public mutating func sign(now: UnixTime) -> (document: SignedDocument, directory: RelayDirectory) {
        let cutoff = now.adding(.zero - period * descriptorLifetimePeriods)
        descriptors = descriptors.filter { $0.value.received >= cutoff }
        let relays = descriptors.values.sorted { $0.descriptor.id < $1.descriptor.id }.map(\.document)
        let serial = (latest?.directory.serial ?? 0) + 1
        let validFor = period.components.seconds * Int64(validityPeriods)
        let directory = RelayDirectory(serial: serial, previous: latest?.document.bodyHash ?? .zero,
                                       validAfter: now.seconds, validUntil: now.seconds + max(validFor, 1),
                                       network: network, roster: roster, relays: relays)
        var document = directory.unsignedDocument()
        document.sign(with: identity)
        latest = (document, directory)
        return (document, directory)
    }
}
