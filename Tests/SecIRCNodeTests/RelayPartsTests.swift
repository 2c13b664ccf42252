import SecIRCCore
import SecIRCCrypto
import SecIRCNode
import SecIRCTransport
import Testing

@Suite struct MailboxStoreTests {
    static let limits = MailboxStore.Limits(ttl: .seconds(60), maxMessagesPerQueue: 3, maxQueuesPerMailbox: 2, maxMailboxes: 2,
                                            maxTotalBytes: 100, intro: MailboxStore.Intro(maxMessages: 4, perMinute: 60, burst: 2),
                                            unclaimed: MailboxStore.Unclaimed(ttl: .seconds(10), perLink: 2, total: 3))
    let a = Self.bytes(1)
    let b = Self.bytes(2)
    let c = Self.bytes(3)
    let q1 = Self.bytes(11)
    let q2 = Self.bytes(12)
    let q3 = Self.bytes(13)
    let link = IncomingLink.relay(ID(rawValue: Self.bytes(100)))
    let otherLink = IncomingLink.relay(ID(rawValue: Self.bytes(101)))
    let t0 = UnixTime(seconds: 1_000)

    static func bytes(_ v: UInt8) -> Bytes32 { try! Bytes32(Array(repeating: v, count: 32)) }

    /// A store where `a` is registered with queues `q1` and `q2`.
    func registered(_ limits: MailboxStore.Limits = Self.limits) -> MailboxStore {
        var store = MailboxStore(limits: limits)
        let r1 = store.register(a, now: t0)
        #expect(r1)
        let r2 = store.apply([.add(q1), .add(q2)], to: a, now: t0)
        #expect(r2.isEmpty)
        return store
    }

    @Test func deliverFetchAcknowledge() {
        var store = registered()
        let first2 = [store.deliver([1], to: q1, from: link, now: t0), store.deliver([2], to: q1, from: link, now: t0)]
        #expect(first2 == [.stored(mailbox: a), .stored(mailbox: a)])
        let first = store.fetch(a, ackThrough: 0, limit: 1)
        #expect(first.messages.map(\.body) == [[1]])
        #expect(first.remaining == 1)
        let again = store.fetch(a, ackThrough: 0, limit: 10)
        #expect(again.messages.map(\.sequence) == [1, 2], "unacknowledged mail is fetched again")
        let after = store.fetch(a, ackThrough: 2, limit: 10)
        #expect(after.messages.isEmpty && after.remaining == 0)
        #expect(store.messageCount == 0 && store.totalBytes == 0)
        #expect(store.mailboxCount == 1 && store.queues(of: a) == 2, "a registered mailbox stays known when empty")
    }

    @Test func sequenceNumbersAreNeverReusedSoALateAckCannotDeleteNewMail() {
        var store = MailboxStore(limits: Self.limits, firstSequence: 1_000)
        _ = store.register(a, now: t0)
        _ = store.deliver([1], to: a, from: link, now: t0)
        let first = store.fetch(a, ackThrough: 0, limit: 10)
        #expect(first.messages.map(\.sequence) == [1_000])
        let r3 = store.fetch(a, ackThrough: 1_000, limit: 10)
        #expect(r3.messages.isEmpty)
        _ = store.deliver([2], to: a, from: link, now: t0.adding(.seconds(1)))
        // The owner acknowledges 1,000 again (its acknowledgement was lost): the new mail stays.
        let again = store.fetch(a, ackThrough: 1_000, limit: 10)
        #expect(again.messages.map(\.sequence) == [1_001])
    }

    @Test func everyCapIsEnforcedAndNamed() {
        var store = registered()
        var results: [MailboxStore.Deposit] = []
        for i in 0..<3 { results.append(store.deliver([UInt8(i)], to: q1, from: link, now: t0)) }
        results.append(store.deliver([9], to: q1, from: link, now: t0))
        results.append(store.deliver([UInt8](repeating: 0, count: 98), to: q2, from: link, now: t0))
        #expect(results == [.stored(mailbox: a), .stored(mailbox: a), .stored(mailbox: a), .dropped(.queueFull), .dropped(.storeFull)])
        #expect(store.totalBytes == 3)
        let r4 = store.register(b, now: t0)
        #expect(r4)
        let r5 = store.register(c, now: t0)
        #expect(!r5 || store.mailboxCount == 2, "at the limit an empty mailbox makes room, or the new one is refused")
        let r6 = store.apply([.add(q3)], to: a, now: t0)
        #expect(r6 == [.queueLimit], "two queues per mailbox")
    }

