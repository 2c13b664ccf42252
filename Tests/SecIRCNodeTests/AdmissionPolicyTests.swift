import SecIRCCore
import SecIRCCrypto
import SecIRCNode
import Testing

/// The first ring's admission policy (``DirectoryAuthority/policy``, ``AdmissionLists``): what one
/// party can add, on a manual clock.
@Suite struct AdmissionPolicyTests {
    struct Ring {
        var rng = SeededRandom(seed: "admission")
        let key: SigningPrivateKey
        var authority: DirectoryAuthority
        var now = UnixTime(seconds: 1_800_000_000)

        init(_ policy: AdmissionPolicy, period: Duration = .seconds(60)) throws {
            key = SigningPrivateKey(using: &rng)
            let roster = Roster(members: [Roster.Member(identityKey: key.publicKey, udp: "192.0.2.1:6690", http: "http://192.0.2.1:6691")])
            authority = DirectoryAuthority(identity: key, roster: roster, network: NetworkParameters(coverRate: 1, meanDelayMs: 5),
                                           period: period)
            authority.policy = policy
            try authority.setOwn(descriptor(key, udp: "192.0.2.1:6690"))
        }

        mutating func descriptor(_ key: SigningPrivateKey, udp: String, http: String = "http://192.0.2.9:6691") throws -> SignedDocument {
            try RelayDescriptor(
                identityKey: key.publicKey, linkKey: AgreementPrivateKey(using: &rng).publicKey, udp: udp, http: http,
                onionKeys: [.init(epoch: 1, key: AgreementPrivateKey(using: &rng).publicKey, validAfter: 0, validUntil: .max)],
                capacity: 10, flags: ["mailbox"], published: now.seconds).signed(by: key)
        }

        /// A fresh relay's upload at `udp`: its ID, or why it was refused.
        mutating func upload(udp: String, http: String = "http://192.0.2.9:6691") throws -> Result<ID, DirectoryAuthority.UploadError> {
            let document = try descriptor(SigningPrivateKey(using: &rng), udp: udp, http: http)
            do { return .success(try authority.accept(document, now: now).id) } catch { return .failure(error) }
        }

        /// Relays in the directory it would sign now, own included.
        mutating func listed() -> Int { authority.currentDescriptors(now: now).count }
    }

    /// `first_ring` is the roster's to grant: a relay outside it that claims the flag is refused.
    @Test func aRelayOutsideTheRosterCannotClaimFirstRing() throws {
        var ring = try Ring(AdmissionPolicy())
        let key = SigningPrivateKey(using: &ring.rng)
        let claim = try RelayDescriptor(
            identityKey: key.publicKey, linkKey: AgreementPrivateKey(using: &ring.rng).publicKey, udp: "10.9.9.9:6690",
            http: "http://10.9.9.9:6691",
            onionKeys: [.init(epoch: 1, key: AgreementPrivateKey(using: &ring.rng).publicKey, validAfter: 0, validUntil: .max)],
            capacity: 10, flags: ["mailbox", "first_ring"], published: ring.now.seconds).signed(by: key)
        #expect(throws: DirectoryAuthority.UploadError.self) { try ring.authority.accept(claim, now: ring.now) }
        do {
            _ = try ring.authority.accept(claim, now: ring.now)
        } catch {
            #expect("\(error)".contains("granted by the roster"))
        }
        #expect(try ring.upload(udp: "10.9.9.9:6690").isSuccess, "the same relay without the claim is taken")
    }

    @Test func relaysPerAddressAreCapped() throws {
        var ring = try Ring(AdmissionPolicy(maxRelaysPerAddress: 2))
        #expect(try ring.upload(udp: "10.1.1.1:1").isSuccess && ring.upload(udp: "10.1.1.1:2").isSuccess)
        guard case .failure(.addressLimit) = try ring.upload(udp: "10.1.1.1:3") else { Issue.record("a third relay at one address"); return }
        #expect(try ring.upload(udp: "10.1.1.2:1").isSuccess, "another address is another count")
        // The member's own address counts too.
        #expect(try ring.upload(udp: "192.0.2.1:7000").isSuccess)
        guard case .failure(.addressLimit) = try ring.upload(udp: "192.0.2.1:7001") else { Issue.record("own address"); return }
        // Listed or challenged, both count; a relay once, whatever its uploads.
        let id = try #require(try ring.upload(udp: "10.2.2.2:1").value)
        let r1 = ring.authority.admit(id, now: ring.now)
        #expect(r1)
        #expect(try ring.upload(udp: "10.2.2.2:2").isSuccess)
        guard case .failure(.addressLimit) = try ring.upload(udp: "10.2.2.2:3") else { Issue.record("listed + challenged"); return }
    }

