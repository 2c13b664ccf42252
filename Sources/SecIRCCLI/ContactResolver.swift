public import SecIRCAPI

/// Finds the contact a command-line argument means: a contact name, a full id, or a unique
/// id prefix.
///
/// In order: an exact name; the full 64-hex id; a hex prefix of exactly one id; a name equal
/// ignoring case. A query several contacts fit equally is ambiguous, never guessed.
public enum ContactResolver {
    public static func resolve(_ query: String, in contacts: [Contact]) throws(ContactResolutionError) -> Contact {
        guard !query.isEmpty else { throw .empty }
        let named = contacts.filter { $0.name == query }
        if named.count == 1 { return named[0] }
        if named.count > 1 { throw .ambiguous(query, named) }

        let lowered = query.lowercased()
        if lowered.allSatisfy({ $0.isASCII && $0.isHexDigit }) {
            if let exact = contacts.first(where: { $0.id == lowered }) { return exact }
            let prefixed = contacts.filter { $0.id.hasPrefix(lowered) }
            if prefixed.count == 1 { return prefixed[0] }
            if prefixed.count > 1 { throw .ambiguous(query, prefixed) }
        }

        let folded = contacts.filter { $0.name.lowercased() == lowered }
        if folded.count == 1 { return folded[0] }
        if folded.count > 1 { throw .ambiguous(query, folded) }
        throw .notFound(query)
    }
}

/// Why ``ContactResolver`` found no single contact.
public enum ContactResolutionError: Error, Equatable, CustomStringConvertible {
    case empty
    case notFound(String)
    /// The query and the contacts it fits.
    case ambiguous(String, [Contact])

    public var description: String {
        switch self {
        case .empty:
            "no contact given"
        case .notFound(let query):
            "no contact is named \"\(query)\" or has an id starting with it (secirc contacts lists them)"
        case .ambiguous(let query, let matches):
            "\"\(query)\" fits \(matches.count) contacts: "
                + matches.map { "\($0.name) (\($0.id.prefix(12)))" }.joined(separator: ", ")
                + "; give more of the id"
        }
    }
}
