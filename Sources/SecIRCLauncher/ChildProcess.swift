import Foundation
public import Glibc
public import SecIRCAPI

/// A child process: started with posix_spawn in its own process group (so a Ctrl-C in the
/// terminal reaches only the parent, which then stops its children in order), with default
/// signal handling, stdin from /dev/null, and stdout and stderr appended to a log file (stderr
/// to a file of its own when one is given). Reaped by ``poll()``; never waited for without a
/// deadline.
///
/// Not for concurrent use: one thread starts, polls and stops it.
public final class ChildProcess {
    /// How a child ended.
    public enum Termination: Equatable, Sendable, CustomStringConvertible {
        case exited(Int32)
        case signaled(Int32)

        public var description: String {
            switch self {
            case .exited(let status): "exited with status \(status)"
            case .signaled(let signal): "was killed by signal \(signal)"
            }
        }
    }

    /// A name for messages (`relay a`, `alice`).
    public let name: String
    /// Its process id, which is also its process group's.
    public let pid: pid_t
    /// Where its stdout (and, without an ``errorLogPath``, its stderr) goes.
    public let logPath: String
    /// Where its stderr goes, when apart from stdout.
    public let errorLogPath: String?
    /// The log file's size when the child started: what comes after is this child's.
    private let logStart: UInt64
    /// How it ended, once ``poll()`` has seen it end.
    public private(set) var termination: Termination?

    /// Starts `executable` (a path) with `arguments` and exactly `environment`. The log files are
    /// created (0644) or appended to.
    public init(name: String, executable: String, arguments: [String], environment: [String: String], logPath: String,
                errorLogPath: String? = nil) throws(SystemCallError) {
        self.name = name
        self.logPath = logPath
        self.errorLogPath = errorLogPath
        logStart = ((try? FileManager.default.attributesOfItem(atPath: logPath))?[.size] as? NSNumber)?.uint64Value ?? 0
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, logPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        if let errorLogPath {
            posix_spawn_file_actions_addopen(&actions, 2, errorLogPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        } else {
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        }

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
    public func poll() -> Termination? {
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

    /// True until it has ended (polls).
    public var isRunning: Bool { poll() == nil }

    /// Sends `signal` while the child runs.
    public func send(_ signal: Int32) {
        if isRunning { kill(pid, signal) }
    }

    /// Waits up to `timeout` seconds for the child to end; nil if it still runs.
    @discardableResult
    public func wait(timeout: Double) -> Termination? {
        let deadline = ContinuousClock.now.advanced(by: .milliseconds(Int64(timeout * 1000)))
        while isRunning, ContinuousClock.now < deadline { Self.pause() }
        return poll()
    }

    /// Sends `signal`, waits up to `timeout` seconds, then sends SIGKILL; returns how it ended.
    @discardableResult
    public func stop(signal: Int32 = SIGTERM, timeout: Double) -> Termination {
        send(signal)
        if let end = wait(timeout: timeout) { return end }
        kill(pid, SIGKILL)
        while true {
            if let end = poll() { return end }
            Self.pause()
        }
    }

    static func pause() {
        usleep(10_000)
    }

    /// What this child wrote to ``logPath`` (not what was in the file before it started).
    public var log: String {
        guard let handle = FileHandle(forReadingAtPath: logPath) else { return "" }
        defer { try? handle.close() }
        guard (try? handle.seek(toOffset: logStart)) != nil, let data = try? handle.readToEnd() else { return "" }
        return String(decoding: data, as: UTF8.self)
    }

    /// The last `count` lines of ``log``.
    public func logTail(_ count: Int = 20) -> String {
        log.split(separator: "\n", omittingEmptySubsequences: false).suffix(count + 1).joined(separator: "\n")
            .trimmingCharacters(in: .newlines)
    }

    /// The rest of the first line of ``log`` that starts with `prefix` (the start-up banner:
    /// `http port 8001`, `api http://...`).
    public func banner(_ prefix: String) -> String? {
        log.split(separator: "\n").first { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)) }
    }
}
