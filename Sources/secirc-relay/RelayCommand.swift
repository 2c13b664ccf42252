// secirc-relay: the relay daemon. Thin: parses flags, loads configuration, hands over to SecIRCRelay.
import ArgumentParser
import Dispatch
import Foundation
import Logging
import SecIRCConfig
import SecIRCRelay

@main
struct RelayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "secirc-relay",
        abstract: "secIRC relay: forwards onion packets over UDP and keeps mailboxes for offline users.",
        discussion: """
            Without --config/--security every key takes its default (see config/*.yaml). \
            SECIRC_SERVER_<KEY_PATH> and SECIRC_SECURITY_<KEY_PATH> environment variables override single keys, \
            e.g. SECIRC_SERVER_UDP_LISTEN=0.0.0.0:6690. Exit status 78 means the configuration was refused, \
            1 that the relay could not start (a key file or an address in use). SIGTERM or SIGINT drains and stops it.
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

    @Flag(name: .customLong("print-identity"),
          help: "Print this relay's identity key (made in the data directory if absent), and with http.tls: self_signed its HTTPS key's SPKI pin, and exit: what the other members of a first ring list in security.yaml.")
    var printIdentity = false

    func run() async throws {
        let settings: RelaySettings
        do {
            settings = try RelaySettings.load(serverPath: config, securityPath: security, dataDirectory: dataDir,
                                              udpListen: udpListen, httpListen: httpListen)
        } catch {
            FileHandle.standardError.write(Data("secirc-relay: \(error)\n".utf8))
            throw ExitCode(78)
        }
        if printIdentity {
            do {
                print(try RelayIdentity.printable(settings: settings))
            } catch {
                FileHandle.standardError.write(Data("secirc-relay: \(error)\n".utf8))
                throw ExitCode(1)
            }
            return
        }
        let logLevel = LogLevelControl(settings.server.logLevel)
        LoggingSystem.bootstrap { label in logLevel.handler(label: label) }
        let logger = Logger(label: "secirc.relay")

        let node: RelayNode
        do {
            node = try RelayNode(settings: settings, logLevel: logLevel, logger: logger)
            try node.start()
        } catch let error as ConfigError {
            FileHandle.standardError.write(Data("secirc-relay: \(error)\n".utf8))
            throw ExitCode(78)
        } catch {
            FileHandle.standardError.write(Data("secirc-relay: cannot start: \(error)\n".utf8))
            throw ExitCode(1)
        }
        let banner = ["relay id \(node.identity.id)", "udp \(node.udpAddress)", "http port \(node.httpPort)"]
            + (node.tlsPin.map { ["tls spki pin \($0)"] } ?? []) + settings.summary
        FileHandle.standardOutput.write(Data((banner.joined(separator: "\n") + "\n").utf8))

        let signals = [SIGTERM, SIGINT].map { number -> any DispatchSourceSignal in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { node.shutdown() }
            source.resume()
            return source
        }
        await node.waitUntilStopped()
        signals.forEach { $0.cancel() }
    }
}
