import SecIRCCore
import SecIRCCrypto
import SecIRCNode
import Testing

/// How a first-ring member rates the relays it lists (``DirectoryAuthority/rating(of:now:)``),
/// on a manual clock: new relays start at a tenth of their weight and earn `mailbox` after
/// probation; rechecks that go unanswered cost weight, two in a row the listing; claimed
/// capacity counts only up to the cap; a restart keeps what the last directory granted.
@Suite struct RelayRatingAuthorityTests {
    typealias Ring = AdmissionPolicyTests.Ring

    /// The rating this member gives `id` in what it would list now (nil when not listed).
    static func rating(_ ring: inout Ring, _ id: ID) throws -> RelayRating? {
        let listing = ring.authority.currentListing(now: ring.now)
        for (document, rating) in zip(listing.relays, listing.ratings)
        where try Unverified<RelayDescriptor>(document).verified().id == id {
            return rating
        }
        return nil
    }

    /// A new relay's upload at `udp` with `capacity`, admitted at once; its key and ID.
    static func admitted(_ ring: inout Ring, udp: String, capacity: Int = 10) throws -> (SigningPrivateKey, ID) {
        let key = SigningPrivateKey(using: &ring.rng)
        let document = try upload(&ring, key: key, udp: udp, capacity: capacity)
        let id = try ring.authority.accept(document, now: ring.now).id
        let listed = ring.authority.admit(id, now: ring.now)
        #expect(listed)
        return (key, id)
    }

    static func upload(_ ring: inout Ring, key: SigningPrivateKey, udp: String, capacity: Int = 10,
                       link: AgreementPublicKey? = nil) throws -> SignedDocument {
        try RelayDescriptor(
            identityKey: key.publicKey, linkKey: link ?? linkKey(of: key), udp: udp, http: "http://192.0.2.9:6691",
            onionKeys: [.init(epoch: 1, key: AgreementPrivateKey(using: &ring.rng).publicKey, validAfter: 0, validUntil: .max)],
            capacity: capacity, flags: ["mailbox", "anything"], published: ring.now.seconds).signed(by: key)
    }

    /// A link key fixed per identity (so uploads of one relay keep their endpoint).
    static func linkKey(of key: SigningPrivateKey) -> AgreementPublicKey {
        var rng = SeededRandom(seed: key.publicKey.rawValue.hex)
        return AgreementPrivateKey(using: &rng).publicKey
    }

    @Test func aNewRelayEarnsWeightAndMailboxOverItsProbation() throws {
        var ring = try Ring(AdmissionPolicy(probation: .seconds(10 * 3_600)), period: .seconds(3_600))
        let (key, id) = try Self.admitted(&ring, udp: "10.1.1.1:1", capacity: 1_000)
        #expect(try Self.rating(&ring, id) == RelayRating(weight: 100), "a tenth of its claim, no flag (its descriptor's are ignored)")
        // Half way: 0.1 + 0.9 × 0.5 = 0.55 of 1,000.
        ring.now = ring.now.adding(.seconds(5 * 3_600))
        _ = try ring.authority.accept(Self.upload(&ring, key: key, udp: "10.1.1.1:1", capacity: 1_000), now: ring.now)
        #expect(try Self.rating(&ring, id) == RelayRating(weight: 550))
        ring.now = ring.now.adding(.seconds(5 * 3_600))
        _ = try ring.authority.accept(Self.upload(&ring, key: key, udp: "10.1.1.1:1", capacity: 1_000), now: ring.now)
        #expect(try Self.rating(&ring, id) == RelayRating(weight: 1_000, flags: ["mailbox"]))
        // The member itself, in the roster: full weight and mailbox from the start.
        let own = try #require(try Self.rating(&ring, ring.key.publicKey.id))
        #expect(own == RelayRating(weight: 10, flags: ["mailbox"]))
    }

