public import SecIRCCore
import SecIRCCrypto

/// A member of a first ring of several (docs/PROTOCOL.md §3.4): each period is a round whose
/// serial is the period's number; the member votes at its start, computes and signs the
/// consensus at the vote deadline, and publishes the directory once `threshold` members signed
/// the same body. Votes and shares go to the other members over HTTP (`POST /v1/ring/votes`,
/// `POST /v1/ring/shares`), and every new one a member takes is forwarded to the others, so a
/// member that reached only some of them is still heard by all.
struct RingDuty: Sendable {
    var round: RingRound?
    /// When the current round's votes are counted (nil once done).
    var voteDeadline: UnixTime?
    var nextRound: UnixTime
    /// Votes for the next round that came early (a member whose clock runs ahead), one per member.
    var early: [SigningPublicKey: SignedDocument] = [:]
    var lastPublished: UInt64 = 0
    /// When this engine started: it takes part only in rounds that start at or after it, so a
    /// member restarted during a round never votes or signs a second time in that round.
    let startedAt: UnixTime
    var status = RingStatus()
}

/// What a ring member reports (`GET /v1/ring/status`, metrics).
public struct RingStatus: Sendable, Equatable {
    /// The round in progress (its serial), its votes held, and whether its votes were counted.
    public var round: UInt64 = 0
    public var votes = 0
    public var votingClosed = false
    /// The serial of the last directory this member published.
    public var lastPublished: UInt64 = 0
    public var roundsPublished = 0
    /// Rounds that gathered fewer than `threshold` votes or signatures on this member's body.
    public var roundsFailed = 0
    public var votesRefused = 0
    public var sharesRefused = 0
    /// Members whose share named another body, in all rounds.
    public var disagreements = 0
    public var equivocationCount = 0
    /// The latest proofs of equivocation (at most ``maximumProofs``), newest last.
    public var equivocations: [EquivocationProof] = []

    public static let maximumProofs = 16

    public init() {}
}

extension RelayEngine {
    /// The round that `now` falls in: its serial and when it starts.
    func ringRound(at now: UnixTime) -> (serial: UInt64, start: UnixTime) {
        let period = max(configuration.directoryPeriod.components.seconds, 1)
        let serial = UInt64(max(now.seconds, 0) / period)
        return (serial, UnixTime(seconds: Int64(serial) * period))
    }

    /// Votes are counted a quarter period after the round starts (at least 1 s).
    var ringVoteWindow: Duration { max(configuration.directoryPeriod / 4, .seconds(1)) }

    /// Starts rounds and counts votes as due.
    mutating func ringDuties(now: UnixTime, effects: inout NodeEffects<Event>) {
        guard ring != nil else { return }
        if let deadline = ring!.voteDeadline, now >= deadline { closeVoting(now: now, effects: &effects) }
        guard now >= ring!.nextRound else { return }
        let (serial, start) = ringRound(at: now)
        ring!.nextRound = start.adding(configuration.directoryPeriod)
        if let round = ring!.round, !round.votingClosed { closeVoting(now: now, effects: &effects) }
        if let round = ring!.round, round.published == nil, round.votingClosed, round.consensus != nil {
            ring!.status.roundsFailed += 1 // its consensus never gathered enough signatures
        }
        ring!.round = nil
        ring!.voteDeadline = nil
        // The round in progress at start is left out (this member may have voted and signed in
        // it before a restart), and so is one whose vote deadline passed.
        let previous = latestDirectory
        guard start >= ring!.startedAt, now < start.adding(ringVoteWindow), previous?.directory.serial ?? 0 < serial else { return }
        let validity = max(configuration.ringValidity, configuration.directoryPeriod * 3).components.seconds
        do {
            let listing = authority?.currentListing(now: now) ?? (relays: [], ratings: [])
            ring!.round = try RingRound(serial: serial, roster: roster, identity: configuration.identity,
                                        previous: previous,
                                        validAfter: start.seconds, validUntil: start.seconds + max(validity, 1),
                                        network: votedNetwork, relays: listing.relays, ratings: listing.ratings)
        } catch {
            return
        }
        ring!.voteDeadline = start.adding(ringVoteWindow)
        ring!.status.round = serial
        ring!.status.votingClosed = false
        postToMembers(ring!.round!.ownVote, path: "/v1/ring/votes", members: roster.members, except: [], effects: &effects)
        let early = ring!.early
        ring!.early = [:]
        for (_, vote) in early { _ = takeVote(vote, now: now, effects: &effects) }
        ring!.status.votes = ring!.round!.voteCount
    }

    /// The latest directory this member holds: published by the ring (here or fetched from
    /// another member) or restored; nil before the first.
    var latestDirectory: (document: SignedDocument, directory: RelayDirectory)? {
        var best = authority?.latest
        if let held = tracker.held, held.directory.serial > best?.directory.serial ?? 0 { best = (held.document, held.directory) }
        return best
    }

    /// A member's vote (`POST /v1/ring/votes`).
    mutating func takeVote(_ document: SignedDocument, now: UnixTime, effects: inout NodeEffects<Event>) -> Reply {
        guard ring != nil else { return .notRingMember }
        guard var round = ring!.round else {
            return holdEarly(document, now: now) ? .ring(.held) : refuseVote(.otherRound(0))
        }
        let outcome: RingRound.Outcome
        do {
            outcome = try round.receiveVote(document)
        } catch {
            if case let .otherRound(serial) = error, serial == round.serial + 1, holdEarly(document, now: now) { return .ring(.held) }
            return refuseVote(error)
        }
        ring!.round = round
        ring!.status.votes = round.voteCount
        switch outcome {
        case .counted:
            postToMembers(document, path: "/v1/ring/votes", members: round.roster.members, except: Set(document.signatures.map(\.key)),
                          effects: &effects)
        case .equivocation:
            noteEquivocations(effects: &effects)
        case .duplicate, .disagrees, .held:
            break
        }
        return .ring(outcome)
    }

