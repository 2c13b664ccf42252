import Foundation
import Glibc
import SecIRCAPI
import SecIRCLauncher
import Testing

/// Child processes and free ports, without a daemon.
@Suite struct ChildProcessTests {
    struct Timeout: Error {}

    static func temporaryDirectory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("secirc-launcher-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Polls `child` until it ends (deadline 10 s).
    static func termination(of child: ChildProcess) throws -> ChildProcess.Termination {
        if let end = child.wait(timeout: 10) { return end }
        child.send(SIGKILL)
        throw Timeout()
    }

    @Test func childLogsBothStreamsAndReportsItsExitStatus() throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let child = try ChildProcess(name: "sh", executable: "/bin/sh",
                                     arguments: ["-c", "echo \"relay id abc\"; echo \"http port 8001\"; echo \"$GREETING\" >&2; exit 3"],
                                     environment: ["GREETING": "hello from stderr"], logPath: dir + "/sh.log")
        #expect(try Self.termination(of: child) == .exited(3))
        #expect(child.banner("http port ") == "8001")
        #expect(child.banner("relay id ") == "abc")
        #expect(child.banner("api ") == nil)
        #expect(child.logTail(1) == "hello from stderr")
        #expect(!child.isRunning)
    }

    @Test func stderrToAFileOfItsOwnAndEachChildSeesOnlyItsOwnLog() throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let first = try ChildProcess(name: "one", executable: "/bin/sh", arguments: ["-c", "echo one; echo oops >&2"],
                                     environment: [:], logPath: dir + "/out.log", errorLogPath: dir + "/err.log")
        #expect(try Self.termination(of: first) == .exited(0))
        #expect(first.log == "one\n")
        #expect(try String(contentsOfFile: dir + "/err.log", encoding: .utf8) == "oops\n")
        // A second run appends to the same log; its banner and tail are its own.
        let second = try ChildProcess(name: "two", executable: "/bin/sh", arguments: ["-c", "echo two"],
                                      environment: [:], logPath: dir + "/out.log")
        #expect(try Self.termination(of: second) == .exited(0))
        #expect(second.log == "two\n" && second.banner("one") == nil)
        #expect(try String(contentsOfFile: dir + "/out.log", encoding: .utf8) == "one\ntwo\n")
    }

    @Test func childHasItsOwnProcessGroupAndStopsOnSIGTERM() throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let child = try ChildProcess(name: "sleep", executable: "/bin/sleep", arguments: ["30"], environment: [:],
                                     logPath: dir + "/sleep.log")
        #expect(child.isRunning)
        #expect(getpgid(child.pid) == child.pid, "Ctrl-C in the terminal must not reach it directly")
        #expect(child.stop(timeout: 10) == .signaled(SIGTERM))
        #expect(child.termination == .signaled(SIGTERM))
        #expect(ChildProcess.Termination.signaled(9).description == "was killed by signal 9")
    }

    @Test func aChildThatIgnoresSIGTERMIsKilledAfterTheTimeout() throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // An ignored signal stays ignored across exec.
        let child = try ChildProcess(name: "stubborn", executable: "/bin/sh", arguments: ["-c", "trap '' TERM; exec sleep 30"],
                                     environment: [:], logPath: dir + "/stubborn.log")
        #expect(child.wait(timeout: 0.2) == nil)
        #expect(child.stop(timeout: 0.3) == .signaled(SIGKILL))
    }

    @Test func spawnFailureIsAnError() throws {
        #expect(throws: SystemCallError.self) {
            try ChildProcess(name: "x", executable: "/nonexistent/secirc-relay", arguments: [], environment: [:], logPath: "/dev/null")
        }
    }

    @Test func freePortsCanBeBound() throws {
        for (port, type) in [(try FreePort.tcp(), SOCK_STREAM), (try FreePort.udp(), SOCK_DGRAM)] {
            #expect(port > 0)
            let fd = socket(AF_INET, Int32(type.rawValue), 0)
            defer { close(fd) }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = port.bigEndian
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            #expect(bound == 0, "port \(port)")
        }
    }
}
