public import SecIRCCore
public import SecIRCCrypto

/// Keeps one verified relay directory for a relay or a client: decides when to fetch
/// (`GET <source>/v1/directory`, with the held ETag), turns fetched bytes into a directory only
/// when at least the threshold of the trusted first ring signed it and its geometry is this
/// node's, and keeps the newest. Pure: the engine that owns it makes the HTTP exchange and hands
/// back the answer.
///
/// Fetch schedule: without a valid directory, every `retryInterval`; with one, every half of its
/// remaining validity, between `retryInterval` and `maximumRefresh` — and every `retryInterval`
/// while `expectListed` (a relay waiting to see itself listed) is not in it. A failed fetch
/// tries the next source at once; after a round of failures it waits `retryInterval`.
///
/// Sources are ``BootstrapURL``s (an `https` one may pin the server's key) or `dns:NAME`: a
/// domain whose TXT records each hold one bootstrap URL. Names are looked up (a ``FetchRequest``
/// for `dns:NAME`, answered by the loop) at start and after a round in which every source
/// failed, at most every `lookupInterval`; the URLs found (at most ``maximumDiscovered``, each
/// of strict syntax) join the configured ones until the next lookup replaces them.
///
/// Holding a directory, it asks for a diff from it (`?since=SERIAL`, docs/PROTOCOL.md §3.6),
/// installs the rebuilt directory exactly as a full one, and asks for the full one at once
/// when a diff fails. When every configured source failed a round, the relays of the directory
/// held are asked too (``peerSources``, channel `peer`, §3.7); a directory saved by the node
/// comes back through ``restore(cached:now:)`` (channel `cache`).
public struct DirectoryTracker: Sendable {
    /// How a directory reached this node (`/v1/network`, `/v1/relay`). Whatever the channel,
    /// the directory was used only because the first ring's signatures verified.
    public enum Channel: String, Sendable, Equatable {
        /// Plain HTTP from a configured source.
        case http
        /// HTTPS verified by a certificate authority.
        case https
        /// HTTPS to a server whose key the URL pins (`#spki=`).
        case httpsPinned = "https-pinned"
        /// From a source found in a DNS TXT record.
        case dns
        /// Signed by this relay (the first ring alone).
        case local
        /// From a relay listed in the directory held (a relay's linked peers first), asked after
        /// every configured source failed (docs/PROTOCOL.md §3.7).
        case peer
        /// Read back from the data directory at start (saved when it was installed).
        case cache
    }

    /// The directory in use, with its signed envelope and verified descriptors.
    public struct Held: Sendable {
        public let document: SignedDocument
        public let directory: RelayDirectory
        public let descriptors: [RelayDescriptor]
        /// The descriptors by relay ID.
        public let byID: [ID: RelayDescriptor]
        /// What the first ring granted each relay (weight, flags), by relay ID.
        public let ratings: [ID: RelayRating]
        /// `"<hex of the body hash>"`, as relays serve it.
        public let etag: String
        /// What brought it, and when it was installed.
        public let channel: Channel
        public let installedAt: UnixTime

        init(document: SignedDocument, directory: RelayDirectory, descriptors: [RelayDescriptor], channel: Channel,
             installedAt: UnixTime) {
            self.document = document
            self.directory = directory
            self.descriptors = descriptors
            self.channel = channel
            self.installedAt = installedAt
            byID = Dictionary(descriptors.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
            ratings = Dictionary(descriptors.enumerated().map { ($1.id, directory.rating(at: $0, of: $1)) },
                                 uniquingKeysWith: { first, _ in first })
            etag = "\"\(document.bodyHash.hex)\""
        }
    }

    /// What a fetch answer did.
    public enum Outcome: Sendable, Equatable {
        /// A newer directory is now held.
        case installed
        /// The source has the one held (304, or the same bytes).
        case unchanged
        /// The source had nothing usable; the reason is for a log line and a counter.
        case refused(Refusal)
        /// Not an answer to this tracker's fetch.
        case notMine
    }