    @Test func aContactFloodingItsQueueFillsThatQueueAlone() {
        var store = registered(MailboxStore.Limits(ttl: .seconds(60), maxMessagesPerQueue: 50, maxMailboxes: 10, maxTotalBytes: 1 << 20))
        var refused = 0
        for i in 0..<1_000 where store.deliver([UInt8(i & 0xff)], to: q1, from: link, now: t0) == .dropped(.queueFull) { refused += 1 }
        #expect(refused == 950)
        let r7 = store.deliver([42], to: q2, from: link, now: t0)
        #expect(r7 == .stored(mailbox: a), "another contact's queue still takes mail")
        let r8 = store.deliver([43], to: a, from: link, now: t0)
        #expect(r8 == .stored(mailbox: a), "so does the introduction queue")
    }

    @Test func theIntroductionQueueHasARateAndACap() {
        var store = registered()
        var burst: [MailboxStore.Deposit] = []
        for i in 0..<3 { burst.append(store.deliver([UInt8(i)], to: a, from: link, now: t0)) }
        #expect(burst == [.stored(mailbox: a), .stored(mailbox: a), .dropped(.introRate)])
        let r9 = store.deliver([3], to: q1, from: link, now: t0)
        #expect(r9 == .stored(mailbox: a), "a contact queue has no rate")
        // One a second on average (60 a minute).
        let r10 = store.deliver([4], to: a, from: link, now: t0.adding(.seconds(1)))
        #expect(r10 == .stored(mailbox: a))
        let r11 = store.deliver([5], to: a, from: link, now: t0.adding(.seconds(2)))
        #expect(r11 == .stored(mailbox: a))
        let r12 = store.deliver([6], to: a, from: link, now: t0.adding(.seconds(10)))
        #expect(r12 == .dropped(.introFull), "four at most")
    }

    @Test func depositsToNoKnownAddressAreBoundedPerLinkAndExpireSoon() {
        var store = registered()
        var junk: [MailboxStore.Deposit] = []
        for i in 0..<3 { junk.append(store.deliver([UInt8(i)], to: Self.bytes(200 + UInt8(i)), from: link, now: t0)) }
        #expect(junk == [.held, .held, .dropped(.unclaimedLink)])
        let r13 = store.deliver([7], to: Self.bytes(210), from: otherLink, now: t0)
        #expect(r13 == .held)
        let r14 = store.deliver([8], to: Self.bytes(211), from: .host(try! SocketAddress(numeric: "127.0.0.9:1").hostPrefix), now: t0)
        #expect(r14 == .dropped(.unclaimedFull))
        #expect(store.unclaimedCount == 3 && store.totalBytes == 3)
        let r15 = store.deliver([9], to: q1, from: link, now: t0)
        #expect(r15 == .stored(mailbox: a), "real mail is still taken")
        let expired = store.expire(now: t0.adding(.seconds(10)))
        #expect(expired[.unclaimedExpired] == 3)
        #expect(store.unclaimedCount == 0 && store.totalBytes == 1)
        let r16 = store.deliver([1], to: Self.bytes(212), from: link, now: t0.adding(.seconds(10)))
        #expect(r16 == .held, "the link's bound is free again")
    }

    @Test func aRegistrationClaimsWhatCameBeforeIt() {
        var store = MailboxStore(limits: Self.limits)
        let r17 = store.deliver([1], to: a, from: link, now: t0)
        #expect(r17 == .held, "before the owner's first fetch (a restarted relay)")
        let r18 = store.deliver([2], to: q1, from: otherLink, now: t0)
        #expect(r18 == .held)
        let r19 = store.register(a, now: t0)
        #expect(r19)
        #expect(store.depth(of: a) == 1)
        let r20 = store.apply([.add(q1)], to: a, now: t0)
        #expect(r20.isEmpty)
        let r21 = store.fetch(a, ackThrough: 0, limit: 10)
        #expect(r21.messages.map(\.body) == [[1], [2]])
        #expect(store.unclaimedCount == 0)
    }

