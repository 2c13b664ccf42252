import SecIRCNode
import Testing

/// Names for contacts and contact cards.
@Suite struct DisplayNameTests {
    @Test(arguments: [
        ("alice", "alice"),
        ("  bob \n", "bob"), // trimmed
        ("\u{00A0}carol\u{3000}", "carol"), // no-break and ideographic spaces are white space too
        ("Zoë", "Zoë"),
        ("e\u{301}", "e\u{301}"), // one character of two scalars
        ("two words", "two words"),
        (String(repeating: "x", count: 64), String(repeating: "x", count: 64)),
        (String(repeating: "🇫🇷", count: 64), String(repeating: "🇫🇷", count: 64)), // characters, not bytes or scalars
        (String(repeating: "🇫🇷", count: 65), nil),
        ("👩\u{200D}👧", nil), // the zero-width joiner of emoji sequences is a format character too
        ("", nil),
        ("   \t\n", nil),
        (String(repeating: "x", count: 65), nil),
        ("tab\tinside", nil), // control
        ("line\nbreak", nil),
        ("evil\u{202E}txt.exe", nil), // right-to-left override (format)
        ("zero\u{200B}width", nil), // format
    ] as [(String, String?)])
    func namesAreTrimmedAndRefusedWithControlOrFormatCharacters(name: String, valid: String?) throws {
        if let valid {
            #expect(try DisplayName.validated(name) == valid)
        } else {
            #expect(throws: MessengerError.self) { try DisplayName.validated(name) }
        }
    }
}
