public import SecIRCAPI

/// Why a ``Devnet`` could not start or keep its network.
public enum DevnetError: Error, Equatable, CustomStringConvertible {
    /// A program it runs was not found.
    case missingExecutable(path: String)
    case cannotPrepare(path: String, reason: String)
    case cannotStart(name: String, reason: String)
    /// A child process ended on its own: its name, how, its log file and the log's last lines.
    case childExited(name: String, how: String, log: String, tail: String)
    /// A wait passed its deadline; the last problem seen while polling, if any.
    case timedOut(waitingFor: String, seconds: Double, lastProblem: String?)
    /// A request that had to succeed failed.
    case requestFailed(what: String, error: APIError)
    /// The `interrupted` check (SIGINT or SIGTERM, in `secirc devnet`) said stop while starting.
    case interrupted

    public var description: String {
        switch self {
        case .missingExecutable(let path):
            let name = path.split(separator: "/").last.map(String.init) ?? path
            return "\(path) not found: build it (swift build --product \(name)) or pass --bin-dir"
        case .cannotPrepare(let path, let reason):
            return "cannot prepare \(path): \(reason)"
        case .cannotStart(let name, let reason):
            return "cannot start \(name): \(reason)"
        case .childExited(let name, let how, let log, let tail):
            return "\(name) \(how); the end of \(log):\n\(tail)"
        case .timedOut(let what, let seconds, let problem):
            return "timed out after \(Int(seconds)) s waiting for \(what)" + (problem.map { " (last: \($0))" } ?? "")
        case .requestFailed(let what, let error):
            return "\(what) failed: \(error)"
        case .interrupted:
            return "interrupted"
        }
    }
}
