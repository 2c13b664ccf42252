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
public struct DirectoryTracker: Sendable {
    /// The directory in use, with its signed envelope and verified descriptors.
    public struct Held: Sendable {
        public let document: SignedDocument
        public let directory: RelayDirectory
        public let descriptors: [RelayDescriptor]
        /// The descriptors by relay ID.
        public let byID: [ID: RelayDescriptor]
        /// `"<hex of the body hash>"`, as relays serve it.
        public let etag: String

        init(document: SignedDocument, directory: RelayDirectory, descriptors: [RelayDescriptor]) {
            self.document = document
            self.directory = directory
            self.descriptors = descriptors
            byID = Dictionary(descriptors.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
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

        public var description: String {
            switch self {
            case let .unreachable(status): status.map { "HTTP \($0)" } ?? "no answer"
            case let .invalid(reason): reason
            case let .older(serial): "serial \(serial) is older than the directory held"
            case let .brokenChain(serial, reason): "serial \(serial) does not continue the chain held: \(reason)"
            }
        }
    }

    public let roster: Roster
    public let geometry: PacketGeometry
    /// Base URLs of the sources, tried in turn.
    public var sources: [String]
    public var retryInterval: Duration = .seconds(1)
    public var maximumRefresh: Duration = .seconds(30)
    /// A relay that has uploaded its descriptor fetches quickly until it sees itself listed.
    public var expectListed: ID?
    public private(set) var held: Held?

    private var inFlight: UInt64?
    private var nextFetch: UnixTime?
    private var source = 0
    private var failuresThisRound = 0

    public init(roster: Roster, sources: [String], geometry: PacketGeometry = .standard) {
        self.roster = roster
        self.sources = sources
        self.geometry = geometry
    }

    /// When the next fetch is due (nil while one is in flight or there is no source).
    public var nextDeadline: UnixTime? {
        guard inFlight == nil, !sources.isEmpty else { return nil }
        return nextFetch ?? UnixTime(nanoseconds: .min)
    }

    /// The fetch to make now, if one is due; `id` names it.
    public mutating func fetchIfDue(now: UnixTime, id: UInt64) -> FetchRequest? {
        guard let due = nextDeadline, due <= now else { return nil }
        inFlight = id
        var headers: [String: String] = [:]
        if let held { headers["If-None-Match"] = held.etag }
        let base = sources[source % sources.count]
        let trimmed = base.hasSuffix("/") ? String(base.dropLast()) : base
        return FetchRequest(id: id, method: .get, url: trimmed + "/v1/directory", headers: headers)
    }

    /// Fetch again as soon as possible (e.g. a relay just uploaded its descriptor).
    public mutating func fetchSoon(now: UnixTime) {
        nextFetch = min(nextFetch ?? now, now)
    }

    /// Takes the answer to the fetch in flight.
    public mutating func received(_ response: FetchResponse, now: UnixTime) -> Outcome {
        guard response.id == inFlight else { return .notMine }
        inFlight = nil
        let outcome: Outcome
        switch response.status {
        case 304?:
            outcome = held == nil ? .refused(.unreachable(status: 304)) : .unchanged
        case 200?:
            do {
                let document = try SignedDocument.decode(json: response.body)
                outcome = try install(document, now: now) ? .installed : .unchanged
            } catch let refusal as Refusal {
                outcome = .refused(refusal)
            } catch {
                outcome = .refused(.invalid("\(error)"))
            }
        default:
            outcome = .refused(.unreachable(status: response.status))
        }
        schedule(after: outcome, now: now)
        return outcome
    }

    /// Verifies `document` against the trusted roster at `now` and holds it when it continues
    /// the chain of the one held (a higher serial whose `previous`/`earlier` names the held body's
    /// hash), or when that one has expired. Returns false when it is the one held.
    /// Throws a ``Refusal`` otherwise. (A first-ring relay installs what it signed this way.)
    @discardableResult
    public mutating func install(_ document: SignedDocument, now: UnixTime) throws(Refusal) -> Bool {
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
        held = Held(document: document, directory: directory, descriptors: descriptors)
        return true
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
        case .refused:
            failuresThisRound += 1
            source = (source + 1) % max(sources.count, 1)
            // Another source at once, until each was tried this round.
            nextFetch = failuresThisRound < sources.count ? now : now.adding(retryInterval)
            if failuresThisRound >= sources.count { failuresThisRound = 0 }
        case .notMine:
            break
        }
    }

    private func refreshInterval(now: UnixTime) -> Duration {
        guard let held, isValid(at: now) else { return retryInterval }
        if let id = expectListed, held.byID[id] == nil { return retryInterval }
        let half = Duration.seconds(max(held.directory.validUntil - now.seconds, 0)) / 2
        return min(max(half, retryInterval), maximumRefresh)
    }
}