    /// Claimed deposits over the queue's cap are dropped and counted, never silently.
    @Test func claimedDepositsOverTheCapAreCounted() {
        var limits = Self.limits
        limits.maxMessagesPerQueue = 1
        limits.unclaimed = MailboxStore.Unclaimed(ttl: .seconds(10), perLink: 8, total: 8)
        var store = MailboxStore(limits: limits)
        for body in 1...3 { _ = store.deliver([UInt8(body)], to: q1, from: link, now: t0) }
        #expect(store.unclaimedCount == 3)
        let registered = store.register(a, now: t0)
        #expect(registered)
        let refusals = store.apply([.add(q1)], to: a, now: t0)
        #expect(refusals.isEmpty)
        #expect(store.takeClaimDrops() == [.queueFull: 2])
        #expect(store.takeClaimDrops().isEmpty, "taken once")
        #expect(store.fetch(a, ackThrough: 0, limit: 10).messages.map(\.body) == [[1]])
        #expect(store.unclaimedCount == 0 && store.totalBytes == 1)
    }

    @Test func queueOpsAddCloseAndClear() {
        var store = registered()
        _ = store.deliver([1], to: q1, from: link, now: t0)
        let r22 = store.apply([.close(q1)], to: a, now: t0)
        #expect(r22.isEmpty)
        #expect(store.queues(of: a) == 1)
        let r23 = store.deliver([2], to: q1, from: link, now: t0)
        #expect(r23 == .held, "a closed queue is no address")
        let r24 = store.fetch(a, ackThrough: 0, limit: 10)
        #expect(r24.messages.map(\.body) == [[1]], "what it held stays")
        let r25 = store.apply([.clear, .add(q3)], to: a, now: t0)
        #expect(r25.isEmpty)
        #expect(store.queues(of: a) == 1)
        let r26 = store.deliver([3], to: q2, from: otherLink, now: t0)
        #expect(r26 == .held)
        let r27 = store.deliver([4], to: q3, from: otherLink, now: t0)
        #expect(r27 == .stored(mailbox: a))
        // Another owner cannot take a queue ID that is registered, nor a mailbox ID.
        let r28 = store.register(b, now: t0)
        #expect(r28)
        let r29 = store.apply([.add(q3), .add(a)], to: b, now: t0)
        #expect(r29 == [.queueTaken, .queueTaken])
        let r30 = store.apply([.close(q3), .clear], to: b, now: t0)
        #expect(r30.isEmpty)
        #expect(store.queues(of: a) == 1, "nor close another's")
    }

    @Test func oldMailExpiresAndIdleMailboxesAreForgotten() {
        var store = registered()
        _ = store.deliver([1], to: q1, from: link, now: t0)
        _ = store.deliver([2], to: q1, from: link, now: t0.adding(.seconds(30)))
        let r31 = store.expire(now: t0.adding(.seconds(59)))
        #expect(r31.isEmpty)
        let r32 = store.expire(now: t0.adding(.seconds(60)))
        #expect(r32 == [.expired: 1])
        #expect(store.depth(of: a) == 1)
        let r33 = store.expire(now: t0.adding(.seconds(100)))
        #expect(r33 == [.expired: 1])
        #expect(store.mailboxCount == 0 && store.queueCount == 0, "empty and unfetched for the TTL: forgotten with its queues")
    }

    @Test func atTheLimitTheLongestUnfetchedEmptyMailboxMakesRoom() {
        var store = MailboxStore(limits: Self.limits)
        let r34 = store.register(a, now: t0)
        #expect(r34)
        let r35 = store.register(b, now: t0.adding(.seconds(1)))
        #expect(r35)
        _ = store.deliver([1], to: b, from: link, now: t0)
        let r36 = store.register(c, now: t0.adding(.seconds(2)))
        #expect(r36, "a (empty, fetched longest ago) is forgotten")
        #expect(store.evicted == 1 && store.depth(of: b) == 1)
        _ = store.deliver([2], to: c, from: link, now: t0.adding(.seconds(2)))
        let r37 = store.register(a, now: t0.adding(.seconds(3)))
        #expect(!r37, "mailboxes that hold mail are never forgotten for room")
    }
}