    public enum Refusal: Error, Sendable, Equatable, CustomStringConvertible {
        /// No answer, or an HTTP status other than 200/304.
        case unreachable(status: Int?)
        /// Not a signed document, or its signatures or contents did not verify.
        case invalid(String)
        /// Older than the one held (a lagging mirror).
        case older(serial: UInt64)
        /// Newer than the one held, which is still valid, but does not continue its chain (a
        /// fork, or more than 64 directories later): refused until the held one expires.
        case brokenChain(serial: UInt64, reason: String)
        /// The source's TLS server was refused: its key is not the pinned one, or (without a
        /// pin) its certificate did not verify.
        case untrustedServer(source: String, FetchFailure)
        /// A `dns:` source gave no usable bootstrap URL.
        case lookupFailed(name: String, reason: String)

        public var description: String {
            switch self {
            case let .untrustedServer(source, failure): "\(source): \(failure)"
            case let .lookupFailed(name, reason): "DNS TXT \(name): \(reason)"
            case let .unreachable(status): status.map { "HTTP \($0)" } ?? "no answer"
            case let .invalid(reason): reason
            case let .older(serial): "serial \(serial) is older than the directory held"
            case let .brokenChain(serial, reason): "serial \(serial) does not continue the chain held: \(reason)"
            }
        }
    }

    /// The roster in force: the configured one, followed along the roster changes in force.
    public var roster: Roster { chain.current }
    public private(set) var chain: RosterChain
    public let geometry: PacketGeometry
    /// Base URLs of the sources, tried in turn, and `dns:NAME` entries (see above).
    public var sources: [String]
    /// Sources found in DNS TXT records, by the last lookup.
    public private(set) var discovered: [String] = []
    /// Bootstrap URLs taken from one lookup, at most.
    public static let maximumDiscovered = 8
    /// DNS lookups after failed rounds come at most this often.
    public var lookupInterval: Duration = .seconds(30)
    public var retryInterval: Duration = .seconds(1)
    public var maximumRefresh: Duration = .seconds(30)
    /// A relay that has uploaded its descriptor fetches quickly until it sees itself listed.
    public var expectListed: ID?
    public private(set) var held: Held?

    private var inFlight: UInt64?
    /// The source of the fetch in flight.
    private var inFlightSource = ""
    private var nextFetch: UnixTime?
    /// The `dns:` lookup in flight (beside a fetch), the next one due, and which name is next.
    private var lookupInFlight: (id: UInt64, name: String)?
    private var nextLookup = UnixTime(nanoseconds: .min)
    private var lookupIndex = 0
    /// At start, and after a round in which every source failed.
    private var lookupWanted = true
    private var source = 0
    private var failuresThisRound = 0
    /// The next fetch asks for the whole directory, not a diff (a diff just failed).
    private var wantFull = false
    /// Relays of the directory held are asked too (see ``peerSources``): every configured
    /// source failed a round.
    private var askPeers = false
    /// Which window of ``maximumPeerSources`` relays the rounds that ask peers use.
    private var peerRound = 0
    /// The fetch in flight goes to a relay of the directory held.
    private var inFlightToPeer = false
    /// Relays asked first among the directory's when every configured source failed: a
    /// relay's linked peers (its engine sets them when a fetch is due).
    public var preferredPeers: Set<ID> = []
    /// Relays of the directory held asked in one round, at most.
    public static let maximumPeerSources = 8

    /// A directory signed by a later roster than the one in force, held while the roster
    /// changes that lead there are fetched from the source that served it.
    private var awaitingRoster: (document: SignedDocument, channel: Channel)?
    /// The source to fetch roster changes from (`GET /v1/ring/roster?since=`), and the fetch out.
    private var rosterSource: String?
    private var rosterInFlight: UInt64?

    public init(roster: Roster, sources: [String], geometry: PacketGeometry = .standard) {
        chain = RosterChain(genesis: roster)
        self.sources = sources
        self.geometry = geometry
    }

