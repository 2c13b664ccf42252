@testable import SecIRCCore
import SecIRCCrypto
import Testing

/// `GroupSession.state` and its parts (the client's storage forms): sessions saved and restored at
/// many points of a group's life go on exactly as copies that never were; parts written only
/// where they changed add up to every part; the decoder refuses every truncation, oversized
/// count, wrong version, trailing byte and other member, and never traps; version-1 states (one
/// piece, before parts) still read.
@Suite struct GroupSessionStateTests {
    typealias Network = GroupSessionTests.Network
    static let t0 = GroupSessionTests.t0
    static let alice = GroupSessionTests.alice, bob = GroupSessionTests.bob, carol = GroupSessionTests.carol
    static let dave = GroupSessionTests.dave

    /// Two networks driven by the same steps from the same seed: in `restored` every session is
    /// saved and restored at each checkpoint; `plain` never is. What they deposit, show and drop
    /// must stay equal, and so must each member's state bytes.
    struct Lockstep {
        var plain: Network
        var restored: Network
        /// What the saved states held (to check that the interesting cases were saved).
        var seen: Set<String> = []
        /// Each member's parts as a store holds them: changed at each checkpoint by
        /// `stateChange(from:)` the session of the checkpoint before.
        var stored: [SigningPublicKey: (session: GroupSession, parts: [[UInt8]: [UInt8]])] = [:]
        /// Parts written by changes, and parts there were (changes write far fewer).
        var partsWritten = 0, partsHeld = 0
        var checkpoints = 0

        init(seed: String) {
            plain = Network(seed: seed)
            restored = Network(seed: seed)
        }

        mutating func run(_ step: (inout Network) throws -> Void) rethrows {
            try step(&plain)
            try step(&restored)
        }

        mutating func checkpoint(_ comment: Comment) throws {
            checkpoints += 1
            for member in restored.sessions.keys.sorted(by: { $0.bytes.lexicographicallyPrecedes($1.bytes) }) {
                let session = restored.sessions[member]!
                note(session)
                let state = session.state
                let change = session.stateChange(from: stored[member]?.session)
                var parts = change.isWhole ? [:] : stored[member]?.parts ?? [:]
                for key in change.removed { parts[key] = nil }
                parts.merge(change.written) { $1 }
                let all = session.stateParts
                let sameParts = parts == all
                #expect(sameParts, "the parts written where they changed are every part: \(comment)")
                if stored[member] != nil { (partsWritten, partsHeld) = (partsWritten + change.written.count, partsHeld + all.count) }
                let fromParts = try GroupSession(parts: parts, identity: restored.people[member]!).state == state
                #expect(fromParts, comment)
                var back = try GroupSession(state: state, identity: restored.people[member]!)
                // Marked stored, as the messenger marks what it keeps: the next change is found
                // from the chains touched since (the parts checked above each time).
                back.markStored(UInt64(checkpoints))
                stored[member] = (back, parts)
                // Compared as Bools: the failure message would print every byte.
                let readsBack = back.state == state, sameAsPlain = plain.sessions[member]?.state == state
                #expect(readsBack, comment)
                #expect(sameAsPlain, "the same state as the copy never restored: \(comment)")
                restored.sessions[member] = back
            }
            compare(comment)
        }

        func compare(_ comment: Comment) {
            let sameDeposits = plain.mailboxes == restored.mailboxes, sameShown = plain.shown == restored.shown
            #expect(sameDeposits, "the same deposits, byte for byte: \(comment)")
            #expect(sameShown, "the same posts shown: \(comment)")
            #expect(plain.dropped == restored.dropped, "the same drops: \(comment)")
            #expect(plain.lost == restored.lost)
            #expect(Set(plain.sessions.keys) == Set(restored.sessions.keys))
            for (member, session) in plain.sessions {
                guard let other = restored.sessions[member] else { continue }
                let sameRosters = session.roster == other.roster && session.ledger.rosters == other.ledger.rosters
                let sameTimeline = session.timeline == other.timeline
                #expect(sameRosters, comment)
                #expect(session.epoch.number == other.epoch.number && session.epoch.hasSameSecret(as: other.epoch), comment)
                #expect(sameTimeline && session.sequence == other.sequence, comment)
            }
        }