@Suite struct OnionKeyRingTests {
    @Test func rotationKeepsPreviousForTheGraceWindow() {
        var rng = SeededRandom(seed: "ring")
        let t0 = UnixTime(seconds: 5_000)
        var ring = OnionKeyRing(period: .seconds(10), grace: .seconds(4), now: t0, rng: &rng)
        let first = ring.current.epoch
        #expect(ring.next.epoch == first + 1)
        #expect(ring.acceptedKeys.map(\.epoch) == [first, first + 1])
        #expect(ring.tick(now: t0.adding(.seconds(9)), rng: &rng).installed.isEmpty)

        let change = ring.tick(now: t0.adding(.seconds(10)), rng: &rng)
        #expect(change.installed.map(\.epoch) == [first + 2])
        #expect(change.retired.isEmpty)
        #expect(ring.acceptedKeys.map(\.epoch) == [first, first + 1, first + 2])

        let graceOver = ring.tick(now: t0.adding(.seconds(14)), rng: &rng)
        #expect(graceOver.retired == [first])
        #expect(ring.acceptedKeys.map(\.epoch) == [first + 1, first + 2])
    }

    @Test func forcedRotationsRetireOlderKeysAtOnce() {
        var rng = SeededRandom(seed: "forced")
        let t0 = UnixTime(seconds: 100)
        var ring = OnionKeyRing(period: .seconds(3_600), grace: .seconds(60), now: t0, rng: &rng)
        let e = ring.current.epoch
        _ = ring.rotate(now: t0, rng: &rng)
        let second = ring.rotate(now: t0, rng: &rng)
        #expect(second.retired == [e])
        #expect(ring.acceptedKeys.map(\.epoch) == [e + 1, e + 2, e + 3])
        #expect(ring.nextRotation == t0.adding(.seconds(3_600)))
    }

    @Test func descriptorEntriesPublishNextAPeriodAhead() {
        var rng = SeededRandom(seed: "entries")
        let ring = OnionKeyRing(period: .seconds(10), grace: .seconds(2), now: UnixTime(seconds: 1_000), rng: &rng)
        let entries = ring.descriptorEntries
        #expect(entries.map(\.validAfter) == [1_000, 1_010])
        #expect(entries.map(\.validUntil) == [1_012, 1_022])
        #expect(entries[1].key == ring.next.publicKey)
    }
}

@Suite struct DelayQueueTests {
    static func link(_ n: Int) -> IncomingLink { .host(try! SocketAddress(host: "10.0.0.\(n)", port: 1).hostPrefix) }

    @Test func releasesInDueOrderAndIsBounded() {
        var queue = DelayQueue(capacity: 3)
        let r = Bytes32.zero
        let t = UnixTime(seconds: 10)
        let pushed = [
            queue.push([3], to: r, due: t.adding(.milliseconds(30)), from: Self.link(1)),
            queue.push([1], to: r, due: t.adding(.milliseconds(10)), from: Self.link(2)),
            queue.push([2], to: r, due: t.adding(.milliseconds(10)), from: Self.link(3)),
            queue.push([4], to: r, due: t, from: Self.link(4)),
        ]
        #expect(pushed == [nil, nil, nil, .full])
        #expect(queue.nextDue == t.adding(.milliseconds(10)))
        #expect(queue.popDue(now: t) == nil)
        let now = t.adding(.milliseconds(30))
        var order: [UInt8] = []
        while let entry = queue.popDue(now: now) { order += entry.packet }
        #expect(order == [1, 2, 3])
        #expect(queue.isEmpty)
    }

    /// A link may add while it holds fewer than the free places: one alone fills half, the
    /// next a quarter, and what leaves gives its link room again.
    @Test func eachIncomingLinkGetsAFairShare() {
        var queue = DelayQueue(capacity: 8)
        let t = UnixTime(seconds: 10)
        func fill(_ link: IncomingLink) -> Int {
            var queued = 0
            while queue.push([1], to: .zero, due: t, from: link) == nil { queued += 1 }
            return queued
        }
        #expect(fill(Self.link(1)) == 4)
        #expect(queue.push([1], to: .zero, due: t, from: Self.link(1)) == .overShare)
        #expect(fill(Self.link(2)) == 2)
        #expect(fill(Self.link(3)) == 1)
        #expect(fill(Self.link(4)) == 1)
        #expect(queue.push([1], to: .zero, due: t, from: Self.link(5)) == .full)
        #expect(queue.linkCount == 4)
        while queue.popDue(now: t) != nil {}
        #expect(queue.linkCount == 0)
        #expect(fill(Self.link(2)) == 4)
    }
}

