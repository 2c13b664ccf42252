import Foundation
import SecIRCAPI
import SecIRCLauncher
import Testing

/// A client daemon of a ``TestNetwork`` (the launcher's `Devnet.Client`) with what the tests ask
/// of it.
final class ClientProcess {
    let client: Devnet.Client
    let devnet: Devnet

    init(_ client: Devnet.Client, in devnet: Devnet) {
        self.client = client
        self.devnet = devnet
    }

    var name: String { client.name }
    /// A client of its API, with its token.
    var api: APIClient { client.api }

    /// SIGTERM; how it ended.
    @discardableResult
    func stop() -> ChildProcess.Termination? {
        devnet.stop(name)
    }

    /// Starts it again (same data, port and configuration).
    func start() throws {
        try devnet.restart(name)
    }

    /// Waits until it holds a verified directory and its invite names its mailbox relays.
    func waitReady() throws {
        try devnet.waitForInvite(client)
    }

    /// `method path` with an optional JSON body; `token` replaces its own. The response whatever
    /// its status.
    func request(_ path: String, method: String = "GET", json: (any Encodable)? = nil, token: String? = nil) throws -> APIResponse {
        var api = self.api
        if let token { api.token = token }
        return try api.send(method, path, body: try json.map { Array(try JSONEncoder().encode($0)) })
    }

    /// `GET path`, a 2xx answer decoded.
    func get<T: Decodable>(_ type: T.Type, _ path: String) throws -> T {
        try api.decode(type, path)
    }

    func contacts() throws -> [Contact] { try get(ContactList.self, "/v1/contacts").contacts }

    func messages(with contact: String) throws -> [Message] {
        try get(MessagePage.self, "/v1/conversations/\(contact)/messages?limit=500").messages
    }

    /// Sends `text`; the message's id.
    func send(_ text: String, to contact: String) throws -> String {
        let response = try request("/v1/conversations/\(contact)/messages", method: "POST", json: SendTextRequest(text: text))
        #expect(response.status == 202)
        return try APIClient.decode(Message.self, from: response.body).id
    }
}
