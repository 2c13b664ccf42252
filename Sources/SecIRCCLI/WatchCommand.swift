import ArgumentParser
import SecIRCAPI

/// `secirc watch`: follows `/v1/events`.
struct WatchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Print incoming messages, delivery receipts, contact changes and group posts, roster changes and invitations as they happen (Ctrl-C stops).",
        discussion: "With --json each event is one line {\"event\":...,\"data\":...}.")

    @OptionGroup var global: GlobalOptions

    func run() throws {
        let session = try DaemonSession(options: global)
        var names: [String: String] = [:]
        if !global.json {
            for contact in try session.contacts() { names[contact.id] = contact.name }
        }
        let stream: EventStream
        do {
            stream = try session.client.events()
        } catch {
            // (A pattern `catch .api(401, _, _)` on this typed throw sends the Swift 6.3 compiler
            // into an endless SIL pass; the explicit check below does not.)
            guard case let .api(status, _, _) = error, status == 401 else { throw error }
            // The same words as every other command for a token problem.
            try session.call("GET", "/v1/contacts")
            throw CLIError("the daemon refused the event stream (HTTP 401)")
        }
        while let event = try stream.next() {
            if global.json {
                Console.out(TextFormat.eventJSON(event))
                continue
            }
            switch APIEvent(event) {
            case let .contact(contact)?, let .request(contact)?: names[contact.id] = contact.name
            default: break
            }
            Console.out(TextFormat.event(event, names: names))
        }
        throw CLIError("the event stream from \(session.client.baseURL) ended (the daemon stopped)")
    }
}