@Suite struct DirectoryAuthorityTests {
    @Test func signsChainedDirectoriesFromVerifiedUploads() throws {
        var rng = SeededRandom(seed: "authority")
        let ringKey = SigningPrivateKey(using: &rng)
        let roster = Roster(members: [Roster.Member(identityKey: ringKey.publicKey, udp: "127.0.0.1:1", http: "http://127.0.0.1:2")])
        var authority = DirectoryAuthority(identity: ringKey, roster: roster, network: NetworkParameters(coverRate: 1, meanDelayMs: 5),
                                           period: .seconds(60))
        let now = UnixTime(seconds: 10_000)
        let relayKey = SigningPrivateKey(using: &rng)
        let descriptor = RelayDescriptor(
            identityKey: relayKey.publicKey, linkKey: AgreementPrivateKey(using: &rng).publicKey, udp: "127.0.0.1:3",
            http: "http://127.0.0.1:4",
            onionKeys: [.init(epoch: 1, key: AgreementPrivateKey(using: &rng).publicKey, validAfter: 10_000, validUntil: 20_000)],
            capacity: 1, flags: [], published: 10_000)
        #expect(try authority.accept(descriptor.signed(by: relayKey), now: now) == .init(id: relayKey.publicKey.id, change: .challenged))
        #expect(authority.relayCount == 0 && authority.challenges.count == 1, "listed only once it answers at its address")
        let admitted = authority.admit(relayKey.publicKey.id, now: now)
        #expect(admitted)
        #expect(try authority.accept(descriptor.signed(by: relayKey), now: now).change == .refreshed)
        // Another relay that never answers goes after the challenge time, unlisted.
        let silentKey = SigningPrivateKey(using: &rng)
        var silent = descriptor
        silent.identityKey = silentKey.publicKey
        #expect(throws: DirectoryAuthority.UploadError.self, "one relay per endpoint") { try authority.accept(silent.signed(by: silentKey), now: now) }
        silent.udp = "127.0.0.1:5"
        silent.linkKey = AgreementPrivateKey(using: &rng).publicKey
        #expect(try authority.accept(silent.signed(by: silentKey), now: now).change == .challenged)
        let early = authority.expireChallenges(now: now.adding(authority.challengeTimeout - .seconds(1)))
        let due = authority.expireChallenges(now: now.adding(authority.challengeTimeout))
        #expect(early.isEmpty && due == [silentKey.publicKey.id])
        #expect(authority.relayCount == 1 && authority.challenges.isEmpty)

        var forged = try descriptor.signed(by: relayKey)
        forged.body[10] ^= 1
        #expect(throws: DirectoryAuthority.UploadError.self) { try authority.accept(forged, now: now) }
        #expect(throws: DirectoryAuthority.UploadError.stale) {
            try authority.accept(descriptor.signed(by: relayKey), now: now.adding(.seconds(3_600)))
        }
        for published in [Int64.min, Int64.max, -1] { // hostile timestamps are refused, not trapped on
            var odd = descriptor
            odd.published = published
            #expect(throws: DirectoryAuthority.UploadError.stale) { try authority.accept(odd.signed(by: relayKey), now: now) }
        }

        let (first, _) = authority.sign(now: now)
        let one = try Unverified<RelayDirectory>(first).verified(trusting: roster, now: now.seconds)
        #expect(one.relays.count == 1 && one.serial == 1 && one.previous == .zero)
        let (second, _) = authority.sign(now: now.adding(.seconds(60)))
        let two = try Unverified<RelayDirectory>(second).verified(trusting: roster, now: now.seconds + 60)
        try two.checkFollows(one, document: first)

        // Three periods without a refresh: the relay is left out.
        let (third, _) = authority.sign(now: now.adding(.seconds(181)))
        #expect(try Unverified<RelayDirectory>(third).verified(trusting: roster, now: now.seconds + 181).relays.isEmpty)
    }
}

