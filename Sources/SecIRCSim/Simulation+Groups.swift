import SecIRCCore
import SecIRCCrypto
import SecIRCNode

/// The group workload (issue 13): between windows, as the admin's user would through the API.
extension Simulation {
    /// The clients of the group workload: the admin (the first client), then the first members,
    /// then those who join later.
    var groupClients: [Int] { Array(options.relays..<min(options.relays + options.groupSize + options.groupJoins, nodes.count)) }
    var groupAdmin: Int { options.relays }

    /// The admin adds every client of the workload as a contact from its invite (again five
    /// seconds later for those not ready yet).
    func addGroupContacts() {
        let admin = nodes[groupAdmin]
        guard let messenger = admin.messenger, !messenger.mailboxes.isEmpty else {
            return globals.insert(.groupContacts, at: now.adding(.seconds(5)))
        }
        var waiting = false
        for j in groupClients.dropFirst() {
            let id = nodes[j].messenger!.identity.id
            if (try? messenger.contact(id: id)) != nil { continue }
            do {
                let invite = try nodes[j].messenger!.invite(now: now, rng: &nodes[j].random)
                _ = try messenger.addContact(inviteURI: invite.uri, name: "c\(j)", now: now, rng: &admin.random)
            } catch {
                waiting = true
            }
        }
        poke(groupAdmin)
        if waiting { globals.insert(.groupContacts, at: now.adding(.seconds(5))) }
    }

    func createGroup() {
        let admin = nodes[groupAdmin]
        let members = groupClients.dropFirst().prefix(options.groupSize - 1).map { nodes[$0].messenger!.identity.id }
        do {
            let view = try admin.messenger!.createGroup(name: "sim", members: Array(members), now: now, rng: &admin.random)
            admin.group = view.record.id
            groupJoinEpoch[groupAdmin] = 0
            for member in groupClients.dropFirst().prefix(options.groupSize - 1) { groupJoinEpoch[member] = 0 }
            admin.nextGroupPost = now.adding(admin.exponential(mean: options.groupPostInterval))
        } catch {
            admin.groupProblems += 1
        }
        poke(groupAdmin)
        let changes = options.groupRemovals + options.groupJoins + options.groupLeaves
        for i in 0..<changes {
            let at = workloadStart.adding(options.duration * Double(i + 1) / Double(changes + 1))
            globals.insert(.groupChange(i), at: at)
        }
    }

    /// Change `index`: removals and joins alternate (removals first) while both are left; every
    /// third change is a leave while leaves are left, and once the others are done.
    func changeGroup(_ index: Int) {
        let admin = nodes[groupAdmin]
        guard let group = admin.group, let view = try? admin.messenger!.group(id: group) else { return }
        var rng = BufferedRandom(seed: "\(options.seed)/group change \(index)")
        let removalsLeft = options.groupRemovals - groupRemovalsDone
        let joinsLeft = options.groupJoins - groupJoinsDone
        let remove = removalsLeft > 0 && (joinsLeft == 0 || index % 2 == 0)
        let leave = options.groupLeaves > groupLeavesDone && (index % 3 == 2 || removalsLeft + joinsLeft == 0)
        let candidates = view.roster.members.keys.compactMap { context.clientByID[$0.id] }.filter { $0 != groupAdmin }.sorted()
        do {
            if leave {
                guard let leaver = candidates.randomElement(using: &rng) else { return }
                let node = nodes[leaver]
                _ = try node.messenger!.leaveGroup(group, now: now, rng: &node.random)
                // It holds the current epoch until the admin's rekey: posts from the next one on
                // must not reach it.
                groupRemovedEpoch[leaver] = view.epoch + 1
                groupLeavesDone += 1
                poke(leaver)
                return
            }
            if remove {
                guard let victim = candidates.randomElement(using: &rng) else { return }
                let after = try admin.messenger!.removeFromGroup(group, member: nodes[victim].messenger!.identity.id, now: now,
                                                                 rng: &admin.random)
                groupRemovedEpoch[victim] = after.epoch
                groupRemovalsDone += 1
            } else if joinsLeft > 0 {
                let joiner = groupClients[options.groupSize + groupJoinsDone]
                let after = try admin.messenger!.addToGroup(group, contact: nodes[joiner].messenger!.identity.id, now: now,
                                                            rng: &admin.random)
                groupJoinEpoch[joiner] = after.epoch
                groupJoinsDone += 1
            }
        } catch {
            admin.groupProblems += 1
        }
        poke(groupAdmin)
    }

