import ArgumentParser
import SecIRCAPI

/// `secirc network`: what the daemon knows of the relay network.
struct NetworkCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "network", abstract: "Show the verified directory, linked relays, mailboxes and packet counts.")

    @OptionGroup var global: GlobalOptions

    func run() throws {
        let session = try DaemonSession(options: global)
        try session.show(session.call("GET", "/v1/network"), as: NetworkStatus.self) { TextFormat.network($0) }
    }
}
