import SecIRCCore
import SecIRCCrypto
@testable import SecIRCNode
import Testing

/// When every configured source fails, the tracker asks relays of the directory it holds
/// (linked peers first; channel `peer`); a directory saved at the last install is restored at
/// start when it still verifies (channel `cache`). On a manual clock.
@Suite struct DirectoryFallbackTests {
    static let configured = ["http://192.0.2.1:6691", "http://192.0.2.2:6691"]

    /// A first ring alone whose directories list `relays` relays at `http://10.0.0.<i>:6691`.
    struct Listing {
        var rng = SeededRandom(seed: "fallback")
        let key: SigningPrivateKey
        let roster: Roster
        var authority: DirectoryAuthority
        var ids: [ID] = []
        let clock = ManualClock()

        init(relays: Int) throws {
            key = SigningPrivateKey(using: &rng)
            roster = Roster(members: [Roster.Member(identityKey: key.publicKey, udp: "192.0.2.1:6690", http: "http://192.0.2.1:6691")])
            authority = DirectoryAuthority(identity: key, roster: roster, network: NetworkParameters(coverRate: 1, meanDelayMs: 5),
                                           period: .seconds(60))
            for i in 0..<relays {
                let relayKey = SigningPrivateKey(using: &rng)
                let document = try RelayDescriptor(
                    identityKey: relayKey.publicKey, linkKey: AgreementPrivateKey(using: &rng).publicKey, udp: "10.0.0.\(i + 1):6690",
                    http: "http://10.0.0.\(i + 1):6691",
                    onionKeys: [.init(epoch: 1, key: AgreementPrivateKey(using: &rng).publicKey, validAfter: 0, validUntil: 4_000_000_000)],
                    capacity: 5, flags: ["mailbox"], published: clock.now().seconds).signed(by: relayKey)
                let id = try authority.accept(document, now: clock.now()).id
                authority.admit(id, now: clock.now())
                ids.append(id)
            }
        }

        mutating func sign() -> SignedDocument {
            clock.advance(by: .seconds(1))
            return authority.sign(now: clock.now()).document
        }

        func http(_ id: ID) -> String { "http://10.0.0.\(ids.firstIndex(of: id)! + 1):6691" }
    }

    static func fail(_ tracker: inout DirectoryTracker, _ request: FetchRequest, now: UnixTime) {
        _ = tracker.received(FetchResponse(id: request.id, status: nil, failure: .transport("refused")), now: now)
    }

    /// Every URL asked until the tracker waits, failing each; their bases.
    static func failRound(_ tracker: inout DirectoryTracker, now: UnixTime, from id: inout UInt64) -> [String] {
        var asked: [String] = []
        while let request = tracker.fetchIfDue(now: now, id: id) {
            id += 1
            asked.append(String(request.url.prefix { $0 != "?" }.dropLast("/v1/directory".count)))
            fail(&tracker, request, now: now)
        }
        return asked
    }

    @Test func whenEveryConfiguredSourceFailsTheLinkedPeersThenOtherRelaysAreAskedAsChannelPeer() throws {
        var listing = try Listing(relays: 4)
        var tracker = DirectoryTracker(roster: listing.roster, sources: Self.configured)
        try tracker.install(listing.sign(), now: listing.clock.now(), channel: .http)
        tracker.preferredPeers = [listing.ids[2]]
        listing.clock.advance(by: .seconds(30))
        var id: UInt64 = 1
        let asked = Self.failRound(&tracker, now: listing.clock.now(), from: &id)
        // The configured ones, then the linked peer, then the other relays, then the configured again.
        let others = try #require(tracker.held).descriptors.map(\.http).filter { $0 != listing.http(listing.ids[2]) } // by ID
        #expect(asked == Self.configured + [listing.http(listing.ids[2])] + others + Self.configured)
        // A second later: configured first again, and a relay answers with a newer directory.
        listing.clock.advance(by: tracker.retryInterval)
        let newer = listing.sign()
        var request = try DirectorySourcesTests.due(&tracker, listing.clock.now(), id)
        #expect(request.url.hasPrefix(Self.configured[0]))
        Self.fail(&tracker, request, now: listing.clock.now())
        id += 1
        request = try DirectorySourcesTests.due(&tracker, listing.clock.now(), id)
        Self.fail(&tracker, request, now: listing.clock.now())
        id += 1
        request = try DirectorySourcesTests.due(&tracker, listing.clock.now(), id)
        #expect(request.url.hasPrefix(listing.http(listing.ids[2])))
        let outcome = tracker.received(FetchResponse(id: id, status: 200, body: newer.jsonBytes()), now: listing.clock.now())
        #expect(outcome == .installed)
        #expect(tracker.held?.channel == .peer)
        #expect(tracker.held?.directory.serial == 2)
    }

