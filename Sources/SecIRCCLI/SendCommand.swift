import ArgumentParser
import SecIRCAPI

/// `secirc send <contact> <text>`.
struct SendCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "send",
        abstract: "Send a text message; it is queued, then sent and delivered (secirc messages shows its state).")

    @Argument(help: ArgumentHelp("The contact: a name, an id or a unique id prefix.", valueName: "contact"))
    var contact: String

    @Argument(help: ArgumentHelp("The text; several words are joined with spaces (put -- before text that starts with -).",
                                 valueName: "text"))
    var text: [String]

    @OptionGroup var global: GlobalOptions

    func validate() throws {
        guard !text.joined().isEmpty else { throw ValidationError("Give the text to send.") }
    }

    func run() throws {
        let session = try DaemonSession(options: global)
        let target = try session.contact(contact)
        let body = try session.call("POST", "/v1/conversations/\(target.id)/messages", json: SendTextRequest(text: text.joined(separator: " ")))
        try session.show(body, as: Message.self) { "\($0.state) \($0.id) to \(target.name)" }
    }
}
