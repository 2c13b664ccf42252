public import SecIRCCrypto
public import SecIRCCore
import SecIRCTransport

/// The first ring's directory duty: it keeps the descriptors relays upload (each checked
/// against its own signature). When this relay is the only member it signs, each period, a new
/// directory from them and its own, chained to the one before; in a ring of several it votes
/// for them instead (``RingRound``). Pure: `now` is a parameter.
public struct DirectoryAuthority: Sendable {
    public let identity: SigningPrivateKey
    public private(set) var roster: Roster
    public private(set) var network: NetworkParameters
    public let period: Duration
    /// A directory stays valid this many periods, so clients have slack to refresh.
    public let validityPeriods = 3
    /// Descriptors not refreshed within this many periods (and at least `minimumDescriptorLifetime`)
    /// are left out.
    public let descriptorLifetimePeriods = 3
    public let minimumDescriptorLifetime = Duration.seconds(30)
    /// Bound on stored descriptors (each is small; this caps memory under upload floods).
    public let maximumDescriptors = RelayDirectory.maximumRelays

    private var descriptors: [ID: (document: SignedDocument, descriptor: RelayDescriptor, received: UnixTime)] = [:]
    /// Uploads whose UDP address and link key are not proven yet: a relay is listed only once
    /// it has answered a link handshake at the address it advertises, with the link key it
    /// publishes (``admit(_:)``); unanswered ones go after ``challengeTimeout``. Bounded.
    public private(set) var challenges: [ID: (document: SignedDocument, descriptor: RelayDescriptor, since: UnixTime)] = [:]
    public let maximumChallenges = 64
    public let challengeTimeout = Duration.seconds(30)
    /// This relay's own descriptor: always in the directory, whatever its age.
    private var own: SignedDocument?
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
        /// Too many uploads wait for their handshake challenge.
        case busy
        public var description: String {
            switch self {
            case let .invalid(text): text
            case .stale: "published time is more than a period away from now"
            case .full: "too many relays"
            case .busy: "too many relays wait to answer their handshake challenge; try again later"
            }
        }
    }

    /// What an accepted upload changed.
    public struct Acceptance: Sendable, Equatable {
        public enum Change: Sendable, Equatable {
            /// Its keys, addresses, capacity or flags changed: the next directory must say so.
            case changed
            /// The same content, signed again (or an older upload arriving late): nothing to sign.
            case refreshed
            /// A new relay, or a new address or link key: listed once it answers a handshake
            /// there (``challenges``).
            case challenged
        }

        public var id: ID
        public var change: Change

        public init(id: ID, change: Change) {
            self.id = id
            self.change = change
        }
    }

    /// Accepts a relay's signed descriptor.
    @discardableResult
    public mutating func accept(_ document: SignedDocument, now: UnixTime) throws(UploadError) -> Acceptance {
        let descriptor: RelayDescriptor
        do {
            descriptor = try Unverified<RelayDescriptor>(document).verified()
        } catch {
            throw .invalid("\(error)")
        }
        let slack = max(period.components.seconds, 600)
        // `published` comes from outside: compare without arithmetic that could overflow.
        guard descriptor.published >= now.seconds - slack, descriptor.published <= now.seconds + slack else { throw .stale }
        if descriptor.identityKey == identity.publicKey { throw .invalid("this is the first ring's own identity") }
        // Addresses only: relays and clients never resolve a name from the directory.
        guard (try? SocketAddress(numeric: descriptor.udp)) != nil else {
            throw .invalid("udp \"\(descriptor.udp)\" is not a numeric address and port (host names are not accepted)")
        }
        if descriptors[descriptor.id] == nil, descriptors.count >= maximumDescriptors { throw .full }
        let existing = descriptors[descriptor.id]?.descriptor
        if let existing, existing.published > descriptor.published {
            return Acceptance(id: descriptor.id, change: .refreshed) // an older upload arriving late changes nothing
        }
        guard let existing, existing.udp == descriptor.udp, existing.linkKey == descriptor.linkKey else {
            // One relay per endpoint: the challenge proves that someone at the address holds the
            // link key, not whose identity it is, so a descriptor borrowing a listed (or
            // challenged) relay's address or link key under another identity is refused.
            if let other = endpointHolder(of: descriptor) {
                throw .invalid("udp \(descriptor.udp) or its link key is already another relay's (\(other.hex.prefix(16)))")
            }
            // Not proven at this address with this key yet: challenged first.
            if let waiting = challenges[descriptor.id] {
                if waiting.descriptor.published <= descriptor.published {
                    let proven = waiting.descriptor.udp == descriptor.udp && waiting.descriptor.linkKey == descriptor.linkKey
                    challenges[descriptor.id] = (document, descriptor, proven ? waiting.since : now)
                }
            } else {
                guard challenges.count < maximumChallenges else { throw .busy }
                challenges[descriptor.id] = (document, descriptor, now)
            }
            return Acceptance(id: descriptor.id, change: .challenged)
        }
        descriptors[descriptor.id] = (document, descriptor, now)
        var republished = existing
        republished.published = descriptor.published
        return Acceptance(id: descriptor.id, change: republished == descriptor ? .refreshed : .changed)
    }

    /// Continues from `document`, the last directory this first ring signed (read back from its
    /// data directory after a restart): the next directory has the next serial and names this
    /// one's hash, so the serial never goes back and the chain is unbroken. The relays listed in
    /// it are held again as if uploaded when it was signed (they drop out after the usual
    /// lifetime unless they upload again), so the next directory does not lose them while they
    /// re-upload. Throws when it is not a directory signed by this roster (expired is fine).
    ///
    /// `earlier`: rosters that were in force before this one, newest first (governance): a
    /// directory signed before the last roster change verifies by the roster of its time.
    public mutating func restore(latest document: SignedDocument, earlier: [Roster] = []) throws {
        var verified: (directory: RelayDirectory, descriptors: [RelayDescriptor])?
        var firstError: (any Error)?
        for candidate in [roster] + earlier where verified == nil {
            do {
                verified = try Unverified<RelayDirectory>(document).verifiedAtAnyTime(trusting: candidate)
            } catch {
                firstError = firstError ?? error
            }
        }
        guard let (directory, listed) = verified else { throw firstError ?? DirectoryError.invalid("no roster") }
        latest = (document, directory)
        let signedAt = UnixTime(seconds: directory.validAfter)
        for (signed, descriptor) in zip(directory.relays, listed) where descriptor.identityKey != identity.publicKey {
            guard descriptors.count < maximumDescriptors else { break }
            descriptors[descriptor.id] = (signed, descriptor, signedAt)
        }
    }

    /// The roster in force changed (governance): the next directory names it, with `network`.
    public mutating func follow(roster: Roster, network: NetworkParameters) {
        self.roster = roster
        self.network = network
    }

    /// Relays whose descriptors are held (own not counted).
    public var relayCount: Int { descriptors.count }

    /// Another relay (listed, challenged, or this member) with the same UDP address or link key.
    private func endpointHolder(of descriptor: RelayDescriptor) -> ID? {
        func clashes(_ other: RelayDescriptor) -> Bool {
            other.id != descriptor.id && (other.udp == descriptor.udp || other.linkKey == descriptor.linkKey)
        }
        if let own, let mine = try? Unverified<RelayDescriptor>(own).verified(), clashes(mine) { return mine.id }
        return descriptors.values.first { clashes($0.descriptor) }?.descriptor.id
            ?? challenges.values.first { clashes($0.descriptor) }?.descriptor.id
    }

    /// The relay answered the handshake at its advertised address: it is listed from now on.
    /// False when it was not waiting (or the table is full).
    @discardableResult
    public mutating func admit(_ id: ID, now: UnixTime) -> Bool {
        guard let waiting = challenges.removeValue(forKey: id),
              descriptors[id] != nil || descriptors.count < maximumDescriptors
        else { return false }
        descriptors[id] = (waiting.document, waiting.descriptor, now)
        return true
    }

    /// Drops the challenges not answered within ``challengeTimeout``; their IDs.
    public mutating func expireChallenges(now: UnixTime) -> [ID] {
        let cutoff = now.adding(.zero - challengeTimeout)
        let expired = challenges.filter { $0.value.since <= cutoff }.map(\.key) // due at since + timeout, not after
        for id in expired { challenges[id] = nil }
        return expired
    }

    /// When the oldest challenge runs out.
    public var nextChallengeExpiry: UnixTime? { challenges.values.map(\.since).min()?.adding(challengeTimeout) }

    /// Sets this relay's own signed descriptor, listed in every directory it signs.
    public mutating func setOwn(_ document: SignedDocument) throws {
        let descriptor = try Unverified<RelayDescriptor>(document).verified()
        guard descriptor.identityKey == identity.publicKey else { throw DirectoryError.invalid("own descriptor has another identity") }
        own = document
        descriptors[descriptor.id] = nil
    }

    /// The fresh descriptors, own included, sorted by relay ID (those not refreshed within the
    /// lifetime are dropped): what this member lists, or votes for in a ring of several.
    public mutating func currentDescriptors(now: UnixTime) -> [SignedDocument] {
        let cutoff = now.adding(.zero - max(period * descriptorLifetimePeriods, minimumDescriptorLifetime))
        descriptors = descriptors.filter { $0.value.received >= cutoff }
        var entries = descriptors.values.map { ($0.descriptor.id, $0.document) }
        if let own, let descriptor = try? Unverified<RelayDescriptor>(own).verified() {
            entries.append((descriptor.id, own))
        }
        return entries.sorted { $0.0 < $1.0 }.map(\.1)
    }

    /// A ring of several published `document` (verified by the caller): the chain continues
    /// from it after a restart (``restore(latest:)``), as from a directory signed alone.
    public mutating func adopt(_ document: SignedDocument, _ directory: RelayDirectory) {
        guard directory.serial > latest?.directory.serial ?? 0 else { return }
        latest = (document, directory)
    }

    /// Signs the next directory from the fresh descriptors.
    public mutating func sign(now: UnixTime) -> (document: SignedDocument, directory: RelayDirectory) {
        let relays = currentDescriptors(now: now)
        let serial = (latest?.directory.serial ?? 0) + 1
        let validFor = period.components.seconds * Int64(validityPeriods)
        let directory = RelayDirectory(serial: serial, previous: latest?.document.bodyHash ?? .zero,
                                       earlier: latest?.directory.earlierForNext(),
                                       validAfter: now.seconds, validUntil: now.seconds + max(validFor, 1),
                                       network: network, roster: roster, relays: relays)
        var document = directory.unsignedDocument()
        document.sign(with: identity)
        latest = (document, directory)
        return (document, directory)
    }
}
