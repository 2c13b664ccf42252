import ArgumentParser
import SecIRCAPI

/// `secirc groups [list|create|show|post|messages|add|remove|admin|rename|leave|delete|invitations|accept|decline]`.
struct GroupsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "groups",
        abstract: "List, make and run groups; post to them and read their posts; answer invitations.",
        discussion: """
            A <group> is a group's name, its id, or a prefix of its id (\(GroupResolver.minimumGroupPrefix) hex digits or more) \
            that only it has; a name several groups share is refused as ambiguous. A <member> is a name the group's roster \
            shows (a contact's name) or a prefix of the member's id. Adding, removing, promoting and renaming are for admins.
            """,
        subcommands: [
            List.self, Create.self, Show.self, Post.self, Messages.self, Add.self, Remove.self, Admin.self, Rename.self,
            Leave.self, Delete.self, Invitations.self, Accept.self, Decline.self,
        ],
        defaultSubcommand: List.self)

    /// A group name as the daemon takes it: 1 to 64 bytes of UTF-8, no control character.
    static func validateName(_ name: String) throws {
        let bytes = name.utf8.count
        guard (1...64).contains(bytes) else {
            throw ValidationError("A group name is 1 to 64 bytes of UTF-8 (this one is \(bytes)).")
        }
        guard !name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw ValidationError("A group name has no control characters.")
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list", abstract: "List the groups (the default): name, id, members, your role, whether you can post.")

        @OptionGroup var global: GlobalOptions

        func run() throws {
            let session = try DaemonSession(options: global)
            let body = try session.call("GET", "/v1/groups")
            if global.json { return Console.json(body) }
            let groups = try APIClient.decode(GroupList.self, from: body).groups
            Console.out(TextFormat.groups(groups, invitations: try session.invitations().count))
        }
    }

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "create", abstract: "Make a group with you as its admin; each contact given is invited.")

        @Argument(help: ArgumentHelp("The group's name (1 to 64 bytes of UTF-8).", valueName: "name"))
        var name: String

        @Argument(help: ArgumentHelp("Contacts to invite: names, ids or unique id prefixes.", valueName: "contact"))
        var contacts: [String] = []

        @OptionGroup var global: GlobalOptions

        func validate() throws { try GroupsCommand.validateName(name) }

        func run() throws {
            let session = try DaemonSession(options: global)
            var members: [Contact] = []
            if !contacts.isEmpty {
                let all = try session.contacts()
                for query in contacts {
                    let contact = try ContactResolver.resolve(query, in: all)
                    if !members.contains(where: { $0.id == contact.id }) { members.append(contact) }
                }
            }
            let body = CreateGroupRequest(name: name, members: members.map(\.id))
            try session.show(session.call("POST", "/v1/groups", json: body), as: Group.self) { group in
                "made \(TextFormat.groupLine(group))"
                    + (members.isEmpty ? "" : "; invited " + members.map(\.name).joined(separator: ", "))
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Show a group and its roster.")

        @Argument(help: ArgumentHelp("The group: a name or an id prefix.", valueName: "group"))
        var group: String

        @OptionGroup var global: GlobalOptions

        func run() throws {
            let session = try DaemonSession(options: global)
            let target = try session.group(group)
            try session.show(session.call("GET", "/v1/groups/\(target.id)"), as: Group.self) { TextFormat.group($0) }
        }
    }

    struct Rename: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "rename", abstract: "Rename a group (an admin); every member sees it.")

        @Argument(help: ArgumentHelp("The group: a name or an id prefix.", valueName: "group"))
        var group: String

        @Argument(help: ArgumentHelp("The new name (1 to 64 bytes of UTF-8).", valueName: "name"))
        var name: String

        @OptionGroup var global: GlobalOptions

        func validate() throws { try GroupsCommand.validateName(name) }

        func run() throws {
            let session = try DaemonSession(options: global)
            let old = try session.group(group)
            try session.show(session.call("PUT", "/v1/groups/\(old.id)", json: RenameGroupRequest(name: name)), as: Group.self) {
                "renamed \(old.name) to \($0.name) (\($0.id.prefix(16)))"
            }
        }
    }

    struct Leave: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "leave",
            abstract: "Leave a group; it stays listed, read-only, until deleted. The only admin first makes another member an admin.")

        @Argument(help: ArgumentHelp("The group: a name or an id prefix.", valueName: "group"))
        var group: String

        @OptionGroup var global: GlobalOptions

        func run() throws {
            let session = try DaemonSession(options: global)
            let target = try session.group(group)
            try session.show(session.call("POST", "/v1/groups/\(target.id)/leave"), as: Group.self) {
                "left \($0.name) (\($0.id.prefix(16))): it stays listed, read-only (secirc groups delete \($0.id.prefix(16)) forgets it)"
            }
        }
    }

    struct Delete: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "delete", abstract: "Forget a group you have left (or were removed from), with its posts.")

        @Argument(help: ArgumentHelp("The group: a name or an id prefix.", valueName: "group"))
        var group: String

        @OptionGroup var global: GlobalOptions

        func run() throws {
            let session = try DaemonSession(options: global)
            let target = try session.group(group)
            try session.call("DELETE", "/v1/groups/\(target.id)")
            if !global.json { Console.out("deleted \(target.name) (\(target.id.prefix(16))) and its posts") }
        }
    }
}
