import ArgumentParser
import SecIRCAPI

/// `secirc invite`: the `secirc:` invite to give a contact.
struct InviteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "invite",
        abstract: "Print this client's invite (a secirc: URI) for a contact to add.",
        discussion: """
            Only the URI goes to stdout, so `secirc contacts add "$(secirc --api <theirs> invite)"` works. \
            Whoever adds the long-lived invite without being your contact is a contact request; \
            with --once, a new invite for one person, who becomes a contact at once.
            """)

    @Flag(name: .long, help: "A one-time invite: for one person, who becomes a contact without a request.")
    var once = false

    @OptionGroup var global: GlobalOptions

    func run() throws {
        let session = try DaemonSession(options: global)
        let body = once ? try session.call("POST", "/v1/invites") : try session.call("GET", "/v1/invite")
        if global.json { return Console.json(body) }
        let invite = try APIClient.decode(InviteResponse.self, from: body)
        Console.out(invite.uri)
        Console.error("\(once ? "one-time invite, " : "")valid until \(TextFormat.time(invite.expiresMilliseconds)); the other side runs: secirc contacts add <this URI>")
    }
}
