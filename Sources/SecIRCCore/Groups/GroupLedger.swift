public import SecIRCCrypto

/// A member's view of a group's roster chain, with the rule that makes every member settle on
/// the same roster when two admins change it at once (issue 13).
///
/// Two valid updates with the same serial and the same previous are a fork. The one whose
/// author's key is lower (its 32 bytes compared as an unsigned big-endian number) wins; of two by
/// one author, the one with the lower hash. That holds whatever came after either and whichever
/// arrived first, and no one can change the outcome by re-signing variants of an update (as they
/// could under a hash order alone), since authors' keys are fixed. A member that had followed the other branch
/// goes back to the fork and applies the winner, and the updates it drops are handed back so
/// that their authors can sign them again on top. A member keeps the last ``depth`` rosters, so
/// forks up to that deep are settled; an update that forks deeper is ``Outcome/stale``.
public struct GroupLedger: Sendable {
    /// Rosters kept to settle forks.
    public static let depth = 16

    /// What receiving an update did.
    public enum Outcome: Equatable, Sendable {
        /// Applied on top (or, after a fork, in place of `dropped`, newest last). `removed` are
        /// the members the current roster lost: every remaining member rekeys (a fresh sender
        /// chain) before it sends again.
        case applied(dropped: [GroupUpdate], removed: Set<SigningPublicKey>)
        /// Already applied.
        case duplicate
        /// Lost a fork to the update this member already applied: ignored.
        case superseded
        /// Further ahead than the next: the member should ask for the updates from `next` on.
        case gap(next: UInt64)
        /// Its previous is no roster this member keeps (older than ``depth``, or a branch it never
        /// saw): ignored.
        case stale
        /// Not valid on the roster it follows; ignored.
        case refused(GroupRosterError)
    }

    /// Oldest first; the last is the current roster. Consecutive serials.
    public internal(set) var rosters: [GroupRoster]
    /// `updates[i]` made `rosters[i + 1]`.
    var updates: [GroupUpdate] = []

    public init(_ roster: GroupRoster) { rosters = [roster] }

    public var current: GroupRoster { rosters[rosters.count - 1] }

    /// The updates kept that came after roster `serial`, oldest first (to post again for a member
    /// that missed them).
    public func updates(after serial: UInt64) -> [GroupUpdate] { updates.filter { $0.serial > serial } }

    public mutating func receive(_ update: GroupUpdate) -> Outcome {
        guard update.groupKey == current.groupKey else { return .refused(.wrongGroup) }
        if update.serial > current.serial, update.serial - current.serial > 1 { return .gap(next: current.serial + 1) }
        guard update.serial > rosters[0].serial,
              let parent = rosters.lastIndex(where: { $0.serial == update.serial - 1 }),
              rosters[parent].hash == update.previous else { return .stale }
        if parent < updates.count {
            let applied = updates[parent]
            if update.hash == applied.hash { return .duplicate }
            guard Self.wins(update, over: applied) else { return .superseded }
        }
        let next: GroupRoster
        do { next = try rosters[parent].applying(update) } catch { return .refused(error) }
        let before = current
        let dropped = Array(updates[parent...])
        rosters.removeSubrange((parent + 1)...)
        updates.removeSubrange(parent...)
        rosters.append(next)
        updates.append(update)
        if rosters.count > Self.depth {
            rosters.removeFirst()
            updates.removeFirst()
        }
        return .applied(dropped: dropped, removed: Set(before.members.keys).subtracting(next.members.keys))
    }

    /// The fork rule: the lower author key, then the lower hash.
    public static func wins(_ update: GroupUpdate, over other: GroupUpdate) -> Bool {
        let (mine, theirs) = (update.author.bytes, other.author.bytes)
        if mine != theirs { return mine.lexicographicallyPrecedes(theirs) }
        return update.hash.bytes.lexicographicallyPrecedes(other.hash.bytes)
    }
}
