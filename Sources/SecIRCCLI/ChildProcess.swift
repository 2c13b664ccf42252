import Foundation
import Glibc
import SecIRCAPI

/// A child process of `secirc devnet`: started with posix_spawn in its own process group (so a
/// Ctrl-C in the terminal reaches only `secirc`, which then stops the children in order), with
/// default signal handling, stdin from /dev/null, and stdout and stderr appended to a log file.
/// Reaped by ``poll()``; never waited for without a deadline.
final class ChildProcess {
    /// How a child ended.
    enum Termination: Equatable, CustomStringConvertible {
        case exited(Int32)
        case signaled(Int32)

        var description: String {
            switch self {
            case .exited(let status): "exited with status \(status)"
            case .signaled(let signal): "was killed by signal \(signal)"
            }
        }
    }

    let name: String
    let pid: pid_t
    let logPath: String
    private(set) var termination: Termination?

    init(name: String, executable: String, arguments: [String], environment: [String: String], logPath: String) throws(SystemCallError) {
        self.name = name
        self.logPath = logPath
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, logPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGINT, SIGTERM, SIGPIPE, SIGHUP, SIGCHLD] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.sorted { $0.key < $1.key }.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var child: pid_t = 0
        let result = posix_spawn(&child, executable, &actions, &attributes, argv, envp)
        guard result == 0 else { throw SystemCallError(call: "posix_spawn \(executable)", errno: result) }
        pid = child
    }

    /// How the child ended, reaping it; nil while it runs.
    @discardableResult
    func poll() -> Termination? {
        if let termination { return termination }
        var status: Int32 = 0
        let result = waitpid(pid, &status, WNOHANG)
        guard result == pid else {
            if result < 0, errno == ECHILD { termination = .exited(-1) }
            return termination
        }
        // WIFEXITED / WEXITSTATUS / WTERMSIG are C macros Swift does not import.
        termination = status & 0x7f == 0 ? .exited((status >> 8) & 0xff) : .signaled(status & 0x7f)
        return termination
    }

    var isRunning: Bool { poll() == nil }

    func send(_ signal: Int32) {
        if isRunning { kill(pid, signal) }
    }

    /// The log's text.
    var log: String {
        (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
    }

    /// The last `count` lines of the log.
    func logTail(_ count: Int = 20) -> String {
        log.split(separator: "\n", omittingEmptySubsequences: false).suffix(count + 1).joined(separator: "\n")
            .trimmingCharacters(in: .newlines)
    }

    /// The rest of the first log line that starts with `prefix` (the start-up banner:
    /// `http port 8001`, `api http://...`).
    func banner(_ prefix: String) -> String? {
        log.split(separator: "\n").first { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)) }
    }
}