        /// Which parts of a session are filled (through `@testable` access).
        mutating func note(_ session: GroupSession) {
            if session.previousEpoch != nil { seen.insert("previous epoch") }
            if session.receivers.entries.values.contains(where: { $0.receiver.skippedCount > 0 }) { seen.insert("skipped keys") }
            if !session.retiredChains.isEmpty { seen.insert("retired chains") }
            if !session.sentPosts.isEmpty { seen.insert("sent posts") }
            if session.rekeys.count == 2 { seen.insert("two rekeys") }
            if session.announcements.count == 2 { seen.insert("two announcements") }
            if session.awaitingRekey { seen.insert("awaiting rekey") }
            if session.awaitingRekeyAfterLoss { seen.insert("awaiting rekey after loss") }
            if session.lastWants != nil { seen.insert("last wants") }
            if !session.heldPosts.isEmpty { seen.insert("held posts") }
            if !session.heldUpdates.isEmpty { seen.insert("held updates") }
            if !session.heldRekeys.isEmpty { seen.insert("held rekeys") }
            if session.ledger.rosters.count > 1 { seen.insert("ledger history") }
            if !session.timeline.gaps.isEmpty { seen.insert("gaps") }
            if !session.isMember { seen.insert("not a member") }
        }
    }

    static func key(_ person: SessionSetup.Identity) -> SigningPublicKey { person.signing.publicKey }

    /// A group of three through posts, loss and resend requests, a join whose chain is lost, a
    /// removal seen halfway, more loss: every session saved and restored at each checkpoint.
    @Test func restoredSessionsGoOnExactlyAsTheOnesNeverSaved() throws {
        var step = Lockstep(seed: "state lockstep")
        try step.run { net in
            try net.create(admin: Self.alice, others: [Self.bob, Self.carol])
            net.people[Self.key(Self.dave)] = Self.dave
        }
        try step.checkpoint("created, nothing fetched")
        step.run { $0.settle() }
        try step.checkpoint("chains read")
        try step.run { net in
            for (i, person) in [Self.alice, Self.bob, Self.carol, Self.bob].enumerated() { try net.post(Self.key(person), "first \(i)") }
        }
        try step.checkpoint("posts deposited, not read")
        step.run { $0.settle() }
        try step.checkpoint("posts read")

        // A third of all deposits lost: posts skipped (their keys kept), gaps, requests.
        try step.run { net in
            net.lossRate = 0.35
            for i in 0..<9 { try net.post(Self.key([Self.alice, Self.bob, Self.carol][i % 3]), "lossy \(i)") }
            net.settle()
        }
        try step.checkpoint("after loss")
        step.run { net in
            for member in [Self.alice, Self.bob, Self.carol] {
                net.act(Self.key(member)) { session, rng in session.requestMissing(now: Self.t0, rng: &rng) }
            }
            net.settle()
        }
        try step.checkpoint("one request each")
        step.run { net in
            net.lossRate = 0
            net.recover()
        }
        try step.checkpoint("recovered")

        // dave joins; his chain is lost, so his first posts are held until he posts it again.
        try step.run { net in
            try net.act(Self.key(Self.alice)) { session, rng in try session.add(GroupSessionTests.identity(Self.dave), now: Self.t0, rng: &rng) }
            try net.post(Self.key(Self.dave), "dave 0")
            let mailbox = net.sessions[Self.key(Self.dave)]!.epoch.mailboxID
            let deposits = net.mailboxes[mailbox]!.count
            net.mailboxes[mailbox]!.remove(at: deposits - 2) // dave's chain, deposited just before his first post
            net.lost += 1
            try net.post(Self.key(Self.dave), "dave 1")
            net.settle()
            #expect(!net.texts(Self.key(Self.bob)).contains("dave 0"))
        }
        try step.checkpoint("dave's posts held for his chain")
        step.run { $0.recover() }
        try step.checkpoint("dave's chain asked for")
        try step.run { net in
            net.lossRate = 0.35
            for i in 0..<6 { try net.post(Self.key([Self.dave, Self.bob, Self.carol][i % 3]), "with dave \(i)") }
            net.settle()
            net.lossRate = 0
            net.recover()
        }
        try step.checkpoint("dave recovered")

        // carol is removed; bob reads the update but not yet the rekey.
        try step.run { net in
            try net.act(Self.key(Self.alice)) { session, rng in try session.remove(Self.key(Self.carol), now: Self.t0, rng: &rng) }
            let bob = Self.key(Self.bob)
            let mailbox = net.sessions[bob]!.epoch.mailboxID
            let from = net.cursors[bob, default: [:]][mailbox, default: 0]
            let first = net.mailboxes[mailbox]![from]
            net.cursors[bob, default: [:]][mailbox] = from + 1
            var answered = GroupAnswerLog()
            net.act(bob) { session, rng in session.receive(first, now: Self.t0, rng: &rng, answered: &answered) }
            #expect(net.sessions[bob]!.roster.members[Self.key(Self.carol)] == nil)
            #expect(!net.sessions[bob]!.canPost, "waiting for the rekey after carol left")
        }
        try step.checkpoint("bob between the update and the rekey")
        try step.run { net in
            net.settle()
            try net.post(Self.key(Self.bob), "carol gone")
            try net.post(Self.key(Self.dave), "carol gone too")
            net.settle()
        }
        try step.checkpoint("after the removal")
        try step.run { net in
            net.lossRate = 0.35
            for i in 0..<6 { try net.post(Self.key([Self.alice, Self.bob, Self.dave][i % 3]), "late \(i)") }
            net.settle()
            net.lossRate = 0
            net.recover()
        }
        try step.checkpoint("the end")

        try step.run { net in
            for i in 0..<6 { try net.post(Self.key([Self.alice, Self.bob, Self.dave][i % 3]), "final \(i)") }
            net.settle()
        }
        step.compare("after the last restore")
        let net = step.restored
        #expect(net.lost > 5, "the loss happened: \(net.lost)")
        for person in [Self.alice, Self.bob, Self.dave] {
            let texts = net.texts(Self.key(person))
            #expect(texts.count == Set(texts).count, "nothing shown twice")
            #expect(Set((0..<6).map { "final \($0)" }).isSubset(of: texts))
            #expect(texts.contains("dave 0") && texts.contains("dave 1") && texts.contains("carol gone"))
            #expect(net.sessions[Self.key(person)]!.epoch.number == 2)
        }
        #expect(!net.texts(Self.key(Self.dave)).contains { $0.hasPrefix("first") || $0.hasPrefix("lossy") }, "nothing from before his join")
        #expect(!net.texts(Self.key(Self.carol)).contains { $0.hasPrefix("late") || $0.hasPrefix("carol gone") || $0.hasPrefix("final") })
        #expect(Set(net.texts(Self.key(Self.alice))).isSuperset(of: (0..<4).map { "first \($0)" }))
        let wanted: Set = ["previous epoch", "skipped keys", "retired chains", "sent posts", "two rekeys", "two announcements",
                           "awaiting rekey", "awaiting rekey after loss", "last wants", "held posts", "ledger history", "gaps",
                           "not a member"]
        #expect(wanted.isSubset(of: step.seen), "never saved: \(wanted.subtracting(step.seen).sorted())")
        #expect(step.partsWritten * 2 < step.partsHeld, "changes write few parts: \(step.partsWritten) of \(step.partsHeld)")
    }

