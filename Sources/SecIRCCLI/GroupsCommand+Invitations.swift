import ArgumentParser
import SecIRCAPI

/// `secirc groups invitations|accept|decline`.
extension GroupsCommand {
    struct Invitations: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "invitations", abstract: "List the invitations to groups that wait for you.")

        @OptionGroup var global: GlobalOptions

        func run() throws {
            let session = try DaemonSession(options: global)
            let body = try session.call("GET", "/v1/group-invitations")
            if global.json { return Console.json(body) }
            let invitations = try APIClient.decode(GroupInvitationList.self, from: body).invitations
            Console.out(TextFormat.invitations(invitations, names: invitations.isEmpty ? [:] : try session.contactNames()))
        }
    }

    struct Accept: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "accept", abstract: "Join the group of a waiting invitation.")

        @Argument(help: ArgumentHelp("The invitation: its group's name or an id prefix.", valueName: "group"))
        var group: String

        @OptionGroup var global: GlobalOptions

        func run() throws {
            let session = try DaemonSession(options: global)
            let invitation = try session.invitation(group)
            try session.show(session.call("POST", "/v1/group-invitations/\(invitation.group)/accept"), as: Group.self) {
                "joined \(TextFormat.groupLine($0))"
            }
        }
    }

    struct Decline: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "decline", abstract: "Decline a waiting invitation (the inviter is not told).")

        @Argument(help: ArgumentHelp("The invitation: its group's name or an id prefix.", valueName: "group"))
        var group: String

        @OptionGroup var global: GlobalOptions

        func run() throws {
            let session = try DaemonSession(options: global)
            let invitation = try session.invitation(group)
            try session.call("POST", "/v1/group-invitations/\(invitation.group)/decline")
            if !global.json { Console.out("declined the invitation to \(invitation.name) (\(invitation.group.prefix(16)))") }
        }
    }
}
