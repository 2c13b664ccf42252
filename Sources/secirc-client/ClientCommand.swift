// secirc-client: the client daemon. Thin: parses flags, loads configuration, hands over to SecIRCClient.
import ArgumentParser
import Foundation
import Logging
import SecIRCClient
import SecIRCConfig

@main
struct ClientCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "secirc-client",
        abstract: "secIRC client daemon: your identity, contacts and end-to-end encrypted messages, with a local HTTP API.",
        discussion: """
            Without --config/--security every key takes its default (see config/client.yaml). The client \
            trusts the first ring listed in security.yaml: a relay directory is used only when those keys \
            signed it. SECIRC_CLIENT_<KEY_PATH> and SECIRC_SECURITY_<KEY_PATH> environment variables override \
            single keys. The API token is written to <data-dir>/api.token (0600). Exit status 78 means the \
            configuration was refused, 1 that the daemon could not start. SIGTERM or SIGINT stops it.
            """)

    @Option(name: .long, help: ArgumentHelp("client.yaml to read.", valueName: "file"))
    var config: String?

    @Option(name: .long, help: ArgumentHelp("security.yaml to read (the first ring to trust).", valueName: "file"))
    var security: String?

    @Option(name: .customLong("data-dir"), help: ArgumentHelp("Directory for keys and messages (overrides client.data_dir).", valueName: "dir"))
    var dataDir: String?

    @Option(name: .customLong("api-listen"), help: ArgumentHelp("Loopback address of the HTTP API (overrides api.listen).", valueName: "host:port"))
    var apiListen: String?

    func run() throws {
        let settings: ClientSettings
        do {
            settings = try ClientSettings.load(configPath: config, securityPath: security, dataDirectory: dataDir, apiListen: apiListen)
        } catch {
            FileHandle.standardError.write(Data("secirc-client: \(error)\n".utf8))
            throw ExitCode(78)
        }
        let level = settings.client.logLevel
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = Logger.Level(rawValue: level.rawValue) ?? .info
            return handler
        }
        let logger = Logger(label: "secirc.client")
        let node: ClientNode
        // SIGTERM and SIGINT are blocked before any thread starts (threads inherit the mask) and
        // taken by `sigwait` below: no libdispatch signal source, whose global queue would start
        // libdispatch's worker-pool monitor, a timer that wakes the process every second.
        var stopSignals = sigset_t()
        sigemptyset(&stopSignals)
        sigaddset(&stopSignals, SIGTERM)
        sigaddset(&stopSignals, SIGINT)
        pthread_sigmask(SIG_BLOCK, &stopSignals, nil)
        do {
            node = try ClientNode(settings: settings, logger: logger)
            try node.start()
        } catch {
            FileHandle.standardError.write(Data("secirc-client: cannot start: \(error)\n".utf8))
            throw ExitCode(1)
        }
        let banner = ["client id \(node.messenger.identity.id)", "api http://\(settings.client.api.listen.host):\(node.apiPort)",
                      "token \(node.tokenPath)"] + settings.summary
        FileHandle.standardOutput.write(Data((banner.joined(separator: "\n") + "\n").utf8))

        var received: Int32 = 0
        sigwait(&stopSignals, &received)
        node.shutdown()
    }
}