    /// The sources fetched from: configured URLs, then those DNS found, then — once every one
    /// of those failed a round — relays of the directory held (``peerSources``).
    var fetchable: [String] {
        var seen = Set<String>()
        let configured = (sources.filter { !$0.hasPrefix(Self.dnsPrefix) } + discovered).filter { seen.insert($0).inserted }
        guard askPeers else { return configured }
        return configured + peerSources.filter { seen.insert($0).inserted }
    }

    /// The configured and DNS-found sources (without relays of the directory held).
    private var configuredCount: Int {
        var seen = Set<String>()
        return (sources.filter { !$0.hasPrefix(Self.dnsPrefix) } + discovered).filter { seen.insert($0).inserted }.count
    }

    /// Base URLs of the held directory's relays asked in this round: ``preferredPeers`` first,
    /// then the others in the directory's order, never this relay (``expectListed``); a window
    /// of at most ``maximumPeerSources`` that moves on each round. Whatever they serve is
    /// verified against the trusted roster like any fetched directory.
    var peerSources: [String] {
        guard let held else { return [] }
        let others = held.descriptors.filter { $0.id != expectListed }
        let ordered = others.filter { preferredPeers.contains($0.id) } + others.filter { !preferredPeers.contains($0.id) }
        guard !ordered.isEmpty else { return [] }
        // Only URLs of strict syntax (``BootstrapURL``): a directory's `http` fields are the
        // relays' own words.
        let count = min(Self.maximumPeerSources, ordered.count)
        let start = (peerRound * count) % ordered.count
        var out: [String] = []
        for offset in 0..<ordered.count where out.count < count {
            let http = ordered[(start + offset) % ordered.count].http
            if (try? BootstrapURL(http)) != nil { out.append(http) }
        }
        return out
    }

    /// The `dns:` names among the sources.
    var lookupNames: [String] { sources.filter { $0.hasPrefix(Self.dnsPrefix) }.map { String($0.dropFirst(Self.dnsPrefix.count)) } }

    static let dnsPrefix = "dns:"

    /// When the next fetch or lookup is due (nil while none can be made).
    public var nextDeadline: UnixTime? {
        // Asked on every turn of the loop: no arrays made here.
        if rosterSource != nil, rosterInFlight == nil { return UnixTime(nanoseconds: .min) }
        let anyFetchable = !discovered.isEmpty || sources.contains { !$0.hasPrefix(Self.dnsPrefix) }
        let fetch = inFlight == nil && anyFetchable ? nextFetch ?? UnixTime(nanoseconds: .min) : nil
        let lookup = lookupWanted && lookupInFlight == nil && sources.contains(where: { $0.hasPrefix(Self.dnsPrefix) }) ? nextLookup : nil
        switch (fetch, lookup) {
        case let (f?, l?): return min(f, l)
        case let (f?, nil): return f
        case let (nil, l?): return l
        case (nil, nil): return nil
        }
    }

    /// The fetch (or `dns:` lookup) to make now, if one is due; `id` names it. Call again while
    /// ``nextDeadline`` has passed: a lookup and a fetch may be out at once.
    public mutating func fetchIfDue(now: UnixTime, id: UInt64) -> FetchRequest? {
        guard let due = nextDeadline, due <= now else { return nil }
        if let base = rosterSource, rosterInFlight == nil {
            rosterInFlight = id
            return FetchRequest(id: id, method: .get, url: Self.resourceURL(base, "/v1/ring/roster?since=\(roster.epoch)"))
        }
        let names = lookupNames
        if lookupWanted, lookupInFlight == nil, !names.isEmpty, nextLookup <= now {
            lookupWanted = false
            let name = names[lookupIndex % names.count]
            lookupIndex += 1
            lookupInFlight = (id, name)
            nextLookup = now.adding(lookupInterval)
            return FetchRequest(id: id, method: .get, url: Self.dnsPrefix + name)
        }
        let list = fetchable
        guard inFlight == nil, !list.isEmpty else { return nil }
        inFlight = id
        inFlightToPeer = source % list.count >= configuredCount
        inFlightSource = list[source % list.count]
        var headers: [String: String] = [:]
        var resource = "/v1/directory"
        if let held {
            headers["If-None-Match"] = held.etag
            // A diff from the directory held (docs/PROTOCOL.md §3.6), unless one just failed.
            if !wantFull { resource += "?since=\(held.directory.serial)" }
        }
        return FetchRequest(id: id, method: .get, url: Self.resourceURL(inFlightSource, resource), headers: headers)
    }

