/// Why a call to the client daemon's API failed.
public enum APIError: Error, Equatable, CustomStringConvertible {
    /// Nothing listens at the URL (connection refused).
    case daemonNotRunning(url: String)
    /// The daemon answered with an error: its HTTP status and the `{"error":{"code","message"}}` body.
    case api(status: Int, code: String, message: String)
    /// The API URL is not `http://<numeric address or localhost>:<port>`.
    case invalidURL(String)
    /// Another socket failure.
    case connection(url: String, reason: String)
    /// The daemon accepted the connection but did not answer in time.
    case timedOut(url: String, seconds: Double)
    /// The answer was not HTTP, or not the JSON expected.
    case invalidResponse(String)

    public var description: String {
        switch self {
        case .daemonNotRunning(let url):
            "the client daemon is not running at \(url) (start it with secirc-client, or secirc devnet)"
        case .api(let status, let code, let message):
            "\(code): \(message) (HTTP \(status))"
        case .invalidURL(let url):
            "\"\(url)\" is not an API URL like http://127.0.0.1:6692 (plain http to a numeric loopback address)"
        case .connection(let url, let reason):
            "cannot talk to \(url): \(reason)"
        case .timedOut(let url, let seconds):
            "\(url) did not answer within \(Int(seconds)) s"
        case .invalidResponse(let why):
            "unexpected answer from the daemon: \(why)"
        }
    }
}
