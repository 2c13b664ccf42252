import Foundation
import SecIRCLauncher
import Testing

/// Runs the package's built executables, and other programs, as real processes through the
/// launcher's `ChildProcess`.
enum Processes {
    /// The directory holding the built products (next to the test bundle).
    static var productsDirectory: URL {
        URL(fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0])
            .deletingLastPathComponent()
    }

    /// The path of the built product `name`.
    static func product(_ name: String) -> String {
        productsDirectory.appendingPathComponent(name).path
    }

    /// This process's environment without `SECIRC_*` variables, with `extra` added.
    static func environment(_ extra: [String: String] = [:]) -> [String: String] {
        ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("SECIRC_") }.merging(extra) { _, new in new }
    }

    struct Result {
        /// The exit status, or 128 + the signal that ended it.
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs the product `name` with `arguments` to completion (these commands exit by themselves).
    static func run(_ name: String, _ arguments: [String], environment: [String: String] = [:]) throws -> Result {
        try run(executable: product(name), arguments, environment: Self.environment(environment))
    }

    /// Runs `executable` to completion; after `timeout` seconds it is killed and the test fails.
    static func run(executable: String, _ arguments: [String], environment: [String: String] = ProcessInfo.processInfo.environment,
                    timeout: Double = 60) throws -> Result {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let child = try ChildProcess(name: (executable as NSString).lastPathComponent, executable: executable, arguments: arguments,
                                     environment: environment, logPath: directory + "/stdout", errorLogPath: directory + "/stderr")
        let end = child.wait(timeout: timeout) ?? {
            Issue.record("\(executable) did not end within \(Int(timeout)) s")
            return child.stop(signal: SIGKILL, timeout: 0)
        }()
        let status: Int32 = switch end {
        case let .exited(code): code
        case let .signaled(signal): 128 + signal
        }
        func read(_ file: String) -> String { (try? String(contentsOfFile: directory + "/" + file, encoding: .utf8)) ?? "" }
        return Result(status: status, stdout: read("stdout"), stderr: read("stderr"))
    }

    static func temporaryDirectory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("secirc-it-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}

/// Awaits a condition with a deadline, checking it every `interval` (an event we cannot be
/// notified of, like another process becoming ready).
func eventually(_ what: String, within seconds: Double = 60, interval: Duration = .milliseconds(50),
                _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now.advanced(by: .milliseconds(Int64(seconds * 1000)))
    var lastError: (any Error)?
    while ContinuousClock.now < deadline {
        do {
            if try await condition() { return }
            lastError = nil
        } catch {
            lastError = error // e.g. not listening yet; said if it is still so at the deadline
        }
        try await Task.sleep(for: interval)
    }
    let detail = lastError.map { " (last error: \($0))" } ?? ""
    Issue.record("timed out waiting for \(what)\(detail)")
    throw CancellationError()
}
