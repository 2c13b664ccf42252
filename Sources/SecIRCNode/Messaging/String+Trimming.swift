extension String {
    /// Without leading and trailing Unicode white space (the `White_Space` property: the same set
    /// as Foundation's `whitespacesAndNewlines`), so this module needs no Foundation.
    func trimmingWhitespace() -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
              let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })
        else { return "" }
        return String(scalars[first...last])
    }
}