@Suite struct LinkFrameTests {
    @Test func everyFrameRoundTripsAtFullLength() throws {
        var rng = SeededRandom(seed: "frames")
        let g = PacketGeometry.standard
        let key = SigningPrivateKey(using: &rng)
        let m = try Bytes32(rng.bytes(32))
        let frames: [LinkFrame] = [
            .padding, .sphinx(rng.bytes(g.sphinxPacketLength)), .fetchChallengeRequest(mailbox: m),
            .fetchChallenge(mailbox: m, nonce: m),
            .fetchRequest(mailboxKey: key.publicKey, nonce: m, ackThrough: 7, signature: key.sign([1])),
            .mailboxMessage(mailbox: m, sequence: 9, remaining: 2, body: rng.bytes(g.bodyLength)),
            .fetchDone(mailbox: m, status: .denied, remaining: 0, sent: 0), .unknown(LinkFrameKind(rawValue: 200)),
            .fetchRequest(mailboxKey: key.publicKey, nonce: m, ackThrough: 7, signature: key.sign([1]), subscribe: true,
                          queueOps: [.clear] + (0..<31).map { _ in QueueOp.add(Bytes32 { rng.fill($0) }) }),
            .fetchRequest(mailboxKey: key.publicKey, nonce: m, ackThrough: 0, signature: key.sign([2]), queueOps: [.close(m)]),
            .fetchRequest(mailboxKey: key.publicKey, nonce: m, ackThrough: 5, signature: key.sign([3]), subscribe: true, group: true),
            .fetchRequest(mailboxKey: key.publicKey, nonce: m, ackThrough: 5, signature: key.sign([3]), group: true),
            .fetchDone(mailbox: m, status: .wrongKind, remaining: 0, sent: 0),
            .fetchDone(mailbox: m, status: .ok, remaining: 3, sent: 32, subscribed: true, queues: 1_024),
        ]
        for frame in frames {
            let bytes = frame.encoded()
            #expect(bytes.count == g.linkFrameLength)
            #expect(try LinkFrame.decode(bytes) == frame)
        }
    }

    /// The queue ops of a fetch request: at most 32, codes 1 to 3; anything else is malformed.
    /// The signature covers them: a relay checking a request whose ops were changed refuses it.
    @Test func queueOpsAreBoundedAndSigned() throws {
        var rng = SeededRandom(seed: "ops")
        let key = SigningPrivateKey(using: &rng)
        let m = try Bytes32(rng.bytes(32))
        var bytes = LinkFrame.fetchRequest(mailboxKey: key.publicKey, nonce: m, ackThrough: 1, signature: key.sign([1]),
                                           queueOps: [.add(m)]).encoded()
        let count = 1 + 32 + 32 + 8 + 64 + 1
        #expect(bytes[count] == 1 && bytes[count + 1] == 1)
        bytes[count + 1] = 4
        #expect(throws: DecodeError.self) { try LinkFrame.decode(bytes) }
        bytes[count + 1] = 1
        bytes[count] = 33
        #expect(throws: DecodeError.self) { try LinkFrame.decode(bytes) }
        bytes[count] = 2 // the second op would be the zero padding: code 0
        #expect(throws: DecodeError.self) { try LinkFrame.decode(bytes) }
        let relay = try Bytes32(rng.bytes(32))
        let signed = LinkFrame.fetchSignedBytes(relay: relay, nonce: m, ackThrough: 1, queueOps: [.add(m)])
        let other = LinkFrame.fetchSignedBytes(relay: relay, nonce: m, ackThrough: 1, queueOps: [.close(m)])
        #expect(signed != other && signed.count == 23 + 32 + 32 + 8 + 1 + 33)
        #expect(LinkFrame.fetchSignedBytes(relay: relay, nonce: m, ackThrough: 1) == Array(signed.prefix(23 + 32 + 32 + 8)),
                "with no ops, the signed bytes of the first version")
    }

    @Test func wrongLengthsAndRandomFramesNeverTrap() {
        #expect(throws: DecodeError.incomplete(deficit: 1)) { try LinkFrame.decode([UInt8](repeating: 0, count: 1202)) }
        #expect(throws: DecodeError.trailingBytes(count: 1)) { try LinkFrame.decode([UInt8](repeating: 0, count: 1204)) }
        var rng = SeededRandom(seed: "frame fuzz")
        for _ in 0..<5_000 {
            var bytes = rng.bytes(PacketGeometry.standard.linkFrameLength)
            bytes[0] = UInt8.random(in: 0...7, using: &rng)
            _ = try? LinkFrame.decode(bytes)
            _ = try? LinkFrame.decode(rng.bytes(Int.random(in: 0...1300, using: &rng)))
        }
    }
}
