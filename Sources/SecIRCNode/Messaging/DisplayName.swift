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
}