    /// Reading a post in a group of 30 writes the head, the poster's chain and the poster's
    /// timeline stream: a few hundred bytes, not the whole state.
    @Test func aPostReadWritesThreeSmallParts() throws {
        var net = Network(seed: "parts of a post")
        let people = (0..<29).map { GroupSessionTests.person("member \($0)") }
        try net.create(admin: Self.alice, others: people)
        net.settle()
        // Everyone posts once, so alice holds every member's chain and stream.
        for person in people { try net.post(Self.key(person), "first") }
        net.settle()
        let poster = Self.key(people[3])
        try net.post(poster, "hello")
        var before = net.sessions[Self.key(Self.alice)]!
        var marked = before
        marked.markStored(42)
        net.sessions[Self.key(Self.alice)] = marked
        net.settle()
        let after = net.sessions[Self.key(Self.alice)]!
        #expect(net.texts(Self.key(Self.alice)).contains("hello"))
        let chain = try #require(after.receivers.entries.first { $0.value.member == poster }?.key)
        let expected: Set = [GroupSession.StatePart.head.key, GroupSession.StatePart.stream(poster).key,
                             GroupSession.StatePart.receiver(epoch: chain.epoch, chainID: chain.chainID).key]
        // Found by comparing every chain (against an unmarked copy), and from the chains touched
        // since it was marked stored: the same parts.
        #expect(after.receivers.touched == [chain])
        let compared = after.stateChange(from: before), tracked = after.stateChange(from: marked)
        #expect(compared.written == tracked.written && compared.removed == tracked.removed)
        before = marked
        let change = after.stateChange(from: before)
        #expect(Set(change.written.keys) == expected && change.removed.isEmpty && !change.isWhole)
        let written = change.written.values.reduce(0) { $0 + $1.count }, whole = after.state.count
        #expect(written < 1_000 && whole > 10 * written, "\(written) bytes written of \(whole)")
        #expect(after.stateChange(from: after).written.keys.sorted { $0.lexicographicallyPrecedes($1) } == [GroupSession.StatePart.head.key],
                "no change writes the head alone")
    }

    // MARK: Decoding

    /// A group of three after some posts, alice's session partway through loss: most parts filled.
    static func richState() throws -> (state: [UInt8], session: GroupSession) {
        var net = Network(seed: "rich state")
        net.repeats = false
        try net.create(admin: alice, others: [bob, carol])
        net.people[key(dave)] = dave
        net.settle()
        try net.act(key(alice)) { session, rng in try session.add(GroupSessionTests.identity(dave), now: t0, rng: &rng) }
        net.settle()
        net.lossRate = 0.4
        for i in 0..<12 { try net.post(key([alice, bob, carol, dave][i % 4]), "post \(i)") }
        net.settle()
        net.act(key(alice)) { session, rng in session.requestMissing(now: t0, rng: &rng) }
        let session = net.sessions[key(alice)]!
        return (session.state, session)
    }

    @Test func everyTruncationThrows() throws {
        let (state, _) = try Self.richState()
        var accepted: [Int] = []
        for length in 0..<state.count where (try? GroupSession(state: Array(state.prefix(length)), identity: Self.alice)) != nil {
            accepted.append(length)
        }
        #expect(accepted.isEmpty, "truncations that decoded: \(accepted.prefix(10))")
        #expect(throws: DecodeError.self) { try GroupSession(state: [], identity: Self.alice) }
    }

    @Test func aWrongVersionATrailingByteAndAnotherMemberThrow() throws {
        let (state, session) = try Self.richState()
        let back = try GroupSession(state: state, identity: Self.alice)
        #expect(back.state == state && back.roster == session.roster && back.timeline == session.timeline)
        var other = state
        other[0] = 3
        #expect(throws: DecodeError.invalidValue("group state version 3")) { try GroupSession(state: other, identity: Self.alice) }
        #expect(throws: DecodeError.trailingBytes(count: 1)) { try GroupSession(state: state + [0], identity: Self.alice) }
        #expect(throws: DecodeError.invalidValue("group state of another member")) { try GroupSession(state: state, identity: Self.bob) }
        // Alice's signing key with bob's X25519 key is not alice.
        let mixed = SessionSetup.Identity(signing: Self.alice.signing, agreement: Self.bob.agreement)
        #expect(throws: DecodeError.self) { try GroupSession(state: state, identity: mixed) }

        let parts = session.stateParts
        let head = GroupSession.StatePart.head.key, roster = GroupSession.StatePart.roster.key
        func refused(_ change: (inout [[UInt8]: [UInt8]]) -> Void) -> DecodeError? {
            var bad = parts
            change(&bad)
            do { _ = try GroupSession(parts: bad, identity: Self.alice) } catch { return error }
            return nil
        }
        #expect(refused { $0[head]![0] = 1 } == .invalidValue("group state head version 1"))
        #expect(refused { $0[head]![1] ^= 1 } == .invalidValue("group state roster of another group"))
        #expect(refused { $0[head]![97] = 0x20 } == .invalidValue("group state flags 32"))
        #expect(refused { $0[head] = nil } == .invalidValue("group state without its head or roster"))
        #expect(refused { $0[roster] = nil } == .invalidValue("group state without its head or roster"))
        #expect(refused { $0[head]!.append(0) } == .trailingBytes(count: 1))
        #expect(refused { $0[[5]] = [] } == .invalidValue("group state part kind 5"))
        #expect(refused { $0[[3, 1]] = [] } != nil, "a key of the wrong length")
        #expect(refused { $0[[]] = [] } != nil, "the empty key beside others")
        let receiver = try #require(parts.keys.first { $0.first == 2 })
        #expect(refused { $0[receiver]!.append(0) } == .trailingBytes(count: 1))
        // Parts out of order in the one piece.
        let layout = StateLayout(state)
        let first = try #require(layout.parts.first), second = try #require(layout.parts.dropFirst().first)
        var swapped = Array(state[..<first.lowerBound]) + Array(state[second]) + Array(state[first])
        swapped += state[second.upperBound...]
        #expect(throws: DecodeError.invalidValue("group state parts not ascending")) { try GroupSession(state: swapped, identity: Self.alice) }
    }

    /// A state written whole in version 1 (before parts) reads back, alone or as the part with
    /// the empty key a v4 store's state became; its truncations throw.
    @Test func versionOneStatesStillRead() throws {
        let (state, session) = try Self.richState()
        let v1 = session.stateVersion1
        #expect(v1[0] == 1 && v1.count > 1_000)
        #expect(try GroupSession(state: v1, identity: Self.alice).state == state)
        #expect(try GroupSession(parts: [[]: v1], identity: Self.alice).state == state)
        #expect(throws: DecodeError.invalidValue("group state of another member")) { try GroupSession(state: v1, identity: Self.bob) }
        var accepted: [Int] = []
        for length in stride(from: 0, to: v1.count, by: 7) where (try? GroupSession(state: Array(v1.prefix(length)), identity: Self.alice)) != nil {
            accepted.append(length)
        }
        #expect(accepted.isEmpty)
        #expect(throws: DecodeError.trailingBytes(count: 1)) { try GroupSession(state: v1 + [0], identity: Self.alice) }
    }

    /// Each count field set past its bound is refused as such (not read as entries until the
    /// input runs out).
    @Test func oversizedCountsThrowBeforeAnythingIsRead() throws {
        let (state, _) = try Self.richState()
        let fields = StateLayout(state)
        #expect(fields.end == state.count, "the layout walks the whole state")
        let names = Set(fields.counts.map(\.name))
        for name in ["parts", "part length", "ledger rosters", "snapshot length", "update length", "skipped", "own chains",
                     "retired chains", "announcements", "rekeys", "rekey length", "epoch members", "last wants length",
                     "held sequences", "recent", "held posts", "held rekeys", "held updates"] {
            #expect(names.contains(name), "\(name) in the walked state")
        }
        for field in fields.counts {
            var bad = state
            let value = field.bound + 1
            for i in 0..<field.width { bad[field.offset + i] = UInt8(truncatingIfNeeded: value >> (8 * (field.width - 1 - i))) }
            let error = #expect(throws: DecodeError.self, "\(field.name) of \(value)") {
                try GroupSession(state: bad, identity: Self.alice)
            }
            if let error, case .invalidValue = error {} else { Issue.record("\(field.name) of \(value): \(String(describing: error))") }
            var largest = state
            for i in 0..<field.width { largest[field.offset + i] = 0xFF }
            #expect(throws: DecodeError.self, "\(field.name) all ones") { try GroupSession(state: largest, identity: Self.alice) }
        }
    }

    /// Seeded random strings, and real states with a few bytes changed: each throws, or decodes
    /// to a session whose state reads back the same.
    @Test func randomInputNeverTraps() throws {
        let (state, _) = try Self.richState()
        var rng = SeededRandom(seed: "group state fuzz")
        var decoded = 0
        for _ in 0..<2_000 {
            var bytes = rng.bytes(Int.random(in: 0..<400, using: &rng))
            if Bool.random(using: &rng), !bytes.isEmpty { bytes[0] = GroupSession.stateVersion }
            #expect(throws: DecodeError.self) { try GroupSession(state: bytes, identity: Self.alice) }
        }
        for _ in 0..<3_000 {
            var bytes = state
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                bytes[Int.random(in: 97..<bytes.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            }
            guard let session = try? GroupSession(state: bytes, identity: Self.alice) else { continue }
            decoded += 1
            let again = session.state
            #expect(try GroupSession(state: again, identity: Self.alice).state == again)
        }
        #expect(decoded > 100, "changed secrets, sequences and clocks still decode: \(decoded)")
    }
}

