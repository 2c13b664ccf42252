import ArgumentParser
import SecIRCAPI

/// `secirc id`: this client's id and identity key.
struct IdentityCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "id", abstract: "Show this client's id and identity key.")

    @OptionGroup var global: GlobalOptions

    func run() throws {
        let session = try DaemonSession(options: global)
        try session.show(session.call("GET", "/v1/identity"), as: Identity.self) { identity in
            TextFormat.table([["id", identity.id], ["identity key", identity.identityKey]])
        }
    }
}