    @Test func claimedCapacityCountsUpToTheCap() throws {
        var ring = try Ring(AdmissionPolicy(maximumCapacity: 500))
        let (_, big) = try Self.admitted(&ring, udp: "10.1.1.1:1", capacity: 1_000_000)
        let (_, small) = try Self.admitted(&ring, udp: "10.1.1.2:1", capacity: 0)
        #expect(try Self.rating(&ring, big)?.weight == 500)
        #expect(try Self.rating(&ring, small)?.weight == 1)
    }

    /// Forwarding-probe packets that do not come back cost weight (the share that came back
    /// multiplies it) and `mailbox`; fewer than half of at least 16 leave the relay out until it
    /// forwards again.
    @Test func lostProbePacketsCostWeightThenTheListing() throws {
        var ring = try Ring(AdmissionPolicy(maximumCapacity: 1_000))
        let (_, id) = try Self.admitted(&ring, udp: "10.1.1.1:1", capacity: 1_000)
        func probed(_ count: Int, returned: Bool) {
            for _ in 0..<count { ring.authority.probed(id, returned: returned, challenge: ring.now) }
        }
        probed(6, returned: true)
        probed(2, returned: false)
        #expect(try Self.rating(&ring, id) == RelayRating(weight: 750), "6 of 8 came back: no mailbox")
        probed(8, returned: false)
        #expect(try Self.rating(&ring, id) == nil, "6 of 16: left out")
        probed(16, returned: true)
        #expect(try Self.rating(&ring, id) == RelayRating(weight: 680), "22 of 32 (688, two digits down)")
        probed(64, returned: true)
        #expect(try Self.rating(&ring, id) == RelayRating(weight: 1_000, flags: ["mailbox"]), "the last 64 count")
    }

    /// A challenge's probe: packets of an earlier challenge (another endpoint) do not count for
    /// the one waiting now; the relay passes with the quorum of its own.
    @Test func aChallengePassesOnlyWithTheQuorumOfItsOwnProbe() throws {
        var ring = try Ring(AdmissionPolicy())
        let key = SigningPrivateKey(using: &ring.rng)
        let id = try ring.authority.accept(Self.upload(&ring, key: key, udp: "10.1.1.1:1"), now: ring.now).id
        ring.authority.healthAnswered(id, http: "http://192.0.2.9:6691")
        let earlier = ring.now
        ring.now = ring.now.adding(.seconds(31))
        _ = ring.authority.expireChallenges(now: ring.now)
        _ = try ring.authority.accept(Self.upload(&ring, key: key, udp: "10.1.1.1:1"), now: ring.now)
        ring.authority.healthAnswered(id, http: "http://192.0.2.9:6691")
        for _ in 0..<DirectoryAuthority.probePackets { ring.authority.probed(id, returned: true, challenge: earlier) }
        #expect(ring.authority.challenges[id]?.passedChecks == false, "the earlier challenge's packets")
        for _ in 0..<(DirectoryAuthority.probeQuorum - 1) { ring.authority.probed(id, returned: true, challenge: ring.now) }
        #expect(ring.authority.challenges[id]?.passedChecks == false)
        ring.authority.probed(id, returned: true, challenge: ring.now)
        #expect(ring.authority.challenges[id]?.passedChecks == true)
    }