    @Test func aRoundAsksAtMostEightRelaysAndTheNextRoundTheNextOnesNeverItself() throws {
        var listing = try Listing(relays: 12)
        var tracker = DirectoryTracker(roster: listing.roster, sources: [Self.configured[0]])
        tracker.expectListed = listing.ids[0] // this relay
        try tracker.install(listing.sign(), now: listing.clock.now(), channel: .http)
        var id: UInt64 = 1
        var relaysAsked: [String] = []
        for _ in 0..<3 {
            listing.clock.advance(by: .seconds(30))
            let asked = Self.failRound(&tracker, now: listing.clock.now(), from: &id).filter { $0 != Self.configured[0] }
            #expect(asked.count <= DirectoryTracker.maximumPeerSources)
            relaysAsked += asked
        }
        let everyOther = Set(listing.ids.dropFirst().map { listing.http($0) })
        #expect(Set(relaysAsked) == everyOther)
        #expect(!relaysAsked.contains(listing.http(listing.ids[0])))
    }

    @Test func aConfiguredSourceThatAnswersEndsTheAskingOfRelays() throws {
        var listing = try Listing(relays: 3)
        var tracker = DirectoryTracker(roster: listing.roster, sources: [Self.configured[0]])
        try tracker.install(listing.sign(), now: listing.clock.now(), channel: .http)
        listing.clock.advance(by: .seconds(30))
        var id: UInt64 = 1
        #expect(Self.failRound(&tracker, now: listing.clock.now(), from: &id).count == 1 + 3 + 1)
        listing.clock.advance(by: tracker.retryInterval)
        let request = try DirectorySourcesTests.due(&tracker, listing.clock.now(), id)
        #expect(request.url.hasPrefix(Self.configured[0]))
        #expect(tracker.received(FetchResponse(id: id, status: 304), now: listing.clock.now()) == .unchanged)
        listing.clock.advance(by: .seconds(30))
        id += 1
        #expect(Self.failRound(&tracker, now: listing.clock.now(), from: &id).count == 1 + 3 + 1)
    }

    @Test func withoutADirectoryThereAreNoRelaysToAsk() throws {
        let listing = try Listing(relays: 3)
        var tracker = DirectoryTracker(roster: listing.roster, sources: Self.configured)
        var id: UInt64 = 1
        #expect(Self.failRound(&tracker, now: listing.clock.now(), from: &id) == Self.configured)
    }

    @Test func aCachedDirectoryIsUsedWhenItVerifiesAndIsStillValid() throws {
        var listing = try Listing(relays: 2)
        let saved = listing.sign()
        var tracker = DirectoryTracker(roster: listing.roster, sources: Self.configured)
        try tracker.restore(cached: saved, now: listing.clock.now())
        #expect(tracker.held?.channel == .cache)
        #expect(tracker.held?.descriptors.count == 2)
        // Fetched at once anyway, with a diff request from the cached serial.
        let request = try DirectorySourcesTests.due(&tracker, listing.clock.now(), 1)
        #expect(request.url == "\(Self.configured[0])/v1/directory?since=1")

        // Expired, or signed by another ring: not used.
        var expired = DirectoryTracker(roster: listing.roster, sources: Self.configured)
        let validUntil = try #require(tracker.held?.directory.validUntil)
        #expect(throws: DirectoryTracker.Refusal.self) { try expired.restore(cached: saved, now: UnixTime(seconds: validUntil)) }
        #expect(expired.held == nil)
        var rng = SeededRandom(seed: "another ring")
        let otherRing = Roster(members: [Roster.Member(identityKey: SigningPrivateKey(using: &rng).publicKey, udp: "192.0.2.9:6690",
                                                       http: "http://192.0.2.9:6691")])
        var foreign = DirectoryTracker(roster: otherRing, sources: Self.configured)
        #expect(throws: DirectoryTracker.Refusal.self) { try foreign.restore(cached: saved, now: listing.clock.now()) }
    }
}
