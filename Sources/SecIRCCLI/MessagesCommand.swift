import ArgumentParser
import SecIRCAPI

/// `secirc messages <contact> [--limit N] [--before CURSOR]`.
struct MessagesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "messages", abstract: "Show the latest messages with a contact, oldest first.")

    @Argument(help: ArgumentHelp("The contact: a name, an id or a unique id prefix.", valueName: "contact"))
    var contact: String

    @Option(name: .long, help: ArgumentHelp("How many messages (1 to 500).", valueName: "n"))
    var limit = 50

    @Option(name: .long, help: ArgumentHelp("Only messages older than this cursor (paging; printed after a full page).",
                                            valueName: "cursor"))
    var before: Int64?

    @OptionGroup var global: GlobalOptions

    func validate() throws {
        guard (1...500).contains(limit) else { throw ValidationError("--limit must be 1 to 500.") }
    }

    func run() throws {
        let session = try DaemonSession(options: global)
        let target = try session.contact(contact)
        var path = "/v1/conversations/\(target.id)/messages?limit=\(limit)"
        if let before { path += "&before=\(before)" }
        try session.show(session.call("GET", path), as: MessagePage.self) { page in
            guard !page.messages.isEmpty else { return "no messages with \(target.name)" }
            var lines = page.messages.map { TextFormat.message($0, contactName: target.name) }
            if let next = page.nextBefore { lines.append("(older: secirc messages \(contact) --before \(next))") }
            return lines.joined(separator: "\n")
        }
    }
}
