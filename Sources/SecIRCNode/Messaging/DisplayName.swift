/// The rule for names shown for contacts and sent in contact cards.
public enum DisplayName {
    /// Characters (grapheme clusters) at most, after trimming.
    public static let maximumLength = 64

    /// `name` without leading and trailing white space, when it is 1 to ``maximumLength``
    /// characters with no control or format characters (a right-to-left override could disguise
    /// a name). Throws `MessengerError.invalidRequest` otherwise.
    public static func validated(_ name: String) throws(MessengerError) -> String {
        let trimmed = name.trimmingWhitespace()
        guard !trimmed.isEmpty, trimmed.count <= maximumLength,
              !trimmed.unicodeScalars.contains(where: { [.control, .format].contains($0.properties.generalCategory) })
        else {
            throw .invalidRequest("a name is 1 to \(maximumLength) characters without control or format characters")
        }
        return trimmed
    }

    /// `name`, or when a name in `taken` is the same (ignoring case) `name (2)`, `name (3)`, …,
    /// the first that is free, shortened to stay within ``maximumLength``: a name a stranger
    /// offers never collides silently with a contact's.
    public static func distinct(_ name: String, from taken: [String]) -> String {
        let used = Set(taken.map { $0.lowercased() })
        guard used.contains(name.lowercased()) else { return name }
        func numbered(_ n: Int) -> String {
            let suffix = " (\(n))"
            return String(name.prefix(maximumLength - suffix.count)).trimmingWhitespace() + suffix
        }
        var n = 2
        while used.contains(numbered(n).lowercased()) { n += 1 }
        return numbered(n)
    }
}
