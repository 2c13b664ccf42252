import ArgumentParser
import SecIRCAPI

/// `secirc contacts [list|add|accept|reject|rename|remove|queues]`.
struct ContactsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "contacts",
        abstract: "List, add, rename and remove contacts; accept or reject contact requests; show, rotate or close the queue a contact writes to.",
        subcommands: [List.self, Add.self, Accept.self, Reject.self, Rename.self, Remove.self, Queues.self],
        defaultSubcommand: List.self)

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List the contacts (the default).")

        @OptionGroup var global: GlobalOptions

        func run() throws {
            let session = try DaemonSession(options: global)
            try session.show(session.call("GET", "/v1/contacts"), as: ContactList.self) { TextFormat.contacts($0.contacts) }
        }
    }

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add", abstract: "Add a contact from their invite; the daemon sends them the session set-up.")

        @Argument(help: ArgumentHelp("Their invite (secirc invite on their side).", valueName: "uri"))
        var uri: String

        @Option(name: .long, help: ArgumentHelp("The name to give them (default: the name in the invite).", valueName: "name"))
        var name: String?

        @OptionGroup var global: GlobalOptions

        func run() throws {
            let session = try DaemonSession(options: global)
            let body = AddContactRequest(invite: uri, name: name)
            try session.show(session.call("POST", "/v1/contacts", json: body), as: Contact.self) { "added \(TextFormat.contact($0))" }
        }
    }

    struct Accept: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "accept", abstract: "Accept a contact request: it becomes a contact, and what it sent is shown.")

        @Argument(help: ArgumentHelp("The request: a name, an id or a unique id prefix.", valueName: "contact"))
        var contact: String

        @OptionGroup var global: GlobalOptions

        func run() throws {
            let session = try DaemonSession(options: global)
            let target = try session.contact(contact)
            try session.show(session.call("POST", "/v1/contacts/\(target.id)/accept"), as: Contact.self) { "accepted \(TextFormat.contact($0))" }
        }
    }

    struct Reject: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "reject",
            abstract: "Reject a contact request: what it sent is deleted, and its session set-ups are refused from then on.")

        @Argument(help: ArgumentHelp("The request: a name, an id or a unique id prefix.", valueName: "contact"))
        var contact: String

        @OptionGroup var global: GlobalOptions

        func run() throws {
            let session = try DaemonSession(options: global)
            let target = try session.contact(contact)
            try session.call("POST", "/v1/contacts/\(target.id)/reject")
            if !global.json { Console.out("rejected \(target.name) (\(target.id.prefix(16))): deleted, and blocked until you add them") }
        }
    }

    struct Rename: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "rename", abstract: "Rename a contact.")

        @Argument(help: ArgumentHelp("The contact: a name, an id or a unique id prefix.", valueName: "contact"))
        var contact: String

        @Argument(help: ArgumentHelp("The new name (1 to 64 characters).", valueName: "name"))
        var name: String

        @OptionGroup var global: GlobalOptions

        func run() throws {
            let session = try DaemonSession(options: global)
            let old = try session.contact(contact)
            try session.show(session.call("PUT", "/v1/contacts/\(old.id)", json: RenameContactRequest(name: name)), as: Contact.self) {
                "renamed \(old.name) to \($0.name) (\($0.id.prefix(16)))"
            }
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "remove", abstract: "Remove a contact with its session and messages.")

        @Argument(help: ArgumentHelp("The contact: a name, an id or a unique id prefix.", valueName: "contact"))
        var contact: String

        @OptionGroup var global: GlobalOptions

        func run() throws {
            let session = try DaemonSession(options: global)
            let target = try session.contact(contact)
            try session.call("DELETE", "/v1/contacts/\(target.id)")
            if !global.json { Console.out("removed \(target.name) (\(target.id.prefix(16))) and its messages") }
        }
    }

    struct Queues: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "queues",
            abstract: "Show the deposit queues a contact writes to; --rotate gives it new ones, --close stops the relays taking its mail.")

        @Argument(help: ArgumentHelp("The contact: a name, an id or a unique id prefix.", valueName: "contact"))
        var contact: String

        @Flag(name: .long, help: "New queues, sent to the contact in a card; the old ones take mail for an hour more.")
        var rotate = false

        @Flag(name: .long, help: "Close its queues: the relays take nothing more from it (until --rotate).")
        var close = false

        @OptionGroup var global: GlobalOptions

        func validate() throws {
            if rotate && close { throw ValidationError("--rotate and --close exclude each other") }
        }

        func run() throws {
            let session = try DaemonSession(options: global)
            let target = try session.contact(contact)
            let path = "/v1/contacts/\(target.id)/queues" + (rotate ? "/rotate" : close ? "/close" : "")
            let body = rotate || close ? try session.call("POST", path) : try session.call("GET", path)
            try session.show(body, as: DepositQueues.self) { TextFormat.queues($0.queues, of: target.name) }
        }
    }
}
