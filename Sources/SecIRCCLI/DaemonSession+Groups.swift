import SecIRCAPI

/// The group look-ups the `secirc groups` commands share.
extension DaemonSession {
    func groups() throws -> [Group] {
        try APIClient.decode(GroupList.self, from: call("GET", "/v1/groups")).groups
    }

    /// The group a command-line argument means (a name or an id prefix of 4 hex digits or more).
    func group(_ query: String) throws -> Group {
        try GroupResolver.group(query, in: groups())
    }

    func invitations() throws -> [GroupInvitationInfo] {
        try APIClient.decode(GroupInvitationList.self, from: call("GET", "/v1/group-invitations")).invitations
    }

    /// The waiting invitation a command-line argument means (its group's name or id prefix).
    func invitation(_ query: String) throws -> GroupInvitationInfo {
        try GroupResolver.invitation(query, in: invitations())
    }

    /// Contact names by id, for posts and invitations from members who are contacts.
    func contactNames() throws -> [String: String] {
        Dictionary(try contacts().map { ($0.id, $0.name) }, uniquingKeysWith: { first, _ in first })
    }

    /// A roster member of `group` named by a command-line argument: the name the roster shows
    /// (a contact's name), or an id prefix. A contact who is not in the roster is told so.
    func member(_ query: String, of group: Group) throws -> Group.Member {
        do {
            return try GroupResolver.member(query, of: group)
        } catch let error {
            guard case .notFound = error, let contact = try? ContactResolver.resolve(query, in: contacts()) else { throw error }
            throw CLIError("\(contact.name) (\(contact.id.prefix(16))) is not a member of \(group.name)")
        }
    }
}
