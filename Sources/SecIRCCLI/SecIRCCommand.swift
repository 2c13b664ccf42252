public import ArgumentParser
import Foundation
import SecIRCAPI

/// `secirc`: drives a running `secirc-client` through its HTTP API, and starts a whole network
/// on this machine (`secirc devnet`).
public struct SecIRCCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "secirc",
        abstract: "secIRC from the command line: talks to the secirc-client daemon's API.",
        discussion: """
            The daemon is found at --api (or $SECIRC_API, default \(APIClient.defaultURL)) with the token in \
            --token-file (or $SECIRC_TOKEN_FILE, or <--data-dir>/api.token, default data/client/api.token). \
            A <contact> is a contact's name, its id, or a prefix of its id that only it has; a <group> is a group's \
            name, its id, or a prefix of its id (4 hex digits or more) that only it has. \
            `secirc devnet` starts three relays and two clients (alice, bob) on this machine. \
            Exit status 1: the daemon is not running, or answered with an error (printed as code: message).
            """,
        subcommands: [
            IdentityCommand.self, InviteCommand.self, ContactsCommand.self, SendCommand.self,
            MessagesCommand.self, GroupsCommand.self, WatchCommand.self, NetworkCommand.self, DevnetCommand.self,
        ])

    @OptionGroup public var global: GlobalOptions

    public init() {}

    /// Parses `arguments` (nil: the process's), runs the command and exits: 0 on success,
    /// 1 with `secirc: <what went wrong>` on stderr, or ArgumentParser's status for usage errors.
    public static func runAndExit(arguments: [String]? = nil) -> Never {
        do {
            var command = try parseAsRoot(arguments)
            try command.run()
            exit()
        } catch let failure as any CLIFailure {
            Console.error("secirc: \(failure)")
            Foundation.exit(1)
        } catch {
            exit(withError: error)
        }
    }
}
