/// Why ``GroupResolver`` found no single group, invitation or member.
public enum GroupResolutionError: Error, Equatable, CustomStringConvertible {
    /// What was looked for.
    public enum Kind: Equatable, Sendable {
        case group
        case invitation
        /// A member of the group with this name.
        case member(of: String)
    }

    /// One of several things a query fits, as the error lists it.
    public struct Candidate: Equatable, Sendable {
        public var name: String
        public var id: String

        public init(name: String, id: String) {
            self.name = name
            self.id = id
        }
    }

    case empty(Kind)
    case notFound(Kind, String)
    /// The query and what it fits.
    case ambiguous(Kind, String, [Candidate])

    public var description: String {
        switch self {
        case let .empty(kind):
            return "no \(kind.noun) given"
        case let .notFound(kind, query):
            switch kind {
            case .group:
                return "no group is named \"\(query)\" or has an id starting with it (secirc groups lists them; "
                    + "an id prefix needs \(GroupResolver.minimumGroupPrefix) hex digits or more)"
            case .invitation:
                return "no invitation waits from a group named \"\(query)\" or with an id starting with it "
                    + "(secirc groups invitations lists them)"
            case let .member(group):
                return "no member of \(group) is named \"\(query)\" or has an id starting with it (secirc groups show lists the roster)"
            }
        case let .ambiguous(kind, query, matches):
            return "\"\(query)\" fits \(matches.count) \(kind.noun)s: "
                + matches.map { "\($0.name.isEmpty ? "?" : $0.name) (\($0.id.prefix(12)))" }.joined(separator: ", ")
                + "; give more of the id"
        }
    }
}

extension GroupResolutionError.Kind {
    var noun: String {
        switch self {
        case .group: "group"
        case .invitation: "invitation"
        case .member: "member"
        }
    }
}