    /// The `Content-Type` of a diff answer to `GET /v1/directory?since=SERIAL` (a full
    /// directory comes as `application/json`).
    public static let diffContentType = "application/vnd.secirc.directory-diff+json"

    /// `resource` on the server `base` names, keeping the base's pin (after the path, where a
    /// fragment belongs).
    static func resourceURL(_ base: String, _ resource: String) -> String {
        if let url = try? BootstrapURL(base) { return url.pinnedURL(resource) }
        let trimmed = base.hasSuffix("/") ? String(base.dropLast()) : base
        return trimmed + resource
    }

    /// The channel a directory from `base` came by.
    func channel(of base: String) -> Channel {
        if inFlightToPeer { return .peer }
        if discovered.contains(base), !sources.contains(base) { return .dns }
        guard let url = try? BootstrapURL(base) else { return base.hasPrefix("https:") ? .https : .http }
        switch url.scheme {
        case .http: return .http
        case .https: return url.pin == nil ? .https : .httpsPinned
        }
    }

    /// Fetch again as soon as possible (e.g. a relay just uploaded its descriptor).
    public mutating func fetchSoon(now: UnixTime) {
        nextFetch = min(nextFetch ?? now, now)
    }

    /// Takes the answer to the fetch (or lookup) in flight. A lookup that found URLs is
    /// `.unchanged`; one that found none is refused (``Refusal/lookupFailed(name:reason:)``).
    public mutating func received(_ response: FetchResponse, now: UnixTime) -> Outcome {
        if let lookup = lookupInFlight, lookup.id == response.id {
            lookupInFlight = nil
            return looked(up: lookup.name, response, now: now)
        }
        if response.id == rosterInFlight { return followed(response, now: now) }
        guard response.id == inFlight else { return .notMine }
        inFlight = nil
        let base = inFlightSource
        let outcome: Outcome
        switch response.status {
        case 304?:
            outcome = held == nil ? .refused(.unreachable(status: 304)) : .unchanged
        case 200? where response.headers["content-type"] == Self.diffContentType:
            // A diff whose rebuilt directory is not accepted is tried again at once in full,
            // from the same source: the fault may be the diff's alone.
            let applied = installDiff(response.body, now: now, channel: channel(of: base), from: base)
            if case .refused = applied {
                wantFull = true
                nextFetch = now
                return applied
            }
            schedule(after: applied, now: now)
            return applied
        case 200?:
            wantFull = false
            do {
                let document = try SignedDocument.decode(json: response.body)
                outcome = try installFollowingRoster(document, now: now, channel: channel(of: base), from: base)
            } catch let refusal as Refusal {
                outcome = .refused(refusal)
            } catch {
                outcome = .refused(.invalid("\(error)"))
            }
        case nil:
            switch response.failure {
            case let failure?:
                if case .transport = failure {
                    outcome = .refused(.unreachable(status: nil))
                } else {
                    outcome = .refused(.untrustedServer(source: Self.withoutPin(base), failure))
                }
            case nil:
                outcome = .refused(.unreachable(status: nil))
            }
        default:
            outcome = .refused(.unreachable(status: response.status))
        }
        schedule(after: outcome, now: now)
        return outcome
    }