    /// A listed relay is checked again at its first upload after the interval; an unanswered
    /// check costs weight, two in a row leave it out until it answers again.
    @Test func unansweredRechecksCostWeightThenTheListing() throws {
        var ring = try Ring(AdmissionPolicy(recheckInterval: .seconds(600), maximumCapacity: 1_000))
        let (key, id) = try Self.admitted(&ring, udp: "10.1.1.1:1", capacity: 1_000)
        #expect(try Self.rating(&ring, id) == RelayRating(weight: 1_000, flags: ["mailbox"]))

        func uploadAfter(_ seconds: Int64) throws -> DirectoryAuthority.Acceptance {
            ring.now = ring.now.adding(.seconds(seconds))
            return try ring.authority.accept(Self.upload(&ring, key: key, udp: "10.1.1.1:1", capacity: 1_000), now: ring.now)
        }
        #expect(try !uploadAfter(300).recheck, "not due yet")
        let due = try uploadAfter(301)
        #expect(due.recheck && due.change != .challenged && ring.authority.challenges[id] != nil, "checked while listed")
        #expect(try Self.rating(&ring, id) != nil, "listed while it is checked")
        ring.now = ring.now.adding(.seconds(31))
        #expect(ring.authority.expireChallenges(now: ring.now) == [id])
        // 1 of 2 checks answered: half the weight, and below the 90% that mailbox needs.
        #expect(try Self.rating(&ring, id) == RelayRating(weight: 500))

        #expect(try uploadAfter(600).recheck)
        ring.now = ring.now.adding(.seconds(31))
        _ = ring.authority.expireChallenges(now: ring.now)
        #expect(try Self.rating(&ring, id) == nil, "two unanswered checks in a row: left out")

        // It answers the next check: listed again, its history kept (2 of 4).
        #expect(try uploadAfter(600).recheck)
        let listedAgain = ring.authority.admit(id, now: ring.now)
        #expect(!listedAgain, "a recheck is not a new listing")
        #expect(try Self.rating(&ring, id) == RelayRating(weight: 500))
    }

    /// After a restart, a relay the last directory flagged `mailbox` keeps it (its probation
    /// counts as served); one still on probation starts it again.
    @Test func aRestartKeepsWhatTheLastDirectoryGranted() throws {
        var ring = try Ring(AdmissionPolicy(probation: .seconds(3_600)), period: .seconds(600))
        let (oldKey, old) = try Self.admitted(&ring, udp: "10.1.1.1:1", capacity: 100)
        ring.now = ring.now.adding(.seconds(3_600))
        _ = try ring.authority.accept(Self.upload(&ring, key: oldKey, udp: "10.1.1.1:1", capacity: 100), now: ring.now)
        let (_, young) = try Self.admitted(&ring, udp: "10.1.1.2:1", capacity: 100)
        let signed = ring.authority.sign(now: ring.now)
        let listed = try signed.directory.descriptors()
        let flags = Dictionary(uniqueKeysWithValues: listed.enumerated().map { ($1.id, signed.directory.rating(at: $0, of: $1).flags) })
        #expect(flags[old] == ["mailbox"] && flags[young] == [])
        #expect(flags[ring.key.publicKey.id] == ["first_ring", "mailbox"])

        var restarted = DirectoryAuthority(identity: ring.key, roster: ring.authority.roster, network: ring.authority.network,
                                           period: .seconds(600))
        restarted.policy = ring.authority.policy
        try restarted.restore(latest: signed.document)
        ring.authority = restarted
        #expect(try Self.rating(&ring, old)?.flags == ["mailbox"])
        #expect(try Self.rating(&ring, young) == RelayRating(weight: 10))
    }

