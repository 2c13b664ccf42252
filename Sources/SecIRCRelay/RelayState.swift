public import SecIRCCore
public import SecIRCCrypto
import SecIRCLock
public import SecIRCNode

/// What the relay's HTTP side reads: the directory it serves, its own signed descriptor, its
/// onion keys and readiness. The relay's loop publishes into it after its engine changes them;
/// HTTP threads only read it. Thread-safe.
public final class RelayState: Sendable {
    /// The directory as served: exact signed bytes, their ETag and the response headers, and the
    /// verified content. Immutable and shared by reference, so serving it costs one retain.
    public final class ServedDirectory: Sendable {
        public let json: [UInt8]
        public let etag: String
        public let headers: [(String, String)]
        public let document: SignedDocument
        public let directory: RelayDirectory
        public let descriptors: [RelayDescriptor]
        /// What brought it (`local` when this relay signed it) and when it was installed.
        public let channel: DirectoryTracker.Channel
        public let installedAt: UnixTime?
        /// Diffs to this directory already made, by base serial (nil: none can be made).
        private let diffs = Locked<[UInt64: [UInt8]?]>([:])

        init(document: SignedDocument, directory: RelayDirectory, descriptors: [RelayDescriptor],
             channel: DirectoryTracker.Channel, installedAt: UnixTime?) {
            self.channel = channel
            self.installedAt = installedAt
            json = document.jsonBytes()
            etag = "\"\(document.bodyHash.hex)\""
            headers = [("ETag", etag), ("Cache-Control", "no-cache")]
            self.document = document
            self.directory = directory
            self.descriptors = descriptors
        }

        /// The diff from `base` to this directory, as JSON (``DirectoryDiff``), made once.
        func diff(from base: ServedDirectory) -> [UInt8]? {
            if let made = diffs.withLock({ $0[base.directory.serial] }) { return made }
            let made = DirectoryDiff.make(from: base.document, base.directory, to: document, directory)?.jsonBytes()
            diffs.withLock { $0[base.directory.serial] = made }
            return made
        }
    }

    private struct Inner {
        var directory: ServedDirectory?
        /// Directories served before, newest first: the bases of diffs.
        var recent: [ServedDirectory] = []
        var descriptor: SignedDocument?
        var onionKeys: [RelayDescriptor.OnionKeyEntry] = []
        var ring: RingStatus?
        var governance: GovernanceStatus?
        var chain: RosterChain?
        var udpReady = false
        var draining = false
        var idle = true
        var turns = 0
    }

    public let relayID: ID
    /// The roster it was configured with (epoch 0).
    public let trustedRoster: Roster
    /// Whether it was a member of the configured roster.
    private let configuredMember: Bool
    /// SHA-256 fingerprint of the HTTPS certificate, when HTTPS is on.
    public let tlsFingerprint: String?
    /// SHA-256 of the HTTPS key's SubjectPublicKeyInfo, base64: what a bootstrap URL pins
    /// (`https://host:port/#spki=<pin>`).
    public let tlsPin: String?
    private let inner = Locked(Inner())

    public init(relayID: ID, trustedRoster: Roster, isAuthority: Bool, tlsFingerprint: String?, tlsPin: String? = nil) {
        self.relayID = relayID
        self.trustedRoster = trustedRoster
        configuredMember = isAuthority
        self.tlsFingerprint = tlsFingerprint
        self.tlsPin = tlsPin
    }

