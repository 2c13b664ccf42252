import ArgumentParser
import SecIRCAPI

/// `secirc groups add|remove|admin`: an admin's changes to the roster.
extension GroupsCommand {
    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add", abstract: "Add a contact to a group (an admin); it is sent an invitation.")

        @Argument(help: ArgumentHelp("The group: a name or an id prefix.", valueName: "group"))
        var group: String

        @Argument(help: ArgumentHelp("The contact: a name, an id or a unique id prefix.", valueName: "contact"))
        var contact: String

        @OptionGroup var global: GlobalOptions

        func run() throws {
            let session = try DaemonSession(options: global)
            let target = try session.group(group)
            let invitee = try session.contact(contact)
            let body = try session.call("POST", "/v1/groups/\(target.id)/members", json: AddGroupMemberRequest(contact: invitee.id))
            try session.show(body, as: Group.self) { "added \(invitee.name) to \(TextFormat.groupLine($0)); an invitation is on its way" }
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "remove", abstract: "Remove a member from a group (an admin); the group is rekeyed so it reads nothing after.")

        @Argument(help: ArgumentHelp("The group: a name or an id prefix.", valueName: "group"))
        var group: String

        @Argument(help: ArgumentHelp("The member: a contact's name or an id prefix from the roster.", valueName: "member"))
        var member: String

        @OptionGroup var global: GlobalOptions

        func run() throws {
            let session = try DaemonSession(options: global)
            let target = try session.group(group)
            let removed = try session.member(member, of: target)
            if removed.me { throw CLIError("to leave \(target.name), use secirc groups leave") }
            try session.show(session.call("DELETE", "/v1/groups/\(target.id)/members/\(removed.id)"), as: Group.self) {
                "removed \(removed.name ?? String(removed.id.prefix(16))) from \(TextFormat.groupLine($0))"
            }
        }
    }

    struct Admin: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "admin", abstract: "Make a member an admin of a group, or with --revoke a member again (an admin).")

        @Argument(help: ArgumentHelp("The group: a name or an id prefix.", valueName: "group"))
        var group: String

        @Argument(help: ArgumentHelp("The member: a contact's name or an id prefix from the roster.", valueName: "member"))
        var member: String

        @Flag(name: .long, help: "Make the admin a plain member again (a group keeps at least one admin).")
        var revoke = false

        @OptionGroup var global: GlobalOptions

        func run() throws {
            let session = try DaemonSession(options: global)
            let target = try session.group(group)
            let changed = try session.member(member, of: target)
            let path = "/v1/groups/\(target.id)/members/\(changed.id)"
            try session.show(session.call("PUT", path, json: SetGroupRoleRequest(admin: !revoke)), as: Group.self) {
                "\(changed.me ? "you are" : "\(changed.name ?? String(changed.id.prefix(16))) is") now "
                    + (revoke ? "a member (not an admin)" : "an admin") + " of \($0.name)"
            }
        }
    }
}