    private func poke(_ index: Int) {
        let node = nodes[index]
        var effects = NodeEffects<ClientEngine.Event>()
        _ = node.client!.handle(.outboxChanged, now: now, rng: &node.random, effects: &effects)
        node.apply(effects, now: now, context: context)
        collect(from: [index])
    }

    /// Who had to read each post and who must not have: a post is owed to every client in its
    /// poster's roster that joined in its epoch or before and is, like the poster, still in the
    /// group at the end; a client removed by a change that made the post's epoch or an earlier
    /// one must not show it.
    func groupReport() -> [(String, String)] {
        guard options.groupSize > 0, let group = nodes[groupAdmin].group,
              let final = try? nodes[groupAdmin].messenger!.group(id: group) else { return [("group", "not created")] }
        let members = Set(final.roster.members.keys.compactMap { context.clientByID[$0.id] })
        var posts = 0, owed = 0, lost = 0, leaked = 0
        var lostBy: [Int: Int] = [:]
        /// Posts some member never showed: when each was made (seconds into the workload), and how many missed it.
        var lostPosts: [(at: Double, missed: Int)] = []
        /// The first few (member, post) lost, with what the member holds of the poster at the end.
        var lostDetail: [String] = []
        var reach99: [Double] = []
        var arrivals: [Double] = []
        for poster in groupClients {
            for (number, post) in nodes[poster].groupPosts.enumerated() {
                posts += 1
                let key = SimNode.MessageKey(sender: poster, number: number)
                var times: [Double] = []
                let lostBefore = lost
                defer {
                    if lost > lostBefore {
                        lostPosts.append((Double(post.at.nanoseconds - workloadStart.nanoseconds) / 1e9, lost - lostBefore))
                    }
                }
                if members.contains(poster) {
                    for member in post.roster where member != poster && members.contains(member)
                        && (groupJoinEpoch[member] ?? .max) <= post.epoch {
                        owed += 1
                        if let at = nodes[member].groupArrivals[key] {
                            times.append(Double(at.nanoseconds - post.at.nanoseconds) / 1e6)
                        } else {
                            lost += 1
                            lostBy[member, default: 0] += 1
                            if lostDetail.count < 12 {
                                let state: String
                                do {
                                    state = try nodes[member].messenger!.groupReadingState(group, of: nodes[poster].messenger!.identity.id)
                                        ?? "nothing"
                                } catch {
                                    state = "nothing (\(error))"
                                }
                                let at = Int((Double(post.at.nanoseconds - workloadStart.nanoseconds) / 1e9).rounded())
                                lostDetail.append("c\(member - options.relays) missed g\(poster):\(number) (epoch \(post.epoch), t+\(at)s); "
                                    + "of c\(poster - options.relays) it holds: \(state)")
                            }
                        }
                    }
                }
                for (member, epoch) in groupRemovedEpoch where epoch <= post.epoch && nodes[member].groupArrivals[key] != nil { leaked += 1 }
                arrivals += times
                let needed = post.roster.filter { $0 != poster && members.contains($0) && (groupJoinEpoch[$0] ?? .max) <= post.epoch }.count
                if needed > 0, times.count * 100 >= needed * 99 {
                    times.sort()
                    reach99.append(times[max(0, Int((Double(needed) * 0.99).rounded(.up)) - 1)])
                }
            }
        }
        reach99.sort()
        arrivals.sort()
        func percentile(_ p: Double, of list: [Double]) -> String {
            list.isEmpty ? "0" : "\((list[min(list.count - 1, Int(Double(list.count) * p))] * 10).rounded() / 10)"
        }
        func percentile(_ p: Double) -> String { percentile(p, of: reach99) }
        let deposits = groupClients.reduce(0) { $0 + nodes[$1].groupPostDeposits }
        var lines: [(String, String)] = [
            ("group_members", "\(members.count)"),
            ("group_joined", "\(groupClients.count { nodes[$0].group != nil })"),
            ("group_epoch", "\(final.epoch)"),
            ("group_posts", "\(posts)"),
            ("group_owed", "\(owed)"),
            ("group_lost", "\(lost)"),
            ("group_leaked", "\(leaked)"),
            ("group_duplicated", "\(groupClients.reduce(0) { $0 + nodes[$1].groupDuplicated })"),
            ("group_deposits_per_post", "\((Double(deposits) / Double(max(posts, 1)) * 100).rounded() / 100)"),
            ("group_packets_per_post", "\((Double(deposits * 2) / Double(max(posts, 1)) * 100).rounded() / 100)"),
            ("group_packets_per_post_max", "\(2 * (groupClients.map { nodes[$0].groupPostDepositsMost }.max() ?? 0))"),
            ("group_arrival_p50_ms", percentile(0.5, of: arrivals)),
            ("group_arrival_p99_ms", percentile(0.99, of: arrivals)),
            ("group_reach99_p50_ms", percentile(0.5)),
            ("group_reach99_p99_ms", percentile(0.99)),
            ("group_posts_reaching_99pct", "\(reach99.count)"),
        ]
        if !lostBy.isEmpty {
            let worst = lostBy.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.prefix(8)
            lines.append(("group_lost_by_member", worst.map { "c\($0.key - options.relays):\($0.value)" }.joined(separator: ",")))
            lines.append(("group_lost_posts", lostPosts.sorted { $0.at < $1.at }.prefix(12)
                .map { "t+\(Int($0.at.rounded()))s:\($0.missed)" }.joined(separator: ",")))
            for (i, detail) in lostDetail.enumerated() { lines.append(("group_lost_detail_\(i)", detail)) }
        }
        // Invited clients that never joined, and where their invitation stands.
        let notJoined = groupJoinEpoch.keys.sorted().filter { nodes[$0].group == nil }
        if !notJoined.isEmpty {
            lines.append(("group_not_joined", notJoined.prefix(8).map { member in
                let waiting = (try? nodes[member].messenger!.groupInvitations()) ?? []
                let memberID = nodes[member].messenger!.identity.id
                // The admin's pairwise messages to it still waiting for a receipt (an invitation not delivered).
                let unanswered = ((try? nodes[groupAdmin].messenger!.dueOutbox(now: now.adding(.seconds(86_400 * 365)), limit: 100_000)) ?? [])
                    .filter { $0.contact == memberID && $0.kind == .groupControl }
                let ticket = ((try? nodes[member].messenger!.groupTicketWaits()) ?? []).first
                let state = if let ticket {
                    "its ticket for epoch \(ticket.epoch) waits for the snapshot: \(ticket.bodiesRead) bodies read, "
                        + "\(ticket.partial) messages begun\(ticket.asked ? ", asked for it" : "")"
                } else if !waiting.isEmpty {
                    "not taken"
                } else {
                    unanswered.isEmpty ? "no invitation" : "no invitation; the admin sent it \(unanswered.map(\.attempts).max() ?? 0) times"
                }
                return "c\(member - options.relays) (\(state))"
            }.joined(separator: ",")))
        }
        let catchUps = groupClients.compactMap { nodes[$0].messenger?.groupCatchUpCounts }
        lines.append(("group_catch_ups", "asked \(catchUps.reduce(0) { $0 + $1.asked }), answered \(catchUps.reduce(0) { $0 + $1.answered }), "
            + "taken \(catchUps.reduce(0) { $0 + $1.taken }) by \(catchUps.count { $0.taken > 0 }) members; "
            + "new tickets asked \(catchUps.reduce(0) { $0 + $1.ticketsAsked }), made \(catchUps.reduce(0) { $0 + $1.ticketsReissued })"))
        let deferred = groupClients.reduce(0) { $0 + nodes[$1].groupPostsDeferred }
        if deferred > 0 { lines.append(("group_posts_deferred", "\(deferred)")) }
        let problems = groupClients.reduce(0) { $0 + nodes[$1].groupProblems }
        if problems > 0 { lines.append(("group_problems", "\(problems)")) }
        return lines
    }
}
