public import SecIRCCore
public import SecIRCCrypto

/// What an operator asks a first-ring member to propose (`POST /v1/admin/ring/proposals`):
/// members to add and remove, the new threshold, network parameters.
public struct RosterChangeRequest: Sendable, Equatable {
    public var add: [Roster.Member]
    public var remove: [ID]
    /// Absent: a majority of the new roster when members change, else the threshold in force.
    public var threshold: Int?
    public var network: GovernedParameters?
    public var note: String?

    public init(add: [Roster.Member] = [], remove: [ID] = [], threshold: Int? = nil, network: GovernedParameters? = nil,
                note: String? = nil) {
        self.add = add
        self.remove = remove
        self.threshold = threshold
        self.network = network
        self.note = note
    }

    /// The change that carries this request out on `roster`.
    func change(continuing roster: Roster, now: UnixTime) throws(RosterProposals.Refusal) -> RosterChange {
        var members = roster.members
        for id in remove {
            guard members.contains(where: { $0.id == id }) else { throw .invalid("relay \(id.hex.prefix(16)) is not a member") }
            members.removeAll { $0.id == id }
        }
        for member in add {
            guard !members.contains(where: { $0.identityKey == member.identityKey }) else {
                throw .invalid("relay \(member.id.hex.prefix(16)) is a member already")
            }
            members.append(member)
        }
        let changesMembers = !add.isEmpty || !remove.isEmpty
        do {
            return try RosterChange.following(roster, members: members,
                                              threshold: threshold ?? (changesMembers ? nil : roster.threshold),
                                              network: network, proposedAt: now.seconds, note: note)
        } catch {
            throw .invalid("\(error)")
        }
    }
}

/// What a relay keeps of governance across restarts: the roster changes in force, and what it
/// signed for which epoch (so that it never signs a rival change for that epoch).
public struct GovernanceState: Codable, Sendable, Equatable {
    public var changes: [SignedDocument]
    public var signedEpoch: UInt64?
    public var signedID: Bytes32?

    public init(changes: [SignedDocument] = [], signedEpoch: UInt64? = nil, signedID: Bytes32? = nil) {
        self.changes = changes
        self.signedEpoch = signedEpoch
        self.signedID = signedID
    }

    enum CodingKeys: String, CodingKey {
        case changes
        case signedEpoch = "signed_epoch"
        case signedID = "signed_id"
    }
}

/// What `GET /v1/admin/ring/proposals` reports.
public struct GovernanceStatus: Sendable, Equatable {
    public var roster: Roster
    public var network: GovernedParameters?
    public var member: Bool
    public var proposals: [RosterProposals.Pending]
    public var signed: (epoch: UInt64, id: Bytes32)?

    public static func == (a: Self, b: Self) -> Bool {
        a.roster == b.roster && a.network == b.network && a.member == b.member && a.proposals == b.proposals
            && a.signed?.epoch == b.signed?.epoch && a.signed?.id == b.signed?.id
    }
}

extension RelayEngine {
    /// The roster in force (the configured one, followed along the changes in force).
    public var roster: Roster { tracker.roster }
    /// The configured roster and the changes in force since.
    public var rosterChain: RosterChain { tracker.chain }

    /// The network parameters this relay votes for: its configuration's, with those the roster
    /// changes in force set.
    var votedNetwork: NetworkParameters { tracker.chain.network?.applied(to: configuration.network) ?? configuration.network }

    public var governanceStatus: GovernanceStatus {
        GovernanceStatus(roster: roster, network: tracker.chain.network, member: roster.keys.contains(configuration.identity.publicKey),
                         proposals: proposals.pending.values.sorted { $0.change.proposedAt < $1.change.proposedAt },
                         signed: proposals.signed)
    }

    var governanceState: GovernanceState {
        GovernanceState(changes: tracker.chain.changes, signedEpoch: proposals.signed?.epoch, signedID: proposals.signed?.id)
    }

    /// An operator's proposal: signed by this member and sent to the others.
    mutating func proposeRosterChange(_ request: RosterChangeRequest, now: UnixTime, effects: inout NodeEffects<Event>) -> Reply {
        do {
            let change = try request.change(continuing: roster, now: now)
            let (document, outcome) = try proposals.propose(change, roster: roster, identity: configuration.identity)
            effects.events.append(.saveGovernance(governanceState))
            return proposalSigned(document, outcome: outcome, now: now, effects: &effects)
        } catch {
            return .proposalRefused(error)
        }
    }

    /// An operator's approval of a proposal held.
    mutating func approveRosterChange(_ id: Bytes32, now: UnixTime, effects: inout NodeEffects<Event>) -> Reply {
        do {
            let (document, outcome) = try proposals.approve(id, roster: roster, identity: configuration.identity)
            effects.events.append(.saveGovernance(governanceState))
            return proposalSigned(document, outcome: outcome, now: now, effects: &effects)
        } catch {
            return .proposalRefused(error)
        }
    }