    public var directory: ServedDirectory? { inner.withLock { $0.directory } }
    public var descriptor: SignedDocument? { inner.withLock { $0.descriptor } }
    public var onionKeys: [RelayDescriptor.OnionKeyEntry] { inner.withLock { $0.onionKeys } }
    /// A member of a ring of several: its rounds and proofs (nil otherwise).
    public var ringStatus: RingStatus? { inner.withLock { $0.ring } }
    public func setRingStatus(_ status: RingStatus?) { inner.withLock { $0.ring = status } }
    /// This relay is a member of the first ring in force (it takes uploads and signs).
    public var isAuthority: Bool { inner.withLock { $0.governance?.member } ?? configuredMember }
    /// The roster in force, the proposals for the next, and what this member signed.
    public var governance: GovernanceStatus? { inner.withLock { $0.governance } }
    /// The roster changes in force (what `GET /v1/ring/roster` serves).
    public var rosterChain: RosterChain { inner.withLock { $0.chain } ?? RosterChain(genesis: trustedRoster) }
    public func setGovernance(_ status: GovernanceStatus, chain: RosterChain) {
        inner.withLock {
            $0.governance = status
            if $0.chain?.current != chain.current { $0.chain = chain }
        }
    }
    public var isDraining: Bool { inner.withLock { $0.draining } }
    /// Nothing waits in the delay queue or for a handshake (what a drain waits for), as of the
    /// loop's last turn, and how many turns the loop has published.
    public var idleness: (idle: Bool, turns: Int) { inner.withLock { ($0.idle, $0.turns) } }

    /// Ready: a directory valid at `now` is held and the UDP socket is up, and not draining.
    public func readiness(now: UnixTime) -> (ready: Bool, reason: String) {
        inner.withLock { s in
            if s.draining { return (false, "draining") }
            if !s.udpReady { return (false, "UDP socket not up") }
            guard let d = s.directory?.directory else { return (false, "no valid directory yet") }
            guard now.seconds >= d.validAfter, now.seconds < d.validUntil else { return (false, "directory expired") }
            return (true, "ready")
        }
    }

    public func setUDPReady() { inner.withLock { $0.udpReady = true } }
    public func setDraining() { inner.withLock { $0.draining = true } }
    /// After each of the loop's turns.
    public func endTurn(idle: Bool) {
        inner.withLock {
            $0.idle = idle
            $0.turns &+= 1
        }
    }
    public func setOnionKeys(_ keys: [RelayDescriptor.OnionKeyEntry]) { inner.withLock { $0.onionKeys = keys } }

    /// Serves a directory already verified against the trusted roster.
    public func install(_ held: DirectoryTracker.Held) {
        install(document: held.document, directory: held.directory, descriptors: held.descriptors, channel: held.channel,
                installedAt: held.installedAt)
    }

    public func install(document: SignedDocument, directory: RelayDirectory, descriptors: [RelayDescriptor],
                        channel: DirectoryTracker.Channel = .local, installedAt: UnixTime? = nil) {
        let served = ServedDirectory(document: document, directory: directory, descriptors: descriptors, channel: channel,
                                     installedAt: installedAt)
        inner.withLock { s in
            if let previous = s.directory, previous.directory.serial < directory.serial {
                s.recent.insert(previous, at: 0)
                var bytes = 0
                s.recent = Array(s.recent.prefix { served in
                    bytes += served.json.count
                    return bytes <= Self.maximumRecentBytes
                }.prefix(Self.maximumRecent))
            }
            s.directory = served
        }
    }

    /// `GET /v1/directory?since=` answers with a diff from one of the last this many
    /// directories served, holding at most this many bytes of them together.
    public static let maximumRecent = 6
    public static let maximumRecentBytes = 16 << 20

    /// The diff (``DirectoryDiff`` JSON) from the directory with `serial`, when it is one of
    /// the recent ones kept and a diff can rebuild the current one; nil otherwise.
    public func diff(since serial: UInt64) -> [UInt8]? {
        let (current, base) = inner.withLock { s in (s.directory, s.recent.first { $0.directory.serial == serial }) }
        guard let current, let base, base.directory.serial < current.directory.serial else { return nil }
        return current.diff(from: base)
    }

    /// Sets this relay's own signed descriptor (what `GET /v1/relay` shows).
    public func setDescriptor(_ document: SignedDocument) {
        inner.withLock { $0.descriptor = document }
    }
}
