import ArgumentParser
import SecIRCAPI

/// `secirc groups post` and `secirc groups messages`.
extension GroupsCommand {
    struct Post: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "post", abstract: "Post a text to a group; every member reads it.")

        @Argument(help: ArgumentHelp("The group: a name or an id prefix.", valueName: "group"))
        var group: String

        @Argument(help: ArgumentHelp("The text; several words are joined with spaces (put -- before text that starts with -).",
                                     valueName: "text"))
        var text: [String]

        @OptionGroup var global: GlobalOptions

        func validate() throws {
            guard !text.joined().isEmpty else { throw ValidationError("Give the text to post.") }
        }

        func run() throws {
            let session = try DaemonSession(options: global)
            let target = try session.group(group)
            let body = try session.call("POST", "/v1/groups/\(target.id)/messages", json: SendTextRequest(text: text.joined(separator: " ")))
            try session.show(body, as: GroupMessage.self) { "posted \($0.id) to \(target.name)" }
        }
    }

    struct Messages: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "messages", abstract: "Show a group's latest posts, in the order every member sees them.")

        @Argument(help: ArgumentHelp("The group: a name or an id prefix.", valueName: "group"))
        var group: String

        @Option(name: .long, help: ArgumentHelp("How many posts (1 to 500).", valueName: "n"))
        var limit = 50

        @Option(name: .long, help: ArgumentHelp("Only posts shown before the post with this cursor (paging; printed after a full page).",
                                                valueName: "cursor"))
        var before: Int64?

        @OptionGroup var global: GlobalOptions

        func validate() throws {
            guard (1...500).contains(limit) else { throw ValidationError("--limit must be 1 to 500.") }
            if let before, before < 1 { throw ValidationError("--before is a post's cursor, 1 or more.") }
        }

        func run() throws {
            let session = try DaemonSession(options: global)
            let target = try session.group(group)
            var path = "/v1/groups/\(target.id)/messages?limit=\(limit)"
            if let before { path += "&before=\(before)" }
            let body = try session.call("GET", path)
            if global.json { return Console.json(body) }
            let page = try APIClient.decode(GroupMessagePage.self, from: body)
            guard !page.messages.isEmpty else { return Console.out("no posts in \(target.name)") }
            var names = try session.contactNames()
            for member in target.members { if let name = member.name { names[member.id] = name } }
            var lines = page.messages.map { TextFormat.groupMessage($0, names: names) }
            if let next = page.nextBefore { lines.append("(earlier: secirc groups messages \(target.id.prefix(16)) --before \(next))") }
            Console.out(lines.joined(separator: "\n"))
        }
    }
}