/// The count and length fields of a state, found by walking the documented layout
/// (GroupSession+State.swift) with the counts the state holds.
struct StateLayout {
    struct Count {
        let name: String
        let offset: Int
        let width: Int
        /// The largest value the decoder takes.
        let bound: Int
    }

    private(set) var counts: [Count] = []
    /// Each part with its key and length fields.
    private(set) var parts: [Range<Int>] = []
    private(set) var end = 0
    private let bytes: [UInt8]

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
        end = 1
        for _ in 0..<count("parts", 4, bound: 2 + 2_000 + 1_001 + 1_000) {
            let start = end
            let key = Array(bytes[(end + 1)..<(end + 1 + Int(bytes[end]))])
            end += 1 + key.count
            let length = count("part length", 4, bound: 1 << 24)
            switch key.first {
            case 0: head()
            case 1: roster()
            case 2:
                end += 32 + 32 + 4 + 32
                end += count("skipped", 2, bound: 2_000) * (4 + 64)
            case 3:
                end += 16
                end += count("held sequences", 2, bound: 1_000) * 8
            default: end += length
            }
            parts.append(start..<end)
        }
    }

    private mutating func head() {
        end += 1 + 32 + 32 + 32
        let flags = bytes[end]
        end += 1
        end += flags & 1 != 0 ? 72 : 36
        end += 72 + 8
        end += count("own chains", 1, bound: 2) * 8
        if flags & 8 != 0 { end += count("last wants length", 4, bound: 464) }
        end += 8
        end += count("recent", 1, bound: 8) * 32
        for _ in 0..<count("held posts", 2, bound: 256) {
            end += 4
            end += count("held post length", 4, bound: 65_536 + GroupPost.fixedLength + 320 + SenderKeyFormat.overhead)
        }
        for _ in 0..<count("held rekeys", 2, bound: 256) { end += count("held rekey length", 4, bound: 48_209) }
        for _ in 0..<count("held updates", 2, bound: 256) { end += count("held update length", 4, bound: 65_536) }
    }

    private mutating func roster() {
        let rosters = count("ledger rosters", 1, bound: 16)
        end += count("snapshot length", 4, bound: 65_142)
        for _ in 1..<rosters { end += count("update length", 4, bound: 65_536) }
        end += count("announcements", 1, bound: 2) * GroupChain.encodedLength
        for _ in 0..<count("rekeys", 1, bound: 2) { end += count("rekey length", 4, bound: 48_209) }
        end += count("epoch members", 2, bound: 1_000) * 32
        end += count("retired chains", 2, bound: 2_000) * 8
    }

    /// Reads the count at `end`, notes it, and moves past it.
    private mutating func count(_ name: String, _ width: Int, bound: Int) -> Int {
        let value = bytes[end..<(end + width)].reduce(0) { $0 << 8 | Int($1) }
        counts.append(Count(name: name, offset: end, width: width, bound: bound))
        end += width
        return value
    }
}

