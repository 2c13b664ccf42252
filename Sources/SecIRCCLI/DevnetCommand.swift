import ArgumentParser
import Foundation
import SecIRCAPI
import SecIRCLauncher

/// `secirc devnet`: five relays (a first ring of three) and two clients on this machine.
struct DevnetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "devnet",
        abstract: "Run a secIRC network on this machine: relays a, b, c (the first ring, 2 of 3 sign), d, e and clients alice, bob and carol, contacts of each other and in a group \"devnet\".",
        discussion: """
            Every process listens on 127.0.0.1 at a free port; their configuration, data and logs (<name>.log) go to --dir \
            (default: a new directory under /tmp, removed on a clean stop), and <dir>/devnet.json lists the endpoints and \
            the ring. Relays serve HTTPS with self-signed certificates that every URL pins (#spki=); --plain-http turns \
            that off. Runs until Ctrl-C or SIGTERM, then stops everything. With --smoke, alice and bob send each other a \
            message and alice posts to the group, and it exits: 0 when both messages were delivered and received and \
            bob and carol read the post, each within 60 s.
            """)

    @Option(name: .long, help: ArgumentHelp("Directory for configuration, data and logs (kept).", valueName: "dir"))
    var dir: String?

    @Flag(name: .long, help: "Check that alice and bob can message each other and the group reads alice's post, then stop (exit 0 when they can).")
    var smoke = false

    @Option(name: .customLong("bin-dir"), help: ArgumentHelp(
        "Where secirc-relay and secirc-client are (default: next to this secirc).", valueName: "dir"))
    var binDir: String?

    @Option(name: .customLong("mean-delay-ms"), help: ArgumentHelp(
        "The network's mean per-hop mixing delay (security.yaml network.mean_delay_ms; default 50).", valueName: "ms"))
    var meanDelay: Int?

    @Option(name: .long, help: ArgumentHelp(
        "First-ring members among the relays (3: a, b and c vote, 2 of 3 sign each directory; 1: a signs alone).", valueName: "n"))
    var ring = 3

    @Flag(name: .customLong("plain-http"), help: "Relays serve plain HTTP (default: HTTPS with self-signed certificates, pinned).")
    var plainHTTP = false

    static let relayNames = ["a", "b", "c", "d", "e"]
    static let clientNames = ["alice", "bob", "carol"]
    /// The group of every client the devnet makes (alice its admin).
    static let groupName = "devnet"

    func validate() throws {
        if let meanDelay, !(0...60_000).contains(meanDelay) { throw ValidationError("--mean-delay-ms must be 0 to 60000.") }
        guard (1...Self.relayNames.count).contains(ring) else {
            throw ValidationError("--ring must be 1 to \(Self.relayNames.count) (the devnet has \(Self.relayNames.count) relays).")
        }
    }

    /// The running executable (`/proc/self/exe`).
    static var executablePath: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }

    func run() throws {
        let executable = Self.executablePath
        var options = DevnetOptions(binDirectory: binDir ?? (executable as NSString).deletingLastPathComponent, directory: dir)
        options.meanDelayMilliseconds = meanDelay
        options.ringSize = ring
        options.relayNames = Self.relayNames
        options.clientNames = Self.clientNames
        options.selfSignedTLS = !plainHTTP
        let stop = StopFlag()
        let signals = stop.catchSignals()
        defer { signals.forEach { $0.cancel() } }
        let devnet = Devnet(options: options, progress: { Console.out("devnet: \($0)") }, interrupted: { stop.isSet })

        let group: SecIRCAPI.Group
        do {
            try devnet.start()
            group = try devnet.makeGroup(Self.groupName)
            try devnet.writeManifest()
        } catch .interrupted {
            Console.out("devnet: interrupted; stopping")
            devnet.stop()
            if devnet.directoryIsTemporary { devnet.removeDirectory() }
            return
        } catch {
            devnet.stop()
            throw CLIError("devnet: \(error)" + (devnet.directory.isEmpty ? "" : "\n(logs and data kept in \(devnet.directory))"))
        }
        Console.out(devnet.summary(secirc: Self.displayName(of: executable), staysUp: !smoke, group: (group.name, group.id)))

        if smoke {
            Console.out("")
            Console.out("devnet: smoke test")
            var result: Devnet.SmokeResult
            do {
                result = try devnet.smoke()
                let posted = try devnet.groupSmoke(group)
                result.lines += posted.lines
                result.passed = result.passed && posted.passed
            } catch {
                devnet.stop()
                throw CLIError("devnet: smoke test: \(error)\n(logs and data kept in \(devnet.directory))")
            }
            result.lines.forEach { Console.out("  \($0)") }
            devnet.stop()
            guard result.passed else {
                throw CLIError("devnet: smoke test failed (logs and data kept in \(devnet.directory))")
            }
            Console.out("devnet: smoke test passed")
            if devnet.directoryIsTemporary { devnet.removeDirectory() }
            return
        }

        // Show the network at work: alice and bob greet each other through 3-hop onion paths.
        Console.out("")
        Console.out("devnet: alice and bob greet each other (end-to-end encrypted, through 3-hop onion paths)")
        if let greeting = try? devnet.smoke(label: "hello") {
            greeting.lines.forEach { Console.out("  \($0)") }
            if !greeting.passed { Console.out("devnet: the greeting did not get through; see the logs in \(devnet.directory)") }
        }
        Console.out("devnet: alice greets the group \"\(group.name)\" (one post, read by bob and carol from its group mailbox)")
        if let greeting = try? devnet.groupSmoke(group, label: "hello") {
            greeting.lines.forEach { Console.out("  \($0)") }
            if !greeting.passed { Console.out("devnet: the group greeting did not get through; see the logs in \(devnet.directory)") }
        }
        Console.out("devnet: up; Ctrl-C stops everything")

        while !stop.isSet {
            do {
                try devnet.checkChildren()
            } catch {
                devnet.stop()
                throw CLIError("devnet: \(error)\n(logs and data kept in \(devnet.directory))")
            }
            usleep(200_000)
        }
        Console.out("devnet: stopping")
        devnet.stop()
        if devnet.directoryIsTemporary { devnet.removeDirectory() }
        Console.out("devnet: stopped")
    }

    /// How to type the running executable: `secirc` when PATH finds this one, else the path it
    /// was started by (`.build/debug/secirc`), else its path relative to the working directory
    /// when it is below it, else the absolute path.
    static func displayName(of executable: String) -> String {
        func resolved(_ path: String) -> String { URL(fileURLWithPath: path).resolvingSymlinksInPath().path }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        for directory in path.split(separator: ":") where resolved(directory + "/secirc") == executable {
            return "secirc"
        }
        let typed = CommandLine.arguments.first ?? ""
        if typed.contains("/"), resolved(typed) == executable { return typed }
        let cwd = FileManager.default.currentDirectoryPath
        if executable.hasPrefix(cwd + "/") { return String(executable.dropFirst(cwd.count + 1)) }
        return executable
    }
}
