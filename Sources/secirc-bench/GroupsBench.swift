import ArgumentParser
import Foundation
import SecIRCCore
import SecIRCCrypto

/// Groups in one process, no network (issue 13): what a post costs its sender (deposits, CPU)
/// and each member (CPU to read it), what a client's store adds to each (the parts of the
/// member's state a post changes, found and encoded: `GroupSession.stateChange(from:)`; and the
/// whole state, encoded and decoded: `GroupSession.state`), and what a removal costs the admin and each member
/// that stays (the rekey, and reading everyone's new chain), for groups of each size. No C
/// reference and no mixnet: `secirc-sim --group-size` measures groups through a network.
struct GroupsBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "groups",
        abstract: "Group post and removal costs in one process; last line: group_deposits_per_post_<largest> <n>.")

    @Option(help: "Group sizes (members), comma-separated, each 2…1000.")
    var sizes: String = "10,100,1000"

    @Option(help: "Posts timed per size; medians are reported.")
    var posts: Int = 200

    @Option(help: "Also a group of this many clients on a devnet of real processes (3 relays; 0: none; 2…20).")
    var devnet: Int = 0

    @Option(name: .customLong("devnet-posts"), help: "Posts timed on the devnet, one at a time.")
    var devnetPosts: Int = 30

    @Option(name: .customLong("devnet-cover"), help: "The devnet clients' cover traffic: off or balanced.")
    var devnetCover = "off"

    func run() throws {
        let groupSizes = sizes.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !groupSizes.isEmpty, groupSizes.allSatisfy({ (2...1000).contains($0) }) else { throw ValidationError("--sizes: 2…1000 each") }
        guard devnet == 0 || (2...20).contains(devnet), devnetPosts >= 1, ["off", "balanced"].contains(devnetCover) else {
            throw ValidationError("--devnet: 0 or 2…20; --devnet-posts ≥ 1; --devnet-cover off or balanced")
        }
        var rng = SeededRandom(seed: "secirc-bench groups")
        let now = UnixTime(seconds: 1_800_000_000)
        var last = (size: 0, deposits: 0)
        print("size  deposits/post  post_bytes  sender_us/post  member_us/post  change_bytes/post  change_us/post  state_bytes  state_save_us  state_load_us  removal_admin_ms  removal_member_ms")
        for size in groupSizes {
            let people = (0..<size).map { _ in SessionSetup.Identity(using: &rng) }
            let identities = people.map { GroupIdentity(signing: $0.signing.publicKey, agreement: $0.agreement.publicKey) }
            let first = min(size - 1, 900)
            var (admin, created) = try GroupSession.create(groupKey: SigningPrivateKey(using: &rng), name: "bench", identity: people[0],
                                                           others: Array(identities[1...first]), now: now, rng: &rng)
            var mailbox = created.deposits.map(\.body)
            if size - 1 > first {
                // Update 0 holds at most 980 others: the rest come in one more update (a new epoch).
                mailbox = try admin.change(identities[(first + 1)...].map { .add($0, .member) }, now: now, rng: &rng).deposits.map(\.body)
            }
            // Every member joins from the newest roster and epoch (as if caught up).
            let newest = GroupInvitation(roster: admin.roster, epoch: admin.epoch)
            var members: [GroupSession] = []
            for person in people.dropFirst() {
                guard let (session, joined) = GroupSession.join(newest, identity: person, now: now, rng: &rng) else {
                    throw ValidationError("a member could not join")
                }
                members.append(session)
                mailbox += joined.deposits.map(\.body)
            }
            // Every member posts once, so that it announces its chain (a chain goes out with a
            // member's first post in an epoch) and moves to the next epoch with a new one: the
            // group where everyone talks, the most a reader holds.
            for index in members.indices {
                mailbox += try members[index].post(Array("hello from \(index)".utf8), now: now, rng: &rng).deposits.map(\.body)
            }
            // bob (member 0) reads everyone's chain and first post, the admin too.
            var bob = members[0]
            var answered = GroupAnswerLog() // nobody asks for anything here
            for body in mailbox {
                _ = bob.receive(body, now: now, rng: &rng, answered: &answered)
                _ = admin.receive(body, now: now, rng: &rng, answered: &answered)
            }

            // A post: what the admin deposits, and what bob spends reading it.
            var deposits = 0, bytes = 0
            var senderTimes: [Double] = [], memberTimes: [Double] = [], changeTimes: [Double] = [], changeBytes: [Int] = []
            for i in 0..<posts {
                var output = GroupSession.Output()
                senderTimes.append(try Self.time { output = try admin.post(Array("post \(i): a short message to the group".utf8), now: now, rng: &rng) })
                deposits = output.deposits.count
                bytes = output.deposits.reduce(0) { $0 + $1.body.count }
                let bodies = output.deposits.map(\.body)
                var shown = 0
                // Marked stored, as the messenger marks the session it keeps after a save.
                bob.markStored(UInt64(i) + 1)
                let before = bob
                memberTimes.append(Self.time { for body in bodies { shown += bob.receive(body, now: now, rng: &rng, answered: &answered).shown.count } })
                guard shown == 1 else { throw ValidationError("bob did not show post \(i)") }
                // What a store writes for it: the parts that changed.
                var change = GroupSession.StateChange()
                changeTimes.append(Self.time { change = bob.stateChange(from: before) })
                changeBytes.append(change.written.reduce(0) { $0 + $1.key.count + $1.value.count })
            }

            // What a client's store adds per change: the member's state encoded (saved) and decoded.
            var state: [UInt8] = []
            let saveTimes = (0..<20).map { _ in Self.time { state = bob.state } }
            let loadTimes = try (0..<20).map { _ in try Self.time { _ = try GroupSession(state: state, identity: people[1]) } }

            // A removal: the admin's update and rekey; then bob takes them and reads every other
            // member's new chain (they all move to the new epoch).
            var removal = GroupSession.Output()
            let adminTime = try Self.time { removal = try admin.remove(identities[size - 1].signing, now: now, rng: &rng) }
            var chains: [[UInt8]] = []
            for index in 1..<(members.count - 1) {
                var other = members[index]
                for body in removal.deposits.map(\.body) { chains += other.receive(body, now: now, rng: &rng, answered: &answered).deposits.map(\.body) }
            }
            chains += removal.deposits.map(\.body)
            let memberTime = Self.time {
                for body in removal.deposits.map(\.body) + chains { _ = bob.receive(body, now: now, rng: &rng, answered: &answered) }
            }
            guard bob.epoch.number == admin.epoch.number else { throw ValidationError("bob did not follow the rekey") }
            print(String(format: "%4d  %13d  %10d  %14.1f  %14.1f  %17d  %14.1f  %11d  %13.1f  %13.1f  %16.1f  %17.1f", size, deposits,
                         bytes, Self.median(senderTimes) * 1e6, Self.median(memberTimes) * 1e6, changeBytes.sorted()[changeBytes.count / 2],
                         Self.median(changeTimes) * 1e6, state.count, Self.median(saveTimes) * 1e6,
                         Self.median(loadTimes) * 1e6, adminTime * 1e3, memberTime * 1e3))
            last = (size, deposits)
        }
        if devnet > 0 {
            let figures = try runDevnet(size: devnet, posts: devnetPosts, cover: devnetCover)
            print("devnet: 3 relays, \(devnet) clients in the group, \(figures.posts) posts by the first, one at a time, "
                  + "cover traffic \(devnetCover), mean per-hop delay security.yaml's")
            print("size  packets/post  reach99_p50_ms  reach99_p99_ms  sender_cpu_ms/post  member_cpu_ms/post")
            print(String(format: "%4d  %12.2f  %14.1f  %14.1f  %18.2f  %18.2f", devnet, figures.packetsPerPost, percentile(figures.reach99, 0.5),
                         percentile(figures.reach99, 0.99), figures.senderCPUms, figures.memberCPUms))
        }
        print("group_deposits_per_post_\(last.size) \(last.deposits)")
    }

    static func time(_ body: () throws -> Void) rethrows -> Double { try DirectoryBench.time(body) }

    static func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
}
