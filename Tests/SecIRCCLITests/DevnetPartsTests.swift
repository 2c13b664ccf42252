import Foundation
import Glibc
import SecIRCAPI
@testable import SecIRCCLI
import Testing

/// The pieces of `secirc devnet` that need no daemon: child processes, configuration text,
/// refusals before anything starts. (The whole devnet runs in IntegrationTests/DevnetTests.)
@Suite struct DevnetPartsTests {
    static func temporaryDirectory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("secirc-cli-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Polls `child` until it ends (deadline 10 s).
    static func termination(of child: ChildProcess) throws -> ChildProcess.Termination {
        let deadline = ContinuousClock.now.advanced(by: .seconds(10))
        while ContinuousClock.now < deadline {
            if let end = child.poll() { return end }
            usleep(10_000)
        }
        child.send(SIGKILL)
        throw CLIError("child did not end")
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

    @Test func childHasItsOwnProcessGroupAndStopsOnSIGTERM() throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let child = try ChildProcess(name: "sleep", executable: "/bin/sleep", arguments: ["30"], environment: [:],
                                     logPath: dir + "/sleep.log")
        #expect(child.isRunning)
        #expect(getpgid(child.pid) == child.pid, "Ctrl-C in the terminal must not reach it directly")
        child.send(SIGTERM)
        #expect(try Self.termination(of: child) == .signaled(SIGTERM))
        #expect(ChildProcess.Termination.signaled(9).description == "was killed by signal 9")
    }

    @Test func spawnFailureIsAnError() throws {
        #expect(throws: SystemCallError.self) {
            try ChildProcess(name: "x", executable: "/nonexistent/secirc-relay", arguments: [], environment: [:], logPath: "/dev/null")
        }
    }

    @Test func missingDaemonsAreRefusedBeforeAnythingIsMade() throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let devnet = Devnet(options: DevnetOptions(binDirectory: dir, directory: dir + "/net"))
        #expect(throws: DevnetError.missingExecutable(path: dir + "/secirc-relay")) { try devnet.start() }
        #expect(!FileManager.default.fileExists(atPath: dir + "/net"))
        #expect(DevnetError.missingExecutable(path: "/b/secirc-client").description
            == "/b/secirc-client not found: build it (swift build --product secirc-client) or pass --bin-dir")
    }

    @Test func waitsEndOnTheirDeadlineOrAnInterruption() throws {
        var options = DevnetOptions(binDirectory: "/nonexistent")
        options.stageTimeout = 0.1
        let devnet = Devnet(options: options)
        #expect(throws: DevnetError.timedOut(waitingFor: "nothing", seconds: 0.1, lastProblem: "boom")) {
            try devnet.waitFor("nothing") { () throws -> Bool? in throw CLIError("boom") }
        }
        #expect(try devnet.waitFor("a value") { 7 } == 7)
        let stop = StopFlag()
        stop.set()
        let interrupted = Devnet(options: options, interrupted: { stop.isSet })
        #expect(throws: DevnetError.interrupted) { try interrupted.waitFor("anything") { nil as Int? } }
    }

    @Test func yamlScalarsAreQuoted() {
        #expect(Devnet.yaml("off") == "'off'")
        #expect(Devnet.yaml("/tmp/it's here") == "'/tmp/it''s here'")
    }
}
