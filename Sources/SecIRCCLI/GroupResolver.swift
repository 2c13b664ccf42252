public import SecIRCAPI

/// Finds the group, invitation or roster member a command-line argument means.
///
/// A `<group>` is, in order: an exact name; the full 64-hex id; a hex prefix of at least
/// ``minimumGroupPrefix`` digits that exactly one id has; a name equal ignoring case. Group
/// names need not be unique, so a name two groups share is ambiguous (give the id prefix);
/// nothing several groups fit equally is ever guessed. A roster `<member>` is found the same
/// way by the name the roster shows (the contact's name, or `me`) or by an id prefix of any
/// length, as a `<contact>` is.
public enum GroupResolver {
    /// Hex digits an id prefix needs to name a group: fewer would too often be a name's start.
    public static let minimumGroupPrefix = 4

    public static func group(_ query: String, in groups: [Group]) throws(GroupResolutionError) -> Group {
        try resolve(query, in: groups, what: .group, minimumPrefix: minimumGroupPrefix) { ($0.name, $0.id) }
    }

    /// A waiting invitation, by the group's name or id (what `secirc groups invitations` lists).
    public static func invitation(_ query: String, in invitations: [GroupInvitationInfo])
        throws(GroupResolutionError) -> GroupInvitationInfo {
        try resolve(query, in: invitations, what: .invitation, minimumPrefix: minimumGroupPrefix) { ($0.name, $0.group) }
    }

    /// A member of `group`'s roster, by the name the roster gives it or its id.
    public static func member(_ query: String, of group: Group) throws(GroupResolutionError) -> Group.Member {
        try resolve(query, in: group.members, what: .member(of: group.name), minimumPrefix: 1) { ($0.name ?? "", $0.id) }
    }

    private static func resolve<T>(_ query: String, in items: [T], what: GroupResolutionError.Kind, minimumPrefix: Int,
                                   _ key: (T) -> (name: String, id: String)) throws(GroupResolutionError) -> T {
        guard !query.isEmpty else { throw .empty(what) }
        func candidates(_ matches: [T]) -> [GroupResolutionError.Candidate] {
            matches.map { GroupResolutionError.Candidate(name: key($0).name, id: key($0).id) }
        }
        let named = items.filter { key($0).name == query }
        if named.count == 1 { return named[0] }
        if named.count > 1 { throw .ambiguous(what, query, candidates(named)) }

        let lowered = query.lowercased()
        if lowered.count >= minimumPrefix, lowered.allSatisfy({ $0.isASCII && $0.isHexDigit }) {
            if let exact = items.first(where: { key($0).id == lowered }) { return exact }
            let prefixed = items.filter { key($0).id.hasPrefix(lowered) }
            if prefixed.count == 1 { return prefixed[0] }
            if prefixed.count > 1 { throw .ambiguous(what, query, candidates(prefixed)) }
        }

        let folded = items.filter { key($0).name.lowercased() == lowered }
        if folded.count == 1 { return folded[0] }
        if folded.count > 1 { throw .ambiguous(what, query, candidates(folded)) }
        throw .notFound(what, query)
    }
}