    /// ``install(_:now:channel:)``, and when the directory names a later roster than the one in
    /// force, the roster changes are fetched from `base` (the directory is held meanwhile when
    /// it could not be verified without them). Whatever a directory claims, a roster is followed
    /// only along changes each signed by the threshold of the roster before it.
    private mutating func installFollowingRoster(_ document: SignedDocument, now: UnixTime, channel: Channel, from base: String)
        throws(Refusal) -> Outcome {
        do {
            let installed = try install(document, now: now, channel: channel)
            if let held, held.document.bodyHash == document.bodyHash, held.directory.roster.epoch > roster.epoch { rosterSource = base }
            return installed ? .installed : .unchanged
        } catch {
            guard let claimed = try? Unverified<RelayDirectory>(document).claimedRosterEpoch, claimed > roster.epoch else { throw error }
            awaitingRoster = (document, channel)
            rosterSource = base
            return .unchanged
        }
    }

    /// The answer to a roster fetch: the changes that continue the chain are taken (each
    /// checked against the roster before it), then a directory held for them is installed.
    private mutating func followed(_ response: FetchResponse, now: UnixTime) -> Outcome {
        rosterInFlight = nil
        rosterSource = nil
        let waiting = awaitingRoster
        awaitingRoster = nil
        do {
            guard response.status == 200 else { throw DirectoryError.malformed("HTTP \(response.status.map(String.init) ?? "no answer")") }
            let answer = try RosterChainAnswer.decode(json: response.body)
            for change in answer.changes { try chain.append(change) }
        } catch {
            return .refused(.invalid("roster changes: \(error)"))
        }
        guard let waiting else { return .unchanged }
        do {
            return try install(waiting.document, now: now, channel: waiting.channel) ? .installed : .unchanged
        } catch {
            return .refused(error)
        }
    }

    /// Takes a roster change in force (from a member, or read back at start): true when it
    /// continued the chain. Throws when it does not continue it and is not held already.
    @discardableResult
    public mutating func adoptRosterChange(_ document: SignedDocument) throws -> Bool {
        try chain.append(document)
    }

    /// Verifies `document` against the trusted roster at `now` and holds it when it continues
    /// the chain of the one held (a higher serial whose `previous`/`earlier` names the held body's
    /// hash), or when that one has expired. Returns false when it is the one held.
    /// Throws a ``Refusal`` otherwise. (A first-ring relay installs what it signed this way.)
    @discardableResult
    public mutating func install(_ document: SignedDocument, now: UnixTime, channel: Channel = .local) throws(Refusal) -> Bool {
        if let held, held.document.bodyHash == document.bodyHash, held.directory.validUntil > now.seconds { return false }
        let directory: RelayDirectory
        let descriptors: [RelayDescriptor]
        do {
            // Descriptors that were in the directory held are not verified again.
            var known: [Bytes32: RelayDescriptor] = [:]
            if let held { for (signed, descriptor) in zip(held.directory.relays, held.descriptors) { known[signed.bodyHash] = descriptor } }
            (directory, descriptors) = try Unverified<RelayDirectory>(document)
                .verifiedWithDescriptors(trusting: roster, now: now.seconds, known: known)
        } catch {
            throw .invalid("\(error)")
        }
        guard directory.network.packetSize == geometry.datagramSize, directory.network.maxHops == geometry.maxHops else {
            throw .invalid("network geometry differs from this node's")
        }
        if let held, held.directory.validUntil > now.seconds {
            // The chain rule (docs/PROTOCOL.md §3.3): while the held directory is valid, a new one
            // must continue its chain; once it has expired, any valid directory is taken.
            if directory.serial <= held.directory.serial { throw .older(serial: directory.serial) }
            do {
                try directory.checkFollows(held.directory, document: held.document)
            } catch let DirectoryError.brokenChain(reason) {
                throw .brokenChain(serial: directory.serial, reason: reason)
            } catch {
                throw .brokenChain(serial: directory.serial, reason: "\(error)")
            }
        }
        held = Held(document: document, directory: directory, descriptors: descriptors, channel: channel, installedAt: now)
        return true
    }

    /// A diff answer: rebuilt on the directory held, then installed exactly like a full one
    /// (the same signatures over the rebuilt bytes, the same chain rule, the same following of
    /// roster changes).
    private mutating func installDiff(_ body: [UInt8], now: UnixTime, channel: Channel, from base: String) -> Outcome {
        guard let held else { return .refused(.invalid("diff: no directory held to apply it to")) }
        do {
            let document = try DirectoryDiff.decode(json: body).apply(to: held.document, held.directory)
            return try installFollowingRoster(document, now: now, channel: channel, from: base)
        } catch let refusal as Refusal {
            return .refused(refusal)
        } catch {
            return .refused(.invalid("diff: \(error)"))
        }
    }

