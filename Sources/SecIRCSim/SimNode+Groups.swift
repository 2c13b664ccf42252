import SecIRCCore
import SecIRCCrypto
import SecIRCNode

/// One post of the group workload as its poster made it: enough to say afterwards who had to
/// read it and who must not have.
struct SimGroupPost: Sendable {
    var at: UnixTime
    /// The epoch it was encrypted in (a member joined in a later one cannot read it; one removed
    /// by the change that made this epoch or an earlier one must not).
    var epoch: UInt32
    /// The clients in the poster's roster then.
    var roster: Set<Int>
}

extension SimNode {
    /// The user accepts an invitation at once and starts posting.
    func acceptGroupInvitation(_ invitation: GroupInvitationRecord, now: UnixTime, context: SimContext) {
        guard let messenger else { return }
        do {
            _ = try messenger.acceptGroupInvitation(invitation.group, now: now, rng: &random)
        } catch {
            groupProblems += 1
            return
        }
        group = invitation.group
        if nextGroupPost == nil { nextGroupPost = now.adding(exponential(mean: context.options.groupPostInterval)) }
        var effects = NodeEffects<ClientEngine.Event>()
        _ = client!.handle(.outboxChanged, now: now, rng: &random, effects: &effects)
        apply(effects, now: now, context: context)
    }

    /// One post `g<index>:<number>` when the member may post (else a second later), then the next one's time.
    func postToGroup(at now: UnixTime, context: SimContext) {
        nextGroupPost = nil
        guard let group, let messenger, now < context.workloadEnd, let view = try? messenger.group(id: group), view.record.isMember else {
            return
        }
        guard view.canPost else {
            groupPostsDeferred += 1
            nextGroupPost = now.adding(.seconds(1))
            return
        }
        let before = (try? messenger.groupDeposits().count) ?? 0
        do {
            _ = try messenger.postToGroup(group, text: "g\(index):\(groupPosts.count)", now: now, rng: &random)
        } catch {
            groupProblems += 1
            nextGroupPost = now.adding(.seconds(1))
            return
        }
        let made = ((try? messenger.groupDeposits().count) ?? before) - before
        groupPostDeposits += made
        groupPostDepositsMost = max(groupPostDepositsMost, made)
        groupPosts.append(SimGroupPost(at: now, epoch: view.epoch,
                                       roster: Set(view.roster.members.keys.compactMap { context.clientByID[$0.id] })))
        let next = now.adding(exponential(mean: context.options.groupPostInterval))
        nextGroupPost = next < context.workloadEnd ? next : nil
        var effects = NodeEffects<ClientEngine.Event>()
        _ = client!.handle(.outboxChanged, now: now, rng: &random, effects: &effects)
        apply(effects, now: now, context: context)
    }

    func groupArrived(_ text: String, at time: UnixTime) {
        guard text.hasPrefix("g"), let colon = text.firstIndex(of: ":"),
              let sender = Int(text[text.index(after: text.startIndex)..<colon]), let number = Int(text[text.index(after: colon)...])
        else { return }
        let key = MessageKey(sender: sender, number: number)
        if groupArrivals[key] == nil { groupArrivals[key] = time } else { groupDuplicated += 1 }
    }
}