    @Test func relaysPerPrefixAreCappedFor24And48() throws {
        var ring = try Ring(AdmissionPolicy(maxRelaysPerPrefix: 3))
        for host in 1...3 { #expect(try ring.upload(udp: "10.7.7.\(host):6690").isSuccess) }
        guard case let .failure(.addressLimit(text)) = try ring.upload(udp: "10.7.7.200:6690") else { Issue.record("a 4th in one /24"); return }
        #expect(text.contains("/24"))
        #expect(try ring.upload(udp: "10.7.8.1:6690").isSuccess, "the next /24")
        // IPv6: the /48 is what counts; an IPv4-mapped address counts as IPv4.
        for subnet in 1...3 { #expect(try ring.upload(udp: "[2001:db8:1:\(subnet)::1]:6690").isSuccess) }
        guard case let .failure(.addressLimit(v6)) = try ring.upload(udp: "[2001:db8:1:ffff::9]:6690") else { Issue.record("a 4th in one /48"); return }
        #expect(v6.contains("/48"))
        #expect(try ring.upload(udp: "[2001:db8:2::1]:6690").isSuccess, "the next /48")
        guard case .failure(.addressLimit) = try ring.upload(udp: "[::ffff:10.7.7.99]:6690") else { Issue.record("mapped IPv4"); return }
    }

    @Test func newRelaysPerPeriodAreCappedAndRoomComesBack() throws {
        var ring = try Ring(AdmissionPolicy(newRelaysPerPeriod: 3), period: .seconds(60))
        let ids = try (1...5).map { try #require(try ring.upload(udp: "10.3.\($0).1:6690").value) }
        // All five are challenged; only three are listed once they answer.
        var admitted: [Bool] = []
        for id in ids { admitted.append(ring.authority.admit(id, now: ring.now)) }
        #expect(admitted == [true, true, true, false, false])
        #expect(ring.authority.challenges.count == 2, "the other two wait for room")
        let r2 = ring.listed()
        #expect(r2 == 4)
        guard case let .failure(.newRelayLimit(wait)) = try ring.upload(udp: "10.3.9.1:6690") else { Issue.record("a 6th upload"); return }
        #expect(wait == .seconds(60))
        // A listed relay's refresh is not new.
        ring.now = ring.now.adding(.seconds(30))
        guard case .failure(.newRelayLimit(.seconds(30))) = try ring.upload(udp: "10.3.9.1:6690") else { Issue.record("still full"); return }
        ring.now = ring.now.adding(.seconds(30))
        let r3 = ring.authority.admit(ids[3], now: ring.now), r3b = ring.authority.admit(ids[4], now: ring.now)
        #expect(r3 && r3b, "a period later: room")
        let r4 = ring.listed()
        #expect(r4 == 6)
    }

    @Test func aBannedRelayIsNeverListed() throws {
        var ring = try Ring(AdmissionPolicy())
        let id = try #require(try ring.upload(udp: "10.4.0.1:6690").value)
        let r5 = ring.authority.admit(id, now: ring.now)
        #expect(r5)
        let r6 = ring.listed()
        #expect(r6 == 2)
        let r7 = ring.authority.change(.ban(id))
        #expect(r7)
        let r8 = ring.listed()
        #expect(r8 == 1, "gone from the next directory")
        let key = SigningPrivateKey(using: &ring.rng)
        let again = try ring.descriptor(key, udp: "10.4.0.2:6690")
        let r9 = ring.authority.change(.ban(key.publicKey.id))
        #expect(r9)
        #expect(throws: DirectoryAuthority.UploadError.banned) { try ring.authority.accept(again, now: ring.now) }
        // Banned while challenged: never admitted.
        let waiting = try #require(try ring.upload(udp: "10.4.0.3:6690").value)
        let r10 = ring.authority.change(.ban(waiting))
        #expect(r10)
        let r11 = ring.authority.admit(waiting, now: ring.now)
        #expect(!r11 && ring.authority.challenges.isEmpty)
        // Lifted: it uploads, answers, and is listed again.
        let r12 = ring.authority.change(.unban(key.publicKey.id))
        #expect(r12)
        #expect(try ring.authority.accept(again, now: ring.now).change == .challenged)
        let r13 = ring.authority.admit(key.publicKey.id, now: ring.now)
        #expect(r13)
        let r14 = ring.listed()
        #expect(r14 == 2)
        #expect(ring.authority.lists == AdmissionLists(banned: [id, waiting]))
    }

    @Test func allowListModeListsOnlyAllowedRelays() throws {
        var ring = try Ring(AdmissionPolicy(mode: .allowlist))
        guard case .failure(.notAllowed) = try ring.upload(udp: "10.5.0.1:6690") else { Issue.record("a stranger"); return }
        let key = SigningPrivateKey(using: &ring.rng)
        let r15 = ring.authority.change(.allow(key.publicKey.id))
        #expect(r15)
        let document = try ring.descriptor(key, udp: "10.5.0.2:6690")
        #expect(try ring.authority.accept(document, now: ring.now).change == .challenged)
        let r16 = ring.authority.admit(key.publicKey.id, now: ring.now)
        #expect(r16)
        let r17 = ring.listed()
        #expect(r17 == 2, "allowed and answered: listed")
        let r18 = ring.authority.change(.disallow(key.publicKey.id))
        #expect(r18)
        let r19 = ring.listed()
        #expect(r19 == 1, "taken off the list: left out of the next directory")
        let r20 = ring.authority.change(.allow(key.publicKey.id))
        #expect(r20)
        let r21 = ring.listed()
        #expect(r21 == 2, "allowed again: listed again without a new upload")
    }

    @Test func theListsAreBounded() throws {
        var lists = AdmissionLists()
        lists.banned = Set((0..<AdmissionLists.maximumEntries).map { ID(rawValue: Self.bytes($0)) })
        var ring = try Ring(AdmissionPolicy())
        ring.authority.restore(lists: lists)
        let full = ring.authority.change(.ban(ID(rawValue: Self.bytes(AdmissionLists.maximumEntries))))
        let again = ring.authority.change(.ban(ID(rawValue: Self.bytes(0))))
        let other = ring.authority.change(.allow(ID(rawValue: Self.bytes(0))))
        #expect(!full && again && other, "full; one already there is fine; the other list has room")
    }

    static func bytes(_ n: Int) -> Bytes32 {
        try! Bytes32((0..<32).map { UInt8(truncatingIfNeeded: $0 < 4 ? n >> (8 * $0) : 0) })
    }

    /// A listed relay being rechecked is one relay against the byte limit, not two: with every
    /// listed relay's recheck in flight their refreshes are all taken and as many new relays
    /// fit as without rechecks.
    @Test func rechecksDoNotCountAListedRelayTwice() throws {
        let longURL = "https://relay.example/" + String(repeating: "x", count: RelayDescriptor.maximumHTTPLength - 22)
        func signed(_ key: SigningPrivateKey, link: AgreementPublicKey, udp: String, now: UnixTime) throws -> SignedDocument {
            try RelayDescriptor(identityKey: key.publicKey, linkKey: link, udp: udp, http: longURL,
                                onionKeys: [.init(epoch: 1, key: link, validAfter: 0, validUntil: .max)],
                                capacity: 10, flags: [], published: now.seconds).signed(by: key)
        }
        /// Fresh relays uploaded and listed one by one until the limit refuses one; how many were listed.
        func fillUp(_ ring: inout Ring, from first: Int) throws -> Int {
            for i in first..<400 {
                let key = SigningPrivateKey(using: &ring.rng)
                do {
                    let id = try ring.authority.accept(signed(key, link: AgreementPrivateKey(using: &ring.rng).publicKey,
                                                             udp: "10.7.\(i).1:6690", now: ring.now), now: ring.now).id
                    _ = ring.authority.admit(id, now: ring.now)
                } catch DirectoryAuthority.UploadError.directoryFull {
                    return i
                }
            }
            return 400
        }
        var plain = try Ring(AdmissionPolicy())
        plain.authority.maximumDirectoryBytes = 80_000
        let room = try fillUp(&plain, from: 0)
        #expect(room > 10 && room < 400)

        var policy = AdmissionPolicy()
        policy.recheckInterval = .seconds(60)
        var ring = try Ring(policy)
        ring.authority.maximumDirectoryBytes = 80_000
        var relays: [(SigningPrivateKey, AgreementPublicKey, String)] = []
        for i in 0..<(room - 4) {
            let key = SigningPrivateKey(using: &ring.rng), link = AgreementPrivateKey(using: &ring.rng).publicKey
            let id = try ring.authority.accept(signed(key, link: link, udp: "10.7.\(i).1:6690", now: ring.now), now: ring.now).id
            let admitted = ring.authority.admit(id, now: ring.now)
            #expect(admitted)
            relays.append((key, link, "10.7.\(i).1:6690"))
        }
        ring.now = ring.now.adding(.seconds(61))
        var rechecks = 0
        for (key, link, udp) in relays {
            if try ring.authority.accept(signed(key, link: link, udp: udp, now: ring.now), now: ring.now).recheck { rechecks += 1 }
        }
        #expect(rechecks == min(relays.count, ring.authority.maximumChallenges), "every refresh taken, each a recheck")
        let roomWithRechecks = try fillUp(&ring, from: room - 4)
        #expect(roomWithRechecks == room, "the same room with \(rechecks) rechecks in flight")
    }

    /// The signing side refuses what would push the signed directory over the limit the
    /// verifying side decodes with (one constant, `SignedDocument.maximumEncodedLength`).
    @Test func theSignedDirectoryStaysWithinTheDecodeLimit() throws {
        var ring = try Ring(AdmissionPolicy())
        #expect(ring.authority.maximumDirectoryBytes == SignedDocument.maximumEncodedLength)
        ring.authority.maximumDirectoryBytes = 24_000 // a few dozen relays, so the test is quick
        let longURL = "https://relay.example/" + String(repeating: "x", count: RelayDescriptor.maximumHTTPLength - 22)
        var taken: [ID] = []
        var refusal: DirectoryAuthority.UploadError?
        for i in 0..<200 {
            switch try ring.upload(udp: "10.6.\(i).1:6690", http: longURL) {
            case let .success(id):
                taken.append(id)
                if ring.authority.challenges.count == ring.authority.maximumChallenges {
                    for id in ring.authority.challenges.keys { _ = ring.authority.admit(id, now: ring.now) }
                }
            case let .failure(error):
                refusal = error
            }
            if refusal != nil { break }
        }
        #expect(refusal == .directoryFull(limit: 24_000))
        for id in ring.authority.challenges.keys { _ = ring.authority.admit(id, now: ring.now) }
        let signed = ring.authority.sign(now: ring.now)
        #expect(signed.directory.relays.count == taken.count + 1)
        let bytes = signed.document.jsonBytes().count
        #expect(bytes <= 24_000, "\(bytes) bytes")
        // The bound counts 63 earlier hashes and 256 bytes of slack this first directory has not.
        #expect(bytes > 24_000 - 8_000, "the bound is close, not wasteful: \(bytes) bytes")
        // What a verifier decodes with is the same limit.
        #expect(try SignedDocument.decode(json: signed.document.jsonBytes()) == signed.document)
    }
}

extension Result {
    var isSuccess: Bool { if case .success = self { true } else { false } }
    var value: Success? { if case let .success(value) = self { value } else { nil } }
}

@Suite struct RateTableTests {
    let t0 = UnixTime(seconds: 1_000)

    @Test func burstThenTheAverageRate() {
        var table = RateTable<Int>(perMinute: 60, burst: 3)
        #expect((0..<3).map { _ in table.take(1, now: t0) } == [nil, nil, nil])
        #expect(table.take(1, now: t0) == .seconds(1), "one more in a second")
        #expect(table.take(2, now: t0) == nil, "another key has its own budget")
        #expect(table.take(1, now: t0.adding(.milliseconds(999))) == .milliseconds(1))
        #expect(table.take(1, now: t0.adding(.seconds(1))) == nil)
        #expect(table.take(1, now: t0.adding(.seconds(1))) == .seconds(1))
        #expect((0..<3).map { _ in table.take(1, now: t0.adding(.seconds(60))) } == [nil, nil, nil], "whole again after a quiet time")
    }

    @Test func theTableIsBounded() {
        var table = RateTable<Int>(perMinute: 1, burst: 1, maximumKeys: 4)
        for key in 0..<100 { #expect(table.take(key, now: t0) == nil) }
        #expect(table.count == 4, "the least recently charged go first")
        #expect(table.take(99, now: t0) != nil, "the newest is still held")
    }
}

/// The policy in a first ring's engine: deferred admissions are counted, and a ban from the
/// admin route is saved and leaves the next directory at once.
@Suite struct AdmissionEngineTests {
    @Test func aDeferredRelayIsCountedAndABanLeavesTheNextDirectory() throws {
        var wire = EngineWire()
        let ring = wire.addRelay(1) { $0.admission = AdmissionPolicy(newRelaysPerPeriod: 1) }
        let first = EngineWire.address(1)
        let b = wire.addRelay(2, firstRing: ring), c = wire.addRelay(3, firstRing: ring)
        wire.advance(by: .seconds(2))
        let listed = { (wire: EngineWire) in Set(wire.relays[first]!.directory?.descriptors.map(\.id) ?? []) }
        #expect(listed(wire).count == 2, "the ring and one new relay: one new relay a period")
        wire.advance(by: .seconds(30))
        #expect(wire.relays[first]!.counters.admissionsDeferred == 1, "the other answered, but waited in vain")
        #expect(wire.relays[first]!.counters.challengesFailed == 0)
        // It uploads again 40 s after its accepted upload, is refused (the period's one new relay
        // is listed; this wire's HTTP says 422 with no Retry-After, so it waits a period), and
        // gets in when it tries after that.
        wire.advance(by: .seconds(90))
        #expect(listed(wire) == [ring.relayID, b.relayID, c.relayID], "later it uploaded again and got in")

        wire.events.removeAll()
        guard case let .admission(lists, _) = wire.command(.changeAdmission(.ban(b.relayID)), at: first) else {
            Issue.record("ban refused")
            return
        }
        #expect(lists.banned == [b.relayID])
        #expect(wire.events.contains { if case .saveAdmission(lists) = $0 { true } else { false } }, "saved")
        wire.advance(by: .seconds(1))
        #expect(listed(wire) == [ring.relayID, c.relayID], "gone from the next directory")
        guard case .notFirstRing = wire.command(.readAdmission, at: EngineWire.address(2)) else {
            Issue.record("a relay that is no first ring has no admission lists")
            return
        }
    }
}

/// A relay whose upload is refused waits as the first ring says (`Retry-After` on a 429, a
/// period on another refusal) instead of asking again every second.
@Suite struct UploadBackoffTests {
    /// A relay trusting a first ring at 10.0.0.1 with a 60 s period, started; the upload it sent.
    static func relay(now: UnixTime) throws -> (RelayEngine, FetchRequest) {
        var rng = SeededRandom(seed: "backoff")
        let ringKey = SigningPrivateKey(using: &rng)
        let roster = Roster(members: [Roster.Member(identityKey: ringKey.publicKey, udp: "10.0.0.1:6690", http: "http://10.0.0.1:6691")])
        let configuration = RelayEngine.Configuration(
            identity: SigningPrivateKey(using: &rng), linkKey: AgreementPrivateKey(using: &rng), roster: roster,
            network: NetworkParameters(coverRate: 1, meanDelayMs: 10), directoryPeriod: .seconds(60),
            advertisedUDP: "10.0.0.2:6690", advertisedHTTP: "http://10.0.0.2:6691",
            mailbox: MailboxStore.Limits(ttl: .seconds(60), maxMessagesPerQueue: 10, maxMailboxes: 10, maxTotalBytes: 1 << 20),
            keyPeriod: .seconds(3_600), keyGrace: .seconds(60))
        var engine = RelayEngine(configuration: configuration, now: now, rng: &rng)
        var effects = NodeEffects<RelayEngine.Event>()
        engine.start(now: now, rng: &rng, effects: &effects)
        let upload = try #require(effects.fetches.first { $0.url.hasSuffix("/v1/descriptors") })
        return (engine, upload)
    }

    /// When the relay next uploads after its upload was answered `status` (`retryAfter`), in
    /// whole seconds from the answer (checked each second, at most 120).
    static func nextUpload(status: Int, retryAfter: String?) throws -> Int? {
        let start = UnixTime(seconds: 1_800_000_000)
        var (engine, upload) = try relay(now: start)
        var rng = SeededRandom(seed: "backoff turns")
        var effects = NodeEffects<RelayEngine.Event>()
        engine.fetched(FetchResponse(id: upload.id, status: status, headers: retryAfter.map { ["retry-after": $0] } ?? [:]),
                       now: start, rng: &rng, effects: &effects)
        for second in 1...120 {
            var effects = NodeEffects<RelayEngine.Event>()
            engine.tick(now: start.adding(.seconds(second)), rng: &rng, effects: &effects)
            if effects.fetches.contains(where: { $0.url.hasSuffix("/v1/descriptors") }) { return second }
        }
        return nil
    }

    @Test(arguments: [(429, "7", 7), (429, "3600", 60), (429, nil, 60), (409, nil, 60), (403, nil, 60), (503, nil, 1)])
    func refusedUploadsWait(status: Int, retryAfter: String?, seconds: Int) throws {
        #expect(try Self.nextUpload(status: status, retryAfter: retryAfter) == seconds)
    }
}