    /// Clients choose mailbox relays among those the ring flagged `mailbox`, whatever the
    /// descriptors claim, by weight; with no such relay they have nothing to choose.
    @Test func mailboxesGoWhereTheRingSaysAndByWeight() throws {
        let relays = TestRelays.make(4) // every descriptor claims `mailbox`
        let ratings: [ID: RelayRating] = [
            relays[0].id: .init(weight: 5), // on probation: no flag
            relays[1].id: .init(weight: 1, flags: ["mailbox"]),
            relays[2].id: .init(weight: 1_000, flags: ["mailbox"]),
            relays[3].id: .init(weight: 1, flags: ["mailbox"]),
        ]
        var heavy = 0
        for round in 0..<200 {
            let peer = try Peer("m\(round)", relays: [])
            let chosen = try peer.messenger.chooseMailboxes(from: relays, ratings: ratings, count: 1, rng: &peer.rng)
            #expect(chosen.count == 1 && chosen[0].relayID != relays[0].id)
            if chosen[0].relayID == relays[2].id { heavy += 1 }
        }
        #expect(heavy >= 190, "weight 1,000 of 1,002: \(heavy) of 200")
        let peer = try Peer("none", relays: [])
        #expect(throws: MessengerError.self) {
            try peer.messenger.chooseMailboxes(from: relays, ratings: [relays[0].id: .init(weight: 5)], count: 2, rng: &peer.rng)
        }
    }

    /// A loaded mailbox relay (its descriptor's `load`) gets fewer new mailboxes: 90% full, a
    /// tenth of the chances of an empty one of the same weight.
    @Test func loadedMailboxRelaysGetFewerNewMailboxes() throws {
        var relays = TestRelays.make(2)
        relays[0].load = 90
        relays[1].load = 0
        let ratings = Dictionary(uniqueKeysWithValues: relays.map { ($0.id, RelayRating(weight: 100, flags: ["mailbox"])) })
        #expect(Messenger.mailboxWeight(relays[0], ratings) == 10 && Messenger.mailboxWeight(relays[1], ratings) == 100)
        relays[0].load = 100
        #expect(Messenger.mailboxWeight(relays[0], ratings) == 5, "full still counts a little: a network of full relays still works")
        relays[0].load = 90
        var loaded = 0
        for round in 0..<300 {
            let peer = try Peer("l\(round)", relays: [])
            if try peer.messenger.chooseMailboxes(from: relays, ratings: ratings, count: 1, rng: &peer.rng)[0].relayID == relays[0].id { loaded += 1 }
        }
        #expect((10...50).contains(loaded), "about 1 in 11 of 300: \(loaded)")
    }

    /// The store's load: the larger of bytes and mailboxes against their limits, in tens of percent.
    @Test func aMailboxStoreReportsItsLoadInTens() throws {
        var store = MailboxStore(limits: MailboxStore.Limits(ttl: .seconds(60), maxMessagesPerQueue: 100, maxMailboxes: 10, maxTotalBytes: 1 << 20))
        #expect(store.loadPercent == 0)
        for byte in 1...4 { _ = store.register(Bytes32(filling: { $0.initializeMemory(as: UInt8.self, repeating: UInt8(byte)) }), now: .t0) }
        #expect(store.loadPercent == 40)
    }

    /// Relays re-sign their descriptor every few minutes; an upload with the same content keeps
    /// the listed envelope, so directories (and their diffs) do not change for it.
    @Test func theSameContentSignedAgainKeepsTheListedEnvelope() throws {
        var ring = try Ring(AdmissionPolicy())
        let (key, id) = try Self.admitted(&ring, udp: "10.1.1.1:1")
        let listed = ring.authority.currentDescriptors(now: ring.now)
        ring.now = ring.now.adding(.seconds(30))
        let onion = RelayDescriptor.OnionKeyEntry(epoch: 1, key: AgreementPrivateKey(using: &ring.rng).publicKey, validAfter: 0, validUntil: .max)
        func upload(load: Int?) throws -> DirectoryAuthority.Acceptance {
            let document = try RelayDescriptor(identityKey: key.publicKey, linkKey: Self.linkKey(of: key), udp: "10.1.1.1:1",
                                               http: "http://192.0.2.9:6691", onionKeys: [onion], capacity: 10, flags: ["mailbox"],
                                               published: ring.now.seconds, load: load).signed(by: key)
            return try ring.authority.accept(document, now: ring.now)
        }
        #expect(try upload(load: nil).change == .changed, "new onion keys")
        let first = ring.authority.currentDescriptors(now: ring.now)
        #expect(first != listed)
        ring.now = ring.now.adding(.seconds(30))
        #expect(try upload(load: nil).change == .refreshed)
        #expect(ring.authority.currentDescriptors(now: ring.now) == first, "the same content: the same envelope")
        ring.now = ring.now.adding(.seconds(30))
        #expect(try upload(load: 20).change == .changed, "its load changed")
        #expect(ring.authority.currentDescriptors(now: ring.now) != first)
        _ = id
    }
}
