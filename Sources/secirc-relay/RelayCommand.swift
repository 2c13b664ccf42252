// secirc-relay: the relay daemon. Thin: parses flags, loads configuration, hands over to SecIRCRelay.
import ArgumentParser
import Foundation
import Logging
import SecIRCConfig
import SecIRCCrypto
import SecIRCRelay

@main
struct RelayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "secirc-relay",
        abstract: "secIRC relay: forwards onion packets over UDP and keeps mailboxes for offline users.",
        discussion: """
            Without --config/--security every key takes its default (see config/*.yaml). \
            SECIRC_SERVER_<KEY_PATH> and SECIRC_SECURITY_<KEY_PATH> environment variables override single keys, \
            e.g. SECIRC_SERVER_UDP_LISTEN=0.0.0.0:6690. Exit status 78 means the configuration was refused.
            """)

    @Option(name: .long, help: ArgumentHelp("server.yaml to read.", valueName: "file"))
    var config: String?

    @Option(name: .long, help: ArgumentHelp("security.yaml to read.", valueName: "file"))
    var security: String?

    @Option(name: .customLong("data-dir"), help: ArgumentHelp("Directory for keys and tokens (overrides relay.data_dir).", valueName: "dir"))
    var dataDir: String?

    @Option(name: .customLong("udp-listen"), help: ArgumentHelp("UDP address (overrides udp.listen).", valueName: "host:port"))
    var udpListen: String?

    @Option(name: .customLong("http-listen"), help: ArgumentHelp("HTTP address (overrides http.listen).", valueName: "host:port"))
    var httpListen: String?

    func run() throws {
        let settings: RelaySettings
        do {
            settings = try RelaySettings.load(serverPath: config, securityPath: security, dataDirectory: dataDir,
                                              udpListen: udpListen, httpListen: httpListen)
        } catch {
            FileHandle.standardError.write(Data("secirc-relay: \(error)\n".utf8))
            throw ExitCode(78)
        }
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = Logger.Level(rawValue: settings.server.logLevel.rawValue) ?? .info
            return handler
        }
        let logger = Logger(label: "secirc.relay")

        var rng = SystemRandom()
        let identity: RelayIdentity
        do {
            identity = try RelayIdentity.loadOrCreate(dataDirectory: settings.server.relay.dataDirectory, using: &rng)
        } catch {
            FileHandle.standardError.write(Data("secirc-relay: \(error)\n".utf8))
            throw ExitCode(1)
        }
        logger.info("\(identity.created ? "created" : "loaded") identity key",
                    metadata: ["data_dir": "\(settings.server.relay.dataDirectory)"])
        print("relay id \(identity.id)")
        for line in settings.summary { print(line) }
    }
}