    /// A member's signature share (`POST /v1/ring/shares`).
    mutating func takeShare(_ document: SignedDocument, now: UnixTime, effects: inout NodeEffects<Event>) -> Reply {
        guard ring != nil else { return .notRingMember }
        guard var round = ring!.round else { ring!.status.sharesRefused += 1; return .ringRefused(.otherRound(0)) }
        let outcome: RingRound.Outcome
        do { outcome = try round.receiveShare(document) } catch {
            ring!.status.sharesRefused += 1
            return .ringRefused(error)
        }
        ring!.round = round
        switch outcome {
        case .counted, .held, .disagrees:
            if outcome == .disagrees { ring!.status.disagreements += 1 }
            postToMembers(document, path: "/v1/ring/shares", members: round.roster.members,
                          except: Set(document.signatures.map(\.key)), effects: &effects)
            publishIfSigned(now: now, effects: &effects)
        case .equivocation:
            noteEquivocations(effects: &effects)
        case .duplicate:
            break
        }
        return .ring(outcome)
    }

    private mutating func closeVoting(now: UnixTime, effects: inout NodeEffects<Event>) {
        ring!.voteDeadline = nil
        guard var round = ring!.round else { return }
        let share = round.closeVoting()
        ring!.round = round
        ring!.status.votingClosed = true
        guard let share else {
            ring!.status.roundsFailed += 1 // fewer than `threshold` votes: no directory this round
            return
        }
        postToMembers(share, path: "/v1/ring/shares", members: round.roster.members, except: [], effects: &effects)
        publishIfSigned(now: now, effects: &effects)
    }

    private mutating func publishIfSigned(now: UnixTime, effects: inout NodeEffects<Event>) {
        guard let round = ring!.round, let document = round.published, let consensus = round.consensus,
              round.serial > ring!.lastPublished
        else { return }
        ring!.lastPublished = round.serial
        ring!.status.lastPublished = round.serial
        ring!.status.roundsPublished += 1
        authority?.adopt(document, consensus.directory)
        effects.events.append(.saveDirectory(document))
        do {
            if try tracker.install(document, now: now) { directoryInstalled(now: now, effects: &effects) }
        } catch {
            effects.events.append(.directoryRefused(error))
        }
    }

    private mutating func holdEarly(_ document: SignedDocument, now: UnixTime) -> Bool {
        guard let vote = try? Unverified<DirectoryVote>(document).verified(roster: roster).vote,
              vote.serial == ringRound(at: now).serial + 1
        else { return false }
        if let held = ring!.early[vote.voter], held.body != document.body { return false }
        ring!.early[vote.voter] = document
        return true
    }

    private mutating func refuseVote(_ refusal: RingRound.Refusal) -> Reply {
        ring!.status.votesRefused += 1
        return .ringRefused(refusal)
    }

    private mutating func noteEquivocations(effects: inout NodeEffects<Event>) {
        guard let round = ring!.round else { return }
        for proof in round.equivocations where !ring!.status.equivocations.contains(proof) {
            ring!.status.equivocationCount += 1
            ring!.status.equivocations.append(proof)
            if ring!.status.equivocations.count > RingStatus.maximumProofs { ring!.status.equivocations.removeFirst() }
            effects.events.append(.equivocation(proof))
        }
    }

    /// Sends `document` to each of `members` but this relay and `except` (POST `path`).
    mutating func postToMembers(_ document: SignedDocument, path: String, members: [Roster.Member], except: Set<SigningPublicKey>,
                                effects: inout NodeEffects<Event>) {
        let body = document.jsonBytes()
        for member in members where member.identityKey != configuration.identity.publicKey && !except.contains(member.identityKey) {
            // A member's URL may pin its HTTPS key (`#spki=`): kept after the path.
            let request = FetchRequest(id: nextFetchID, method: .post, url: DirectoryTracker.resourceURL(member.http, path),
                                       headers: ["Content-Type": "application/json"], body: body)
            nextFetchID += 1
            ringPosts.insert(request.id)
            effects.fetches.append(request)
        }
    }

    /// An answer to one of our posts (nothing to do: a member that did not take it hears it
    /// from another, or misses the round).
    mutating func ringPostAnswered(_ id: UInt64) -> Bool {
        ringPosts.remove(id) != nil
    }
}

extension RelayEngine {
    /// The HTTP status a ring route answers with (openapi/relay.yaml): 202 for a vote, share or
    /// proposal taken (new, held, duplicate, or kept as a proof), 409 for one of another round or
    /// predecessor, a late vote, a relay that is no ring member, or a proposal this member may
    /// not sign (it signed a rival one) or cannot hold; 404 for an unknown proposal; 422 for an
    /// invalid document; 201 for a proposal this member signed.
    public static func httpStatus(of reply: Reply) -> Int {
        switch reply {
        case .ring: 202
        case let .ringRefused(refusal):
            switch refusal {
            case .invalid: 422
            case .otherRound, .otherPredecessor, .late: 409
            }
        case .notRingMember, .notFirstRing: 409
        case .refused: 422
        case .done, .accepted, .proposalTaken, .admission: 202
        case .proposal: 201
        case let .proposalRefused(refusal):
            switch refusal {
            case .invalid: 422
            case .unknown: 404
            case .alreadySigned, .notMember, .full: 409
            }
        case .admissionListFull: 409
        }
    }
}