extension GroupSession {
    /// The version-1 form (GroupSession+State.swift, decodeVersion1), as clients wrote it before
    /// parts: only tests write it now.
    var stateVersion1: [UInt8] {
        func chainKeys(_ keys: Set<ChainKey>, _ w: inout ByteWriter) {
            for key in keys.sorted(by: { ($0.epoch, $0.chainID) < ($1.epoch, $1.chainID) }) {
                w.write(key.epoch)
                w.write(key.chainID)
            }
        }
        let head = stateParts[StatePart.head.key]!
        var w = ByteWriter(capacity: 4096)
        w.write(UInt8(1))
        w.write(Array(head[1..<98])) // group ID, member keys, flags
        ledger.writeState(to: &w)
        writeEpochs(to: &w)
        chain.writeState(to: &w)
        w.write(sequence)
        w.write(UInt16(receivers.count))
        for (key, value) in receivers.entries.sorted(by: { ($0.key.epoch, $0.key.chainID) < ($1.key.epoch, $1.key.chainID) }) {
            w.write(key.epoch)
            w.write(key.chainID)
            w.write(value.member.rawValue)
            value.receiver.writeState(to: &w)
        }
        w.write(UInt8(ownChains.count))
        chainKeys(ownChains, &w)
        w.write(UInt16(retiredChains.count))
        chainKeys(retiredChains, &w)
        w.write(UInt16(sentPosts.count))
        for (sequence, sent) in sentPosts.sorted(by: { $0.key < $1.key }) {
            w.write(sequence)
            w.write(sent.epoch)
            w.writeLengthPrefixed(sent.message.encoded)
        }
        writeAnnouncements(to: &w)
        writeRekeys(to: &w)
        w.write(UInt16(epochMembers.count))
        for member in epochMembers.sorted(by: { $0.rawValue.lexicographicallyPrecedes($1.rawValue) }) { w.write(member.rawValue) }
        if let lastWants { w.writeLengthPrefixed(lastWants.encoded) }
        w.write(timeline.clock)
        w.write(UInt16(timeline.streams.count))
        for (member, stream) in timeline.streams.sorted(by: { $0.key.rawValue.lexicographicallyPrecedes($1.key.rawValue) }) {
            w.write(member.rawValue)
            w.write(GroupTimeline.part(stream))
        }
        timeline.writeRecent(to: &w)
        writeHeld(to: &w)
        return w.bytes
    }
}
