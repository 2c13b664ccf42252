import SecIRCCore
import SecIRCCrypto
@testable import SecIRCNode
import Testing

/// Governance (docs/PROTOCOL.md §3.5): proposals gathering members' signatures until the
/// threshold of the roster in force, one signature per member and epoch, and the tracker of a
/// relay or client following a roster change it learns of from a directory.
@Suite struct GovernanceTests {
    struct Ring {
        var keys: [SigningPrivateKey]
        var genesis: Roster
        let now = UnixTime(seconds: 1_800_000_000)

        init() {
            var rng = SeededRandom(seed: "governance")
            keys = (0..<5).map { _ in SigningPrivateKey(using: &rng) }
            let keys = keys
            genesis = Roster(members: (0..<3).map {
                Roster.Member(identityKey: keys[$0].publicKey, udp: "127.0.0.1:\(7000 + $0)", http: "http://127.0.0.1:\(8000 + $0)")
            })
        }

        func member(_ i: Int) -> Roster.Member {
            Roster.Member(identityKey: keys[i].publicKey, udp: "127.0.0.1:\(7000 + i)", http: "http://127.0.0.1:\(8000 + i)")
        }

        func adding(_ i: Int, to roster: Roster) throws -> RosterChange {
            try RosterChange.following(roster, members: roster.members + [member(i)], threshold: nil, network: nil,
                                       proposedAt: now.seconds, note: "add \(i)")
        }

        /// Members 0 and 1 hand over to 2, 3 and 4: the change (signed by 0 and 1) and a directory
        /// of the new roster signed by 3 and 4 — which the first roster alone cannot verify.
        func handover() throws -> (next: RosterChange, change: SignedDocument, directory: SignedDocument) {
            let next = try RosterChange.following(genesis, members: [2, 3, 4].map { member($0) }, threshold: nil,
                                                  network: nil, proposedAt: 0, note: nil)
            var change = next.unsignedDocument()
            change.sign(with: keys[0])
            change.sign(with: keys[1])
            return (next, change, directory(serial: 5, roster: next.roster, signers: [3, 4]))
        }

        /// A directory with `serial`, naming `roster`, signed by the keys at `signers`.
        func directory(serial: UInt64, roster: Roster, signers: [Int]) -> SignedDocument {
            let directory = RelayDirectory(serial: serial, previous: .zero, validAfter: now.seconds - 10, validUntil: now.seconds + 3_600,
                                           network: NetworkParameters(coverRate: 1, meanDelayMs: 50), roster: roster, relays: [])
            var document = directory.unsignedDocument()
            for i in signers { document.sign(with: keys[i]) }
            return document
        }
    }

    @Test func aProposalComesIntoForceWhenTheThresholdOfMembersSignedIt() throws {
        let ring = Ring()
        var zero = RosterProposals(), one = RosterProposals()
        let (proposed, first) = try zero.propose(try ring.adding(3, to: ring.genesis), roster: ring.genesis, identity: ring.keys[0])
        #expect(first == .counted && zero.signed?.epoch == 1)
        // Member 1 takes it (as `POST /v1/ring/proposals` would), then its operator approves.
        #expect(try one.receive(proposed, roster: ring.genesis) == .counted)
        #expect(try one.receive(proposed, roster: ring.genesis) == .duplicate)
        let (approved, outcome) = try one.approve(proposed.bodyHash, roster: ring.genesis, identity: ring.keys[1])
        #expect(outcome == .inForce(approved))
        #expect(approved.validSigners(among: ring.genesis.keys).count == 2)
        // Member 0 hears the approval: in force there too.
        #expect(try zero.receive(approved, roster: ring.genesis) == .inForce(approved))
        var chain = RosterChain(genesis: ring.genesis)
        #expect(try chain.append(approved))
        zero.rosterChanged(to: chain.current)
        #expect(zero.pending.isEmpty)
    }