    private mutating func proposalSigned(_ document: SignedDocument, outcome: RosterProposals.Outcome, now: UnixTime,
                                         effects: inout NodeEffects<Event>) -> Reply {
        let pending = proposals.pending[document.bodyHash]
        if case let .inForce(change) = outcome {
            enact(change, now: now, effects: &effects)
            return .proposal(pending, inForce: true)
        }
        postToMembers(document, path: "/v1/ring/proposals", members: roster.members, except: [], effects: &effects)
        return .proposal(pending, inForce: false)
    }

    /// A proposal or a change in force from another relay (`POST /v1/ring/proposals`). A member
    /// merges its signatures and forwards it when it brought new ones; any relay takes a change
    /// in force (so a member it adds learns at once).
    mutating func takeProposal(_ document: SignedDocument, now: UnixTime, effects: inout NodeEffects<Event>) -> Reply {
        // A change in force already (held, or one this relay has not taken yet).
        if let epoch = try? Unverified<RosterChange>(document).claimedEpoch, epoch <= roster.epoch {
            do {
                _ = try tracker.adoptRosterChange(document)
                return .proposalTaken(.duplicate)
            } catch {
                own.proposalsRefused += 1
                return .proposalRefused(.invalid("\(error)"))
            }
        }
        guard roster.keys.contains(configuration.identity.publicKey) else {
            do {
                guard try tracker.adoptRosterChange(document) else { return .proposalTaken(.duplicate) }
            } catch {
                own.proposalsRefused += 1
                return .proposalRefused(.notMember) // only members gather proposals; this is not in force
            }
            rosterFollowed(now: now, effects: &effects)
            return .proposalTaken(.inForce(document))
        }
        do {
            let outcome = try proposals.receive(document, roster: roster)
            switch outcome {
            case .counted:
                let signers = Set(proposals.pending[document.bodyHash]?.signers ?? [])
                postToMembers(proposals.pending[document.bodyHash]?.document ?? document, path: "/v1/ring/proposals",
                              members: roster.members, except: signers, effects: &effects)
            case let .inForce(change):
                enact(change, now: now, effects: &effects)
            case .duplicate:
                break
            }
            return .proposalTaken(outcome)
        } catch {
            own.proposalsRefused += 1
            return .proposalRefused(error)
        }
    }

    /// A change reached the threshold here: it is in force. Every member of the roster before
    /// and after it hears it (each takes it once, so this ends).
    private mutating func enact(_ change: SignedDocument, now: UnixTime, effects: inout NodeEffects<Event>) {
        let before = roster.members
        guard (try? tracker.adoptRosterChange(change)) == true else { return }
        var seen = Set<SigningPublicKey>()
        let everyone = (before + roster.members).filter { seen.insert($0.identityKey).inserted }
        postToMembers(change, path: "/v1/ring/proposals", members: everyone, except: [], effects: &effects)
        rosterFollowed(now: now, effects: &effects)
    }

    /// The roster in force changed (a change enacted here, taken from a member, or followed
    /// with a directory): this relay's part in the ring follows it — a member added starts
    /// voting from the next round, a member removed stops — and its sources and uploads go to
    /// the new members.
    mutating func rosterFollowed(now: UnixTime, effects: inout NodeEffects<Event>) {
        let roster = self.roster
        guard roster != rosterInUse else { return }
        rosterInUse = roster
        proposals.rosterChanged(to: roster)
        let me = configuration.identity.publicKey
        let member = roster.keys.contains(me)
        if member {
            if authority == nil {
                authority = DirectoryAuthority(identity: configuration.identity, roster: roster, network: votedNetwork,
                                               period: configuration.directoryPeriod)
                authority!.policy = configuration.admission
                authority!.restore(lists: configuration.admissionLists)
                if let latest = latestDirectory { authority!.adopt(latest.document, latest.directory) }
            }
            authority!.follow(roster: roster, network: votedNetwork)
        } else {
            authority = nil
        }
        if member, roster.members.count > 1 {
            if ring == nil { ring = RingDuty(nextRound: now, startedAt: now) } // from the next round
        } else {
            ring = nil
            if member { nextSigning = now }
        }
        tracker.sources = Self.directorySources(configuration: configuration, roster: roster)
        nextDescriptorRefresh = now // its flags follow (`first_ring`)
        uploadedVersion = -1 // and the new members get it
        effects.events.append(.saveGovernance(governanceState))
        effects.events.append(.rosterChanged(roster))
    }

    /// Where to fetch the directory: the other members when this relay is one (a directory it
    /// missed still reaches it), none when it is the ring alone, else the configured URLs or
    /// the roster's.
    static func directorySources(configuration: Configuration, roster: Roster) -> [String] {
        let me = configuration.identity.publicKey
        guard roster.keys.contains(me) else {
            return configuration.bootstrapURLs.isEmpty ? roster.members.map(\.http) : configuration.bootstrapURLs
        }
        return roster.members.filter { $0.identityKey != me }.map(\.http)
    }
}
