import Foundation
import SecIRCAPI

/// What a daemon command works with: the API client the global options describe, and the
/// token file's problem, if it could not be read, to report when the daemon asks for a token.
/// (The token is read first but only blamed on a 401, so a daemon that is not running is
/// reported as such even when its token file does not exist yet.)
struct DaemonSession {
    let client: APIClient
    let options: GlobalOptions
    let tokenPath: String
    let tokenProblem: String?

    init(options: GlobalOptions, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        self.options = options
        tokenPath = options.tokenPath(environment: environment)
        let (token, problem) = Self.readToken(tokenPath)
        tokenProblem = problem
        client = try APIClient(baseURL: options.apiURL(environment: environment), token: token)
    }

    /// The token in `path`, or why there is none.
    static func readToken(_ path: String) -> (token: String?, problem: String?) {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            let reason = FileManager.default.fileExists(atPath: path) ? "it cannot be read" : "it does not exist"
            return (nil, "cannot read \(path): \(reason)")
        }
        let token = text.trimmingCharacters(in: .whitespacesAndNewlines)
        return token.isEmpty ? (nil, "\(path) is empty") : (token, nil)
    }

    var json: Bool { options.json }

    /// One request without a body; the body of a 2xx answer.
    @discardableResult
    func call(_ method: String, _ path: String) throws -> [UInt8] {
        do {
            return try client.call(method, path)
        } catch {
            throw explain(error)
        }
    }

    /// One request with `json` as its body; the body of a 2xx answer.
    @discardableResult
    func call(_ method: String, _ path: String, json: some Encodable) throws -> [UInt8] {
        do {
            return try client.call(method, path, json: json)
        } catch {
            throw explain(error)
        }
    }

    /// A 401 as the token problem it stands for; other errors as they are.
    func explain(_ error: APIError) -> any Error {
        guard case .api(401, let code, let message) = error else { return error }
        if let tokenProblem {
            return CLIError("the daemon wants its API token, but \(tokenProblem) (pass --token-file, or --data-dir of the daemon)")
        }
        return CLIError("\(code): \(message) (HTTP 401): the token in \(tokenPath) is not this daemon's (pass --token-file or --data-dir)")
    }

    func contacts() throws -> [Contact] {
        try APIClient.decode(ContactList.self, from: call("GET", "/v1/contacts")).contacts
    }

    /// The contact a command-line argument means (a name, an id, or a unique id prefix).
    func contact(_ query: String) throws -> Contact {
        try ContactResolver.resolve(query, in: contacts())
    }

    /// Prints the raw JSON under `--json`, else the text `render` makes of the decoded value.
    func show<T: Decodable>(_ body: [UInt8], as type: T.Type, _ render: (T) -> String) throws {
        if json { return Console.json(body) }
        Console.out(render(try APIClient.decode(type, from: body)))
    }
}