    @Test func aMemberSignsOneProposalPerEpochEvenAfterARestart() throws {
        let ring = Ring()
        var zero = RosterProposals(), one = RosterProposals()
        let (three, _) = try zero.propose(try ring.adding(3, to: ring.genesis), roster: ring.genesis, identity: ring.keys[0])
        let (four, _) = try one.propose(try ring.adding(4, to: ring.genesis), roster: ring.genesis, identity: ring.keys[1])
        _ = try zero.receive(four, roster: ring.genesis)
        #expect(throws: RosterProposals.Refusal.alreadySigned(epoch: 1, id: three.bodyHash)) {
            try zero.approve(four.bodyHash, roster: ring.genesis, identity: ring.keys[0])
        }
        // What a relay saved (`GovernanceState`) keeps the rule across a restart.
        var restarted = RosterProposals(signed: zero.signed)
        _ = try restarted.receive(four, roster: ring.genesis)
        #expect(throws: RosterProposals.Refusal.alreadySigned(epoch: 1, id: three.bodyHash)) {
            try restarted.approve(four.bodyHash, roster: ring.genesis, identity: ring.keys[0])
        }
        #expect(throws: RosterProposals.Refusal.alreadySigned(epoch: 1, id: three.bodyHash)) {
            try restarted.propose(try ring.adding(4, to: ring.genesis), roster: ring.genesis, identity: ring.keys[0])
        }
        // Approving its own proposal again is harmless: the same one signature.
        _ = try restarted.receive(three, roster: ring.genesis)
        let again = try restarted.approve(three.bodyHash, roster: ring.genesis, identity: ring.keys[0])
        #expect(again.outcome == .duplicate && again.document.signatures.count == 1)
    }

    @Test func badProposalsFromTheNetworkAreRefusedAndBounded() throws {
        let ring = Ring()
        var proposals = RosterProposals()
        // Signed by no member.
        var outsider = try ring.adding(3, to: ring.genesis).unsignedDocument()
        outsider.sign(with: ring.keys[4])
        #expect(throws: RosterProposals.Refusal.self) { try proposals.receive(outsider, roster: ring.genesis) }
        // Not a roster change.
        let junk = SignedDocument(type: RosterChange.documentType, body: Array("{}".utf8), signatures: [])
        #expect(throws: RosterProposals.Refusal.self) { try proposals.receive(junk, roster: ring.genesis) }
        // A non-member cannot propose or approve.
        #expect(throws: RosterProposals.Refusal.notMember) {
            try proposals.propose(try ring.adding(3, to: ring.genesis), roster: ring.genesis, identity: ring.keys[4])
        }
        #expect(throws: RosterProposals.Refusal.unknown) { try proposals.approve(.zero, roster: ring.genesis, identity: ring.keys[0]) }
        // A member's signature among junk ones: only the valid member signature is kept.
        var mixed = try ring.adding(3, to: ring.genesis).unsignedDocument()
        mixed.sign(with: ring.keys[4])
        mixed.sign(with: ring.keys[2])
        mixed.signatures.append(SignedDocument.Entry(key: ring.keys[1].publicKey, sig: mixed.signatures[0].sig))
        #expect(try proposals.receive(mixed, roster: ring.genesis) == .counted)
        #expect(proposals.pending[mixed.bodyHash]?.document.signatures.map(\.key) == [ring.keys[2].publicKey])
        // At most `maximumPending` wait.
        for i in 0..<(RosterProposals.maximumPending + 2) {
            var change = try ring.adding(3, to: ring.genesis)
            change.note = "number \(i)"
            var document = change.unsignedDocument()
            document.sign(with: ring.keys[2])
            if proposals.pending.count >= RosterProposals.maximumPending {
                #expect(throws: RosterProposals.Refusal.full) { try proposals.receive(document, roster: ring.genesis) }
            } else {
                _ = try proposals.receive(document, roster: ring.genesis)
            }
        }
        #expect(proposals.pending.count == RosterProposals.maximumPending)
    }

    /// A client or relay configured with the first roster fetches a directory signed by the
    /// roster after a change that no member of its roster signed: it fetches the change from the
    /// same source, checks it against the roster it trusts, and installs the directory.
    @Test func theTrackerFollowsARosterChangeItLearnsOfFromADirectory() throws {
        let ring = Ring()
        let (next, change, directory) = try ring.handover()
        var tracker = DirectoryTracker(roster: ring.genesis, sources: ["http://127.0.0.1:8000/"])
        let fetchMade = tracker.fetchIfDue(now: ring.now, id: 1)
        _ = try #require(fetchMade)
        #expect(tracker.received(FetchResponse(id: 1, status: 200, body: directory.jsonBytes()), now: ring.now) == .unchanged)
        #expect(tracker.held == nil)
        let followMade = tracker.fetchIfDue(now: ring.now, id: 2)
        let follow = try #require(followMade)
        #expect(follow.url == "http://127.0.0.1:8000/v1/ring/roster?since=0")
        let answer = RosterChainAnswer(epoch: 1, roster: next.roster, changes: [change])
        #expect(tracker.received(FetchResponse(id: 2, status: 200, body: answer.jsonBytes()), now: ring.now) == .installed)
        #expect(tracker.roster == next.roster && tracker.held?.directory.serial == 5)
    }

    /// When the members who signed a directory of the new roster are enough for the old one
    /// too, the directory is installed at once, and the roster change is fetched after it.
    @Test func aDirectoryOfALaterRosterThatVerifiesStillLeadsToTheChange() throws {
        let ring = Ring()
        var change = try ring.adding(3, to: ring.genesis).unsignedDocument()
        change.sign(with: ring.keys[0])
        change.sign(with: ring.keys[2])
        var chain = RosterChain(genesis: ring.genesis)
        try chain.append(change)
        let directory = ring.directory(serial: 5, roster: chain.current, signers: [1, 2, 3])
        var tracker = DirectoryTracker(roster: ring.genesis, sources: ["http://127.0.0.1:8000"])
        let fetchMade = tracker.fetchIfDue(now: ring.now, id: 1)
        _ = try #require(fetchMade)
        #expect(tracker.received(FetchResponse(id: 1, status: 200, body: directory.jsonBytes()), now: ring.now) == .installed)
        let followMade = tracker.fetchIfDue(now: ring.now, id: 2)
        #expect(try #require(followMade).url == "http://127.0.0.1:8000/v1/ring/roster?since=0")
        let answer = RosterChainAnswer(epoch: 1, roster: chain.current, changes: [change])
        #expect(tracker.received(FetchResponse(id: 2, status: 200, body: answer.jsonBytes()), now: ring.now) == .unchanged)
        #expect(tracker.roster == chain.current)
    }

    @Test func aForgedRosterChangeFromASourceIsRefusedAndTheRosterStays() throws {
        let ring = Ring()
        // A mirror claims a ring of its own making: one real member's signature, and its own.
        var forged = try ring.adding(4, to: ring.genesis).unsignedDocument()
        forged.sign(with: ring.keys[0])
        forged.sign(with: ring.keys[4])
        var claimed = ring.genesis
        claimed.members.append(ring.member(4))
        claimed.threshold = 3
        claimed.epoch = 1
        let directory = ring.directory(serial: 9, roster: claimed, signers: [0, 4])
        var tracker = DirectoryTracker(roster: ring.genesis, sources: ["http://127.0.0.1:8000"])
        let requestMade = tracker.fetchIfDue(now: ring.now, id: 1)
        _ = try #require(requestMade)
        #expect(tracker.received(FetchResponse(id: 1, status: 200, body: directory.jsonBytes()), now: ring.now) == .unchanged)
        let secondMade = tracker.fetchIfDue(now: ring.now, id: 2)
        _ = try #require(secondMade)
        let answer = RosterChainAnswer(epoch: 1, roster: claimed, changes: [forged])
        let outcome = tracker.received(FetchResponse(id: 2, status: 200, body: answer.jsonBytes()), now: ring.now)
        guard case let .refused(.invalid(reason)) = outcome else { Issue.record("\(outcome)"); return }
        #expect(reason.contains("roster changes"))
        #expect(tracker.roster == ring.genesis && tracker.held == nil)
        // Junk, truncated and failed answers: refused the same way.
        var now = ring.now
        var id: UInt64 = 3
        for (status, body): (Int?, [UInt8]) in [(200, []), (200, Array("{\"epoch\":1".utf8)), (200, Array(repeating: 0x41, count: 100)),
                                                (404, []), (nil, [])] {
            now = now.adding(.seconds(2))
            let fetchMade = tracker.fetchIfDue(now: now, id: id)
            let fetch = try #require(fetchMade)
            #expect(fetch.url.hasSuffix("/v1/directory"))
            #expect(tracker.received(FetchResponse(id: id, status: 200, body: directory.jsonBytes()), now: now) == .unchanged)
            let followMade = tracker.fetchIfDue(now: now, id: id + 1)
            let follow = try #require(followMade)
            #expect(follow.url.contains("/v1/ring/roster?since=0"))
            guard case .refused = tracker.received(FetchResponse(id: id + 1, status: status, body: body), now: now) else {
                Issue.record("answer \(String(describing: status)) \(body.count) bytes was not refused")
                return
            }
            id += 2
        }
        #expect(tracker.roster == ring.genesis)
    }

    /// A member restarted after a roster change: it starts in the roster it saved, and the last
    /// directory it published, signed by the roster of its time, continues the chain.
    @Test func aMemberRestartedAfterARosterChangeKeepsTheRosterAndItsChain() throws {
        let ring = Ring()
        var change = try ring.adding(3, to: ring.genesis).unsignedDocument()
        change.sign(with: ring.keys[0])
        change.sign(with: ring.keys[1])
        let old = ring.directory(serial: 5, roster: ring.genesis, signers: [0, 1])
        var rng = SeededRandom(seed: "restart")
        let configuration = RelayEngine.Configuration(
            identity: ring.keys[0], linkKey: AgreementPrivateKey(using: &rng), roster: ring.genesis,
            network: NetworkParameters(coverRate: 2, meanDelayMs: 50), directoryPeriod: .seconds(10),
            advertisedUDP: "127.0.0.1:7000", advertisedHTTP: "http://127.0.0.1:8000",
            mailbox: MailboxStore.Limits(ttl: .seconds(60), maxMessagesPerQueue: 10, maxMailboxes: 10, maxTotalBytes: 1 << 20),
            keyPeriod: .seconds(3_600), keyGrace: .seconds(60))
        var engine = RelayEngine(configuration: configuration, governance: GovernanceState(changes: [change], signedEpoch: 1,
                                                                                          signedID: change.bodyHash),
                                 now: ring.now, rng: &rng)
        #expect(engine.roster.epoch == 1 && engine.roster.members.count == 4 && engine.isFirstRing)
        #expect(engine.ringStatus != nil, "a member of a ring of several")
        try engine.restore(signedDirectory: old, now: ring.now)
        #expect(engine.latestSigned?.serial == 5)
        // Saved state that does not verify is left out: the configured roster stays.
        var tampered = change
        tampered.signatures.removeLast()
        let other = RelayEngine(configuration: configuration, governance: GovernanceState(changes: [tampered]), now: ring.now, rng: &rng)
        #expect(other.roster == ring.genesis)
    }

    /// A client that followed a roster change says so (to save the changes), and after a
    /// restart takes them back before its cached directory, which the first roster alone could
    /// not verify.
    @Test func aClientKeepsTheRosterChangesItFollowedAcrossARestart() throws {
        let ring = Ring()
        let (next, change, directory) = try ring.handover()
        var rng = SeededRandom(seed: "client roster")
        func client() throws -> ClientEngine {
            let messenger = try Messenger(store: MemoryMessengerStore(), displayName: "c", retry: RetrySchedule(initialMs: 2_000, maximumMs: 8_000),
                                          policy: .autoAccept, rng: &rng)
            return ClientEngine(configuration: ClientEngine.Configuration(roster: ring.genesis, bootstrapURLs: ["http://127.0.0.1:8000"]),
                                messenger: messenger, now: ring.now, rng: &rng)
        }
        var first = try client()
        var effects = NodeEffects<ClientEngine.Event>()
        first.start(now: ring.now, rng: &rng, effects: &effects)
        let fetch = try #require(effects.fetches.first { $0.url.hasSuffix("/v1/directory") })
        effects = NodeEffects()
        first.fetched(FetchResponse(id: fetch.id, status: 200, body: directory.jsonBytes()), now: ring.now, rng: &rng, effects: &effects)
        let follow = try #require(effects.fetches.first { $0.url.contains("/v1/ring/roster?since=0") })
        effects = NodeEffects()
        let answer = RosterChainAnswer(epoch: 1, roster: next.roster, changes: [change])
        first.fetched(FetchResponse(id: follow.id, status: 200, body: answer.jsonBytes()), now: ring.now, rng: &rng, effects: &effects)
        let saved = effects.events.compactMap { if case let .rosterChanged(chain) = $0 { chain } else { nil } }
        #expect(saved.count == 1 && saved.first?.current == next.roster)

        // Restarted: without the changes the cached directory is refused; with them it is used.
        var cold = try client()
        #expect(throws: DirectoryTracker.Refusal.self) { try cold.restore(cachedDirectory: directory, now: ring.now, rng: &rng) }
        var restarted = try client()
        restarted.restore(rosterChanges: saved.first?.changes ?? [])
        try restarted.restore(cachedDirectory: directory, now: ring.now, rng: &rng)
        #expect(restarted.networkStatus.roster == next.roster && restarted.networkStatus.directory?.serial == 5)
    }
}