    /// Installs a directory read back from the data directory at start, when its signatures
    /// verify against the trusted roster and it is still valid at `now` (channel `cache`).
    /// Throws a ``Refusal`` otherwise; the node then starts without one.
    public mutating func restore(cached document: SignedDocument, now: UnixTime) throws(Refusal) {
        try install(document, now: now, channel: .cache)
    }

    /// Whether the held directory is valid at `now`.
    public func isValid(at now: UnixTime) -> Bool {
        guard let held else { return false }
        return now.seconds >= held.directory.validAfter && now.seconds < held.directory.validUntil
    }

    private mutating func schedule(after outcome: Outcome, now: UnixTime) {
        switch outcome {
        case .installed, .unchanged:
            failuresThisRound = 0
            nextFetch = now.adding(refreshInterval(now: now))
            // A configured source answered: relays of the directory are not asked any more.
            // (One of them answered: it stays the source while it does.)
            if !inFlightToPeer { askPeers = false }
        case .refused:
            let count = fetchable.count
            failuresThisRound += 1
            source = (source + 1) % max(count, 1)
            // Another source at once, until each was tried this round; then a DNS lookup, if
            // one is configured and `lookupInterval` has passed since the last.
            nextFetch = failuresThisRound < count ? now : now.adding(retryInterval)
            if failuresThisRound >= count {
                failuresThisRound = 0
                lookupWanted = true
                if askPeers {
                    // The next round: the configured sources first, then the next relays.
                    peerRound += 1
                    source = 0
                } else if !peerSources.isEmpty {
                    // Every configured source failed: the held directory's relays, at once.
                    askPeers = true
                    source = configuredCount
                    nextFetch = now
                }
            }
        case .notMine:
            break
        }
    }

    /// A lookup's answer: its URLs replace those found before.
    private mutating func looked(up name: String, _ response: FetchResponse, now: UnixTime) -> Outcome {
        let found: [String]
        do {
            guard response.status == 200 else { throw DecodeError.invalidValue(response.failure.map { "\($0)" } ?? "no answer") }
            found = Self.bootstrapURLs(inTXT: try DNSTXTAnswer.decode(response.body))
        } catch {
            lookupWanted = true
            return .refused(.lookupFailed(name: name, reason: "\(error)"))
        }
        guard !found.isEmpty else {
            lookupWanted = true
            return .refused(.lookupFailed(name: name, reason: "no TXT record holds a bootstrap URL"))
        }
        if found != discovered {
            discovered = found
            source = 0
            failuresThisRound = 0
            // Something new to try: at once, unless a directory is held and fresh.
            if held == nil || !isValid(at: now) { nextFetch = now }
        }
        return .unchanged
    }

    /// The records that are bootstrap URLs of strict syntax, each once, at most
    /// ``maximumDiscovered``; other records (SPF, site verification) are skipped.
    static func bootstrapURLs(inTXT records: [String]) -> [String] {
        var seen = Set<String>()
        var out: [String] = []
        for record in records where out.count < maximumDiscovered {
            guard (try? BootstrapURL(record)) != nil, seen.insert(record).inserted else { continue }
            out.append(record)
        }
        return out
    }

    /// A source as logs show it: without its pin.
    static func withoutPin(_ base: String) -> String {
        base.split(separator: "#", maxSplits: 1).first.map(String.init) ?? base
    }

    private func refreshInterval(now: UnixTime) -> Duration {
        guard let held, isValid(at: now) else { return retryInterval }
        if let id = expectListed, held.byID[id] == nil { return retryInterval }
        let half = Duration.seconds(max(held.directory.validUntil - now.seconds, 0)) / 2
        return min(max(half, retryInterval), maximumRefresh)
    }
}
