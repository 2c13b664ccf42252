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
    /// The signed directory's envelope stays within this many bytes (an upload that could push
    /// it over is refused): the limit every relay and client decodes a directory with.
    public var maximumDirectoryBytes = SignedDocument.maximumEncodedLength
    /// The admission caps and mode (security.yaml `admission`); caps nothing by default.
    public var policy = AdmissionPolicy()
    /// The operator's allow and ban lists (``change(_:)``).
    public private(set) var lists = AdmissionLists()

    /// A held upload: the envelope, its descriptor, when it came (listed) or since when it is
    /// challenged, the envelope's encoded size, and what the per-address caps count it by.
    public struct Entry: Sendable {
        public var document: SignedDocument
        public var descriptor: RelayDescriptor
        public var since: UnixTime
        var bytes: Int
        var network: (address: [UInt8], prefix: [UInt8])?
        /// When this member first listed the relay (its probation counts from here).
        public var firstListed: UnixTime
        /// Outcomes of the latest handshake checks (``AdmissionPolicy/recheckInterval``), 1:
        /// answered; and when the last began.
        var checks = OutcomeWindow(length: 16)
        var lastChecked: UnixTime
        /// A challenge: whether the relay's HTTP `/healthz` (at the `http` its descriptor
        /// advertises) answered 200 — needed, besides the handshake, to pass.
        public var healthAnswered = false
        /// Outcomes of the latest forwarding-probe packets sent through the relay, 1: came back.
        var probes = OutcomeWindow(length: 64)
        /// A challenge: whether its forwarding probe went out, and how many of its packets came
        /// back (a relay not yet listed at this endpoint passes with ``probeQuorum`` of them).
        public var probeSent = false
        public var probesReturned = 0
        /// A challenge that rechecks a relay listed at the same `udp` and `link_key`: its probe
        /// counts towards the relay's forwarding share but does not hold up the check.
        public var isRecheck = false

        /// Whether a challenge passed: the handshake (checked by the caller), `/healthz`, and
        /// for a relay not listed at this endpoint yet, the forwarding probe.
        public var passedChecks: Bool {
            healthAnswered && (isRecheck || probesReturned >= DirectoryAuthority.probeQuorum)
        }

        init(_ document: SignedDocument, _ descriptor: RelayDescriptor, since: UnixTime) {
            self.document = document
            self.descriptor = descriptor
            self.since = since
            bytes = document.jsonBytes().count
            network = AdmissionPolicy.network(of: descriptor.udp)
            firstListed = since
            lastChecked = since
        }

        /// Keeps what this member measured of the relay before this upload.
        mutating func carry(from earlier: Entry) {
            firstListed = earlier.firstListed
            checks = earlier.checks
            lastChecked = earlier.lastChecked
            probes = earlier.probes
        }

        /// The share of the recorded checks the relay answered (1 when none were made).
        public var uptime: Double { checks.share }

        /// The share of its recorded probe packets that came back (1 when none were sent).
        public var forwarding: Double { probes.share }

        /// Whether its last two checks both went unanswered, or fewer than half of at least 16
        /// probe packets came back (it is left out of what this member lists).
        var failing: Bool { checks.lastTwoFailed || probes.count >= 16 && forwarding < 0.5 }
    }

    private var descriptors: [ID: Entry] = [:]
    /// Uploads whose UDP address and link key are not proven yet: a relay is listed only once
    /// it has answered a link handshake at the address it advertises, with the link key it
    /// publishes (``admit(_:now:)``); unanswered ones go after ``challengeTimeout``. Bounded.
    public private(set) var challenges: [ID: Entry] = [:]
    public let maximumChallenges = 64
    public let challengeTimeout = Duration.seconds(30)
    /// Packets in one forwarding probe, and how many must come back for a relay not listed at
    /// its endpoint yet to pass (docs/PROTOCOL.md §3.3).
    public static let probePackets = 8
    public static let probeQuorum = 4
    /// When relays were listed for the first time, within the last period (``AdmissionPolicy/newRelaysPerPeriod``).
    private var admissions: [UnixTime] = []
    /// This relay's own descriptor: always in the directory, whatever its age.
    private var own: Entry?
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
        /// The operator banned this relay.
        case banned
        /// Allow-list mode, and this relay is not on the list.
        case notAllowed
        /// Its IP address, or its /24 (/48), holds as many relays as the policy allows.
        case addressLimit(String)
        /// As many new relays as the policy allows were listed within the last period; room
        /// again after `retryAfter`.
        case newRelayLimit(retryAfter: Duration)
        /// Listing it could push the signed directory over ``maximumDirectoryBytes``.
        case directoryFull(limit: Int)

        public var description: String {
            switch self {
            case let .invalid(text): text
            case .stale: "published time is more than a period away from now"
            case .full: "too many relays"
            case .busy: "too many relays wait to answer their handshake challenge; try again later"
            case .banned: "this relay is banned by the operator"
            case .notAllowed: "this first-ring member lists only relays on its allow list"
            case let .addressLimit(text): text
            case let .newRelayLimit(retryAfter):
                "as many new relays as allowed were listed this period; try again in \(retryAfter.components.seconds + 1) s"
            case let .directoryFull(limit): "the signed directory would grow over its limit of \(limit) bytes"
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
        /// A listed relay whose last handshake check is older than ``AdmissionPolicy/recheckInterval``:
        /// checked again now (``challenges``), while it stays listed.
        public var recheck: Bool

        public init(id: ID, change: Change, recheck: Bool = false) {
            self.id = id
            self.change = change
            self.recheck = recheck
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
        // Flags are not the relay's to claim: `first_ring` belongs to the members of the roster in force.
        if descriptor.flags.contains("first_ring"), !roster.keys.contains(descriptor.identityKey) {
            throw .invalid("flag first_ring is granted by the roster (docs/PROTOCOL.md §3.5), and this relay is not a member")
        }
        let id = descriptor.id
        if lists.banned.contains(id) { throw .banned }
        if policy.mode == .allowlist, !lists.allowed.contains(id) { throw .notAllowed }
        // Addresses only: relays and clients never resolve a name from the directory.
        let entry = Entry(document, descriptor, since: now)
        guard let network = entry.network else {
            throw .invalid("udp \"\(descriptor.udp)\" is not a numeric address and port (host names are not accepted)")
        }
        if descriptors[id] == nil, descriptors.count >= maximumDescriptors { throw .full }
        let existing = descriptors[id]?.descriptor
        if let existing, existing.published > descriptor.published {
            return Acceptance(id: id, change: .refreshed) // an older upload arriving late changes nothing
        }
        let others = heldBytes(excluding: id)
        guard let existing, existing.udp == descriptor.udp, existing.linkKey == descriptor.linkKey else {
            // One relay per endpoint: the challenge proves that someone at the address holds the
            // link key, not whose identity it is, so a descriptor borrowing a listed (or
            // challenged) relay's address or link key under another identity is refused.
            if let other = endpointHolder(of: descriptor) {
                throw .invalid("udp \(descriptor.udp) or its link key is already another relay's (\(other.hex.prefix(16)))")
            }
            try checkCaps(id: id, network: network, now: now)
            // The listed one stays until the new one is proven: a directory lists one of them.
            try checkSize(others + max(entry.bytes, descriptors[id]?.bytes ?? 0))
            // Not proven at this address with this key yet: challenged first.
            if let waiting = challenges[id] {
                if waiting.descriptor.published <= descriptor.published {
                    let proven = waiting.descriptor.udp == descriptor.udp && waiting.descriptor.linkKey == descriptor.linkKey
                    var renewed = Entry(document, descriptor, since: proven ? waiting.since : now)
                    // Its /healthz answer holds for the same `http`; its probe for the same endpoint.
                    renewed.healthAnswered = proven && waiting.healthAnswered && waiting.descriptor.http == descriptor.http
                    if proven {
                        renewed.probeSent = waiting.probeSent
                        renewed.probesReturned = waiting.probesReturned
                        renewed.probes = waiting.probes
                    }
                    challenges[id] = renewed
                }
            } else {
                guard challenges.count < maximumChallenges else { throw .busy }
                challenges[id] = entry
            }
            return Acceptance(id: id, change: .challenged)
        }
        try checkSize(others + entry.bytes)
        var republished = existing
        republished.published = descriptor.published
        var updated = entry
        if let listed = descriptors[id] {
            updated.carry(from: listed)
            if republished == descriptor {
                // The same content signed again (relays re-sign every few minutes to stay
                // fresh): the listed envelope stays, so directories, and their diffs, do not
                // change for it. Its freshness (`since`) is this upload's.
                updated.document = listed.document
                updated.descriptor = listed.descriptor
                updated.bytes = listed.bytes
            }
        }
        descriptors[id] = updated
        var recheck = false
        if policy.recheckInterval > .zero, challenges[id] == nil, challenges.count < maximumChallenges,
           now >= updated.lastChecked.adding(policy.recheckInterval) {
            descriptors[id]!.lastChecked = now
            var check = entry
            check.isRecheck = true
            challenges[id] = check
            recheck = true
        }
        return Acceptance(id: descriptor.id, change: republished == descriptor ? .refreshed : .changed, recheck: recheck)
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
        for (index, (signed, descriptor)) in zip(directory.relays, listed).enumerated()
        where descriptor.identityKey != identity.publicKey && !lists.banned.contains(descriptor.id) {
            guard descriptors.count < maximumDescriptors else { break }
            var entry = Entry(signed, descriptor, since: signedAt)
            // What was measured before the restart is gone; a relay the ring had granted
            // `mailbox` counts as having served its probation, others start it again.
            if directory.rating(at: index, of: descriptor).has("mailbox") {
                entry.firstListed = signedAt.adding(.zero - policy.probation)
            }
            descriptors[descriptor.id] = entry
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
        if let mine = own?.descriptor, clashes(mine) { return mine.id }
        return descriptors.values.first { clashes($0.descriptor) }?.descriptor.id
            ?? challenges.values.first { clashes($0.descriptor) }?.descriptor.id
    }

    /// The policy's caps for a relay not listed at this address yet: relays (listed, challenged
    /// or this member; each identity once) at its IP address and in its /24 or /48, and new
    /// relays listed within the last period.
    private mutating func checkCaps(id: ID, network: (address: [UInt8], prefix: [UInt8]), now: UnixTime) throws(UploadError) {
        if policy.maxRelaysPerAddress > 0 || policy.maxRelaysPerPrefix > 0 {
            var sameAddress: Set<ID> = [], samePrefix: Set<ID> = []
            for entry in [own].compactMap({ $0 }) + Array(descriptors.values) + Array(challenges.values) where entry.descriptor.id != id {
                guard let other = entry.network else { continue }
                if other.address == network.address { sameAddress.insert(entry.descriptor.id) }
                if other.prefix == network.prefix { samePrefix.insert(entry.descriptor.id) }
            }
            if policy.maxRelaysPerAddress > 0, sameAddress.count >= policy.maxRelaysPerAddress {
                throw .addressLimit("its IP address holds \(sameAddress.count) relays, the most this first ring lists per address")
            }
            if policy.maxRelaysPerPrefix > 0, samePrefix.count >= policy.maxRelaysPerPrefix {
                let width = network.prefix.first == 4 ? "/24" : "/48"
                throw .addressLimit("its \(width) holds \(samePrefix.count) relays, the most this first ring lists per \(width)")
            }
        }
        if descriptors[id] == nil, let retry = newRelayWait(now: now) { throw .newRelayLimit(retryAfter: retry) }
    }

    /// While ``AdmissionPolicy/newRelaysPerPeriod`` new relays were listed within the last
    /// period: how long until one of them leaves it. Nil when there is room.
    private mutating func newRelayWait(now: UnixTime) -> Duration? {
        guard policy.newRelaysPerPeriod > 0 else { return nil }
        let cutoff = now.adding(.zero - period)
        admissions.removeAll { $0 <= cutoff }
        guard admissions.count >= policy.newRelaysPerPeriod else { return nil }
        return admissions[admissions.count - policy.newRelaysPerPeriod].adding(period).duration(since: now)
    }

    /// Bytes of every held envelope (listed, challenged and own) but `id`'s; of a listed relay
    /// that is also challenged (a recheck, or a new address or link key), the larger of its two
    /// envelopes, since a directory lists one.
    private func heldBytes(excluding id: ID) -> Int {
        var total = own?.bytes ?? 0
        for (other, entry) in descriptors where other != id { total += max(entry.bytes, challenges[other]?.bytes ?? 0) }
        for (other, entry) in challenges where other != id && descriptors[other] == nil { total += entry.bytes }
        return total
    }

    /// Throws unless a directory listing relays whose envelopes take `relayBytes` in all fits
    /// ``maximumDirectoryBytes``. Counted from above: every held envelope (challenged ones as if
    /// listed) and a comma each, the longest fixed fields, every member's signature.
    private func checkSize(_ relayBytes: Int) throws(UploadError) {
        let count = descriptors.count + challenges.keys.count { descriptors[$0] == nil } + 2
        let (emptyBody, overhead) = emptyDirectoryBytes
        // The body goes into the envelope in base64: 4 characters per 3 bytes.
        guard overhead + (emptyBody + relayBytes + count + 2) / 3 * 4 <= maximumDirectoryBytes else {
            throw .directoryFull(limit: maximumDirectoryBytes)
        }
    }

    /// A directory without relays at its longest, from the roster and network in force: its
    /// body (serial and times of 20 characters, 63 `earlier` hashes), and its envelope without
    /// the body (every member's signature).
    private var emptyDirectoryBytes: (body: Int, envelope: Int) {
        let longest = RelayDirectory(serial: .max, previous: .zero, earlier: Array(repeating: .zero, count: RelayDirectory.maximumEarlier),
                                     validAfter: .min, validUntil: .min, network: network, roster: roster, relays: [])
        let blank = try! Signature(bytes: [UInt8](repeating: 0, count: Signature.byteCount)) // the right length cannot fail
        let signatures = roster.members.map { SignedDocument.Entry(key: $0.identityKey, sig: blank) }
        // 256 bytes of slack: a ring's consensus takes numeric parameters by median, whose
        // decimal form may be longer than this member's.
        return (longest.unsignedDocument().body.count + 256,
                SignedDocument(type: RelayDirectory.documentType, body: [], signatures: signatures).jsonBytes().count)
    }

    /// The relay answered the handshake at its advertised address: it is listed from now on.
    /// False when it was not waiting, the table is full, or it is banned or not allowed since
    /// (dropped); or, still waiting, when the period's new relays are all listed
    /// (``AdmissionPolicy/newRelaysPerPeriod``: it is listed once there is room, if before its
    /// challenge runs out).
    @discardableResult
    public mutating func admit(_ id: ID, now: UnixTime) -> Bool {
        guard challenges[id] != nil else { return false }
        let isNew = descriptors[id] == nil
        guard !lists.banned.contains(id), policy.mode == .open || lists.allowed.contains(id),
              !isNew || descriptors.count < maximumDescriptors
        else {
            challenges[id] = nil
            return false
        }
        if isNew, newRelayWait(now: now) != nil { return false }
        var entry = challenges.removeValue(forKey: id)!
        if let listed = descriptors[id], listed.descriptor.udp == entry.descriptor.udp, listed.descriptor.linkKey == entry.descriptor.linkKey {
            // A recheck of a listed relay: answered. It stays as listed (a changed upload since
            // replaced the listed envelope already).
            descriptors[id]!.checks.record(true)
            return false
        }
        entry.since = now
        if let listed = descriptors[id] { entry.carry(from: listed) } else { entry.firstListed = now }
        entry.lastChecked = now
        entry.checks.record(true)
        descriptors[id] = entry
        if isNew, policy.newRelaysPerPeriod > 0 { admissions.append(now) }
        return true
    }

    /// Changes the operator's lists. Banning forgets the relay's upload (and its challenge), so
    /// the next directory leaves it out; in allow-list mode, so does disallowing. False when
    /// the list is full.
    public mutating func change(_ change: AdmissionLists.Change) -> Bool {
        guard lists.apply(change) else { return false }
        if case let .ban(id) = change {
            descriptors[id] = nil
            challenges[id] = nil
        }
        return true
    }

    /// Sets the lists (read back from the data directory at start).
    public mutating func restore(lists: AdmissionLists) {
        self.lists = lists
        for id in lists.banned {
            descriptors[id] = nil
            challenges[id] = nil
        }
    }

    /// Whether `id` may be listed now (not banned; on the allow list in allow-list mode).
    public func mayList(_ id: ID) -> Bool {
        !lists.banned.contains(id) && (policy.mode == .open || lists.allowed.contains(id))
    }

    /// A challenged relay's `/healthz` at `http` answered 200 (for the descriptor it was asked
    /// for: an upload since with another `http` waits for its own answer).
    public mutating func healthAnswered(_ id: ID, http: String) {
        guard challenges[id]?.descriptor.http == http else { return }
        challenges[id]!.healthAnswered = true
    }

    /// The forwarding probe of challenged relay `id` went out.
    public mutating func probeSent(_ id: ID) {
        challenges[id]?.probeSent = true
    }

    /// A forwarding-probe packet sent through relay `id` came back (`returned`) or ran out of
    /// time: counted for the relay as listed (a recheck's, or one that passed meanwhile), else
    /// for its challenge.
    /// `challenge` is when the challenge that sent it began: a packet of an earlier challenge
    /// (another endpoint) counts for the relay, not for the challenge waiting now.
    public mutating func probed(_ id: ID, returned: Bool, challenge: UnixTime) {
        if returned, challenges[id]?.since == challenge { challenges[id]!.probesReturned += 1 }
        if descriptors[id] != nil {
            descriptors[id]!.probes.record(returned)
        } else {
            challenges[id]?.probes.record(returned)
        }
    }

    /// Drops the challenges not answered within ``challengeTimeout``; their IDs.
    public mutating func expireChallenges(now: UnixTime) -> [ID] {
        let cutoff = now.adding(.zero - challengeTimeout)
        let expired = challenges.filter { $0.value.since <= cutoff }.map(\.key) // due at since + timeout, not after
        for id in expired {
            let waiting = challenges.removeValue(forKey: id)!
            // A listed relay that did not answer its recheck: counted against its uptime.
            if let listed = descriptors[id], listed.descriptor.udp == waiting.descriptor.udp,
               listed.descriptor.linkKey == waiting.descriptor.linkKey {
                descriptors[id]!.checks.record(false)
            }
        }
        return expired
    }

    /// When the oldest challenge runs out.
    public var nextChallengeExpiry: UnixTime? { challenges.values.map(\.since).min()?.adding(challengeTimeout) }

    /// Sets this relay's own signed descriptor, listed in every directory it signs.
    public mutating func setOwn(_ document: SignedDocument) throws {
        let descriptor = try Unverified<RelayDescriptor>(document).verified()
        guard descriptor.identityKey == identity.publicKey else { throw DirectoryError.invalid("own descriptor has another identity") }
        own = Entry(document, descriptor, since: .init(nanoseconds: 0))
        descriptors[descriptor.id] = nil
    }

    /// The fresh descriptors, own included, sorted by relay ID (those not refreshed within the
    /// lifetime are dropped, those that missed their last two checks left out): what this
    /// member lists, or votes for in a ring of several.
    public mutating func currentDescriptors(now: UnixTime) -> [SignedDocument] { currentListing(now: now).relays }

    /// ``currentDescriptors(now:)`` with this member's rating of each (``rating(of:now:)``).
    public mutating func currentListing(now: UnixTime) -> (relays: [SignedDocument], ratings: [RelayRating]) {
        let entries = listedEntries(now: now)
        return (entries.map(\.document), entries.map { rating(of: $0, now: now) })
    }

    private mutating func listedEntries(now: UnixTime) -> [Entry] {
        let cutoff = now.adding(.zero - max(period * descriptorLifetimePeriods, minimumDescriptorLifetime))
        descriptors = descriptors.filter { $0.value.since >= cutoff }
        var entries = descriptors.values.filter { mayList($0.descriptor.id) && !$0.failing }
        if let own { entries.append(own) }
        return entries.sorted { $0.descriptor.id < $1.descriptor.id }
    }

    /// What this member measured of a relay, as a rating (docs/PROTOCOL.md §3.4). Members of
    /// the roster (this one too) are trusted: full weight, `mailbox`. Any other relay: its
    /// claimed capacity capped at ``AdmissionPolicy/maximumCapacity``, times 0.1 when first
    /// listed rising to 1 at the end of its probation, times the share of its handshake checks
    /// it answered, times the share of its forwarding-probe packets that came back; `mailbox` once
    /// its probation is over and both shares are at least 90%.
    public func rating(of entry: Entry, now: UnixTime) -> RelayRating {
        let capacity = Double(min(max(entry.descriptor.capacity, 1), policy.maximumCapacity))
        if roster.members.contains(where: { $0.identityKey == entry.descriptor.identityKey }) || entry.descriptor.identityKey == identity.publicKey {
            return RelayRating(weight: RelayRating.rounded(capacity), flags: ["mailbox"])
        }
        let age = now.duration(since: entry.firstListed)
        let served = policy.probation <= .zero ? 1 : min(1, max(0, age / policy.probation))
        let uptime = entry.uptime, forwarding = entry.forwarding
        let weight = RelayRating.rounded(capacity * (0.1 + 0.9 * served) * uptime * forwarding)
        return RelayRating(weight: weight, flags: served >= 1 && uptime >= 0.9 && forwarding >= 0.9 ? ["mailbox"] : [])
    }

    /// A ring of several published `document` (verified by the caller): the chain continues
    /// from it after a restart (``restore(latest:)``), as from a directory signed alone.
    public mutating func adopt(_ document: SignedDocument, _ directory: RelayDirectory) {
        guard directory.serial > latest?.directory.serial ?? 0 else { return }
        latest = (document, directory)
    }

    /// Signs the next directory from the fresh descriptors.
    public mutating func sign(now: UnixTime) -> (document: SignedDocument, directory: RelayDirectory) {
        let entries = listedEntries(now: now)
        let relays = entries.map(\.document)
        // A ring of one is its own consensus: its ratings, and `first_ring` for the roster's members.
        let members = roster.keys
        let ratings = entries.map { entry in
            let rating = rating(of: entry, now: now)
            return members.contains(entry.descriptor.identityKey) ? RelayRating(weight: rating.weight, flags: rating.flags + ["first_ring"]) : rating
        }
        let serial = (latest?.directory.serial ?? 0) + 1
        let validFor = period.components.seconds * Int64(validityPeriods)
        let directory = RelayDirectory(serial: serial, previous: latest?.document.bodyHash ?? .zero,
                                       earlier: latest?.directory.earlierForNext(),
                                       validAfter: now.seconds, validUntil: now.seconds + max(validFor, 1),
                                       network: network, roster: roster, relays: relays, ratings: ratings)
        var document = directory.unsignedDocument()
        document.sign(with: identity)
        latest = (document, directory)
        return (document, directory)
    }
}
